"""Small image classifiers: CNN, ConvKAN and S-ConvKAN (``[B, H, W, C] -> [B, classes]``).

``len(channels)`` convolution blocks (kernel ``kernel_size``, ``SAME``
padding); after every block but the last a 2×2 average pool (while the image
is at least 2 pixels wide); then a global average pool and a linear head.

* ``conv="cnn"``: ``flax.linen.Conv`` + ``activation`` (the baseline);
* ``conv="kan"``: :class:`kanflow.layers.KANConv` over ``basis``;
* ``conv="skan"``: :class:`kanflow.layers.SKANConv` (S-ConvKAN), per-layer
  ``selections`` after :func:`select_conv`.

KAN blocks are followed by a LayerNorm over channels (``norm``), which keeps
the next layer's inputs on its grid; the CNN uses none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp
from jax import Array

from kanflow import activations as _act
from kanflow.layers.conv import KANConv, SKANConv
from kanflow.layers.skan import DEFAULT_SPACES, SKANLayer, Space, select_spaces

__all__ = ["CONVS", "ConvNet", "select_conv"]

CONVS = ("cnn", "kan", "skan")


class ConvNet(nn.Module):
    """CNN / ConvKAN / S-ConvKAN classifier. ``[B, H, W, C] -> [B, num_classes]``.

    Attributes:
      num_classes: head outputs.
      channels: output channels of each convolution block.
      conv: one of :data:`CONVS`.
      kernel_size: convolution window.
      activation: CNN activation (name, function or learnable class).
      basis, grid_size, order: KANConv edge functions.
      spaces, selections: SKANConv pool and per-layer selections.
      norm: LayerNorm after each KAN block.
      param_dtype: dtype of the parameters.
    """

    num_classes: int
    channels: Sequence[int] = (8, 16)
    conv: str = "cnn"
    kernel_size: int = 3
    activation: Any = "relu"
    basis: str = "bspline"
    grid_size: int = 5
    order: int = 3
    spaces: Sequence[Space | str] = DEFAULT_SPACES
    selections: tuple[tuple[int, ...] | None, ...] | None = None
    norm: bool = True
    param_dtype: jnp.dtype = jnp.float32

    def __post_init__(self):
        if self.conv not in CONVS:
            raise ValueError(f"conv must be one of {CONVS}, got {self.conv!r}")
        if not self.channels or not all(isinstance(c, int) and c >= 1 for c in self.channels):
            raise ValueError(f"channels must be positive ints, got {self.channels!r}")
        super().__post_init__()

    @nn.compact
    def __call__(self, images: Array, train: bool | None = None) -> Array:
        if images.ndim != 4:
            raise ValueError(f"ConvNet expects images [batch, H, W, C], got shape {images.shape}")
        x, pd = images, self.param_dtype
        for i, c in enumerate(self.channels):
            if self.conv == "cnn":
                x = nn.Conv(c, (self.kernel_size,) * 2, padding="SAME", param_dtype=pd,
                            name=f"conv_{i}")(x)  # fmt: skip
                x = _act.apply(_act.build(self.activation, name=f"act_{i}"), x, train)
            else:
                if self.conv == "kan":
                    layer = KANConv(c, self.kernel_size, basis=self.basis,
                                    grid_size=self.grid_size, order=self.order, param_dtype=pd,
                                    name=f"conv_{i}")  # fmt: skip
                else:
                    sel = None if self.selections is None else self.selections[i]
                    layer = SKANConv(c, self.kernel_size, spaces=self.spaces, selection=sel,
                                     param_dtype=pd, name=f"conv_{i}")  # fmt: skip
                x = layer(x)
                if self.norm:
                    x = nn.LayerNorm(param_dtype=pd, name=f"norm_{i}")(x)
            if i < len(self.channels) - 1 and min(x.shape[1:3]) >= 2:
                x = nn.avg_pool(x, (2, 2), strides=(2, 2))
        x = jnp.mean(x, axis=(1, 2))
        return nn.Dense(self.num_classes, param_dtype=pd, name="head")(x)


def select_conv(model: ConvNet, variables: dict[str, Any]) -> tuple[ConvNet, dict[str, Any]]:
    """S-ConvKAN stage 2: every output channel keeps its strongest space."""
    if model.conv != "skan":
        raise ValueError("select_conv needs an S-ConvKAN (conv='skan')")
    params = dict(variables["params"])
    sels = []
    for i, c in enumerate(model.channels):
        layer = SKANLayer(c, model.spaces, None, param_dtype=model.param_dtype)
        new_layer, p = select_spaces(layer, params[f"conv_{i}"]["skan"])
        params[f"conv_{i}"] = {"skan": p}
        sels.append(new_layer.selection)
    rest = {k: v for k, v in variables.items() if k != "params"}
    return model.clone(selections=tuple(sels)), {"params": params, **rest}
