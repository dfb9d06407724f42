"""AF-KAN and ReLU-KAN networks: stacks of :class:`kanflow.layers.AFKANLayer`."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn

from kanflow.checks import as_widths
from kanflow.layers.afkan import AFKANLayer, relu_kan_layer

__all__ = ["af_kan", "relu_kan"]


def _check_widths(widths: Sequence[int]) -> tuple[int, ...]:
    return as_widths(widths)


def af_kan(widths: Sequence[int], **layer_kwargs) -> nn.Sequential:
    """AF-KAN ``widths = (in, hidden..., out)``. ``[batch, in] -> [batch, out]``.

    ``layer_kwargs`` go to every :class:`AFKANLayer` (``activation``,
    ``combination``, ``grid_size``, ``order``, ``basis_norm``, ...).
    """
    widths = _check_widths(widths)
    return nn.Sequential([AFKANLayer(w, **layer_kwargs) for w in widths[1:]])


def relu_kan(widths: Sequence[int], **layer_kwargs) -> nn.Sequential:
    """ReLU-KAN ``widths = (in, hidden..., out)``. ``[batch, in] -> [batch, out]``."""
    widths = _check_widths(widths)
    return nn.Sequential([relu_kan_layer(w, **layer_kwargs) for w in widths[1:]])
