"""2-D convolutions whose kernel entries are KAN edges: KANConv and SKANConv.

``[batch, H, W, C] -> [batch, H', W', features]`` (NHWC), with ``strides`` and
``padding`` as in ``flax.linen.Conv`` (``"SAME"``, ``"VALID"``, an int, or
per-dimension ``(lo, hi)`` pairs). Every output pixel is a KAN layer applied to
its receptive field: the patch's ``C * kh * kw`` values (ordered channel, row,
column) are the layer's inputs, each with a learnable function to every
output channel, summed. KANConv uses :class:`kanflow.layers.KANLayer` (any
basis, submodule ``kan``); SKANConv uses :class:`kanflow.layers.SKANLayer`
(every output channel selects its space; submodule ``skan``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import numpy as np
from jax import Array

from kanflow.layers.config import EdgeParametrisation, KANConfig, Space
from kanflow.layers.kan import KANLayer
from kanflow.layers.skan import (
    DEFAULT_SPACES,
    SKANLayer,
    keep_inputs,
    keep_nodes,
    select_spaces,
)

__all__ = ["KANConv", "SKANConv", "extract_patches"]

Padding = str | int | Sequence[tuple[int, int]]


def _pair(v: int | Sequence[int], what: str) -> tuple[int, int]:
    t = (v, v) if isinstance(v, int) else tuple(v)
    if len(t) != 2 or not all(isinstance(i, int) and i >= 1 for i in t):
        raise ValueError(f"{what} must be an int >= 1 or a pair of them, got {v!r}")
    return t


def _padding(padding: Padding):
    if isinstance(padding, str):
        if padding.upper() not in ("SAME", "VALID"):
            raise ValueError(f"padding must be 'SAME', 'VALID', an int or pairs, got {padding!r}")
        return padding.upper()
    if isinstance(padding, int):
        return ((padding, padding), (padding, padding))
    return tuple((int(lo), int(hi)) for lo, hi in padding)


def extract_patches(
    x: Array, kernel_size: tuple[int, int], strides: tuple[int, int], padding: Padding
) -> Array:
    """Receptive fields. ``[B, H, W, C] -> [B, H', W', C * kh * kw]`` (channel, row, col)."""
    return jax.lax.conv_general_dilated_patches(
        x, kernel_size, strides, _padding(padding), dimension_numbers=("NHWC", "HWIO", "NHWC")
    )


def _check_images(x: Array, what: str, expected_c: int | None) -> None:
    if x.ndim != 4:
        raise ValueError(f"{what} expects images [batch, H, W, channels], got shape {x.shape}")
    if expected_c is not None and x.shape[-1] != expected_c:
        raise ValueError(
            f"{what} was built for {expected_c} input channels: expects images "
            f"[batch, H, W, {expected_c}], got shape {x.shape}"
        )


def _receptive_fields(conv: nn.Module, x: Array, what: str, n_in: int | None) -> Array:
    """Checks ``x`` against the built layer (``n_in`` edge inputs, if built); its patches."""
    k, s = _pair(conv.kernel_size, "kernel_size"), _pair(conv.strides, "strides")
    _check_images(x, what, None if n_in is None else n_in // (k[0] * k[1]))
    return extract_patches(x, k, s, conv.padding)


class KANConv(KANConfig):
    """KAN convolution. ``[B, H, W, C] -> [B, H', W', features]``.

    Attributes:
      features: output channels.
      kernel_size, strides: ints or pairs.
      padding: ``"SAME"``, ``"VALID"``, an int or ``((lo, hi), (lo, hi))``.
      keyword-only: the edge functions, :class:`kanflow.layers.KANConfig`.
    """

    features: int
    kernel_size: int | Sequence[int] = 3
    strides: int | Sequence[int] = 1
    padding: Padding = "SAME"

    @nn.compact
    def __call__(self, x: Array) -> Array:
        n_in = None
        if self.has_variable("params", "kan"):
            n_in = self.variables["params"]["kan"]["coef"].shape[0]
        patches = _receptive_fields(self, x, "KANConv", n_in)
        return KANLayer(self.features, **self.kan_settings(), name="kan")(patches)


class SKANConv(EdgeParametrisation):
    """Selectable-space KAN convolution. ``[B, H, W, C] -> [B, H', W', features]``.

    Its kernel is a :class:`kanflow.layers.SKANLayer` (submodule ``skan``) over
    the patch rows ``(input channel, kernel row, kernel column)``; the
    parameter-tree surgery of S-KAN's stages (:meth:`select`,
    :meth:`keep_channels`, :meth:`keep_input_channels`) lives here, with the
    layout it depends on.

    Attributes:
      features: output channels (each selects a space).
      kernel_size, strides, padding: as :class:`KANConv`.
      spaces, selection: as :class:`kanflow.layers.SKANLayer`.
      keyword-only: the edge parametrisation, :class:`kanflow.layers.EdgeParametrisation`.
    """

    features: int
    kernel_size: int | Sequence[int] = 3
    strides: int | Sequence[int] = 1
    padding: Padding = "SAME"
    spaces: Sequence[Space | str] = DEFAULT_SPACES
    selection: tuple[int, ...] | None = None

    @nn.nowrap
    def edge_layer(self, name: str | None = None) -> SKANLayer:
        """The kernel as a layer over patch rows: ``[..., C * kh * kw] -> [..., features]``.

        Unbound (``name=None``) it applies to ``{"params": params["skan"]}``.
        """
        return SKANLayer(
            self.features, self.spaces, self.selection, **self.edge_settings(), name=name
        )

    @nn.compact
    def __call__(self, x: Array) -> Array:
        n_in = None
        if self.has_variable("params", "skan"):
            p = self.variables["params"]["skan"]
            n_in = next(v for name, v in p.items() if name.startswith("coef_")).shape[0]
        patches = _receptive_fields(self, x, "SKANConv", n_in)
        return self.edge_layer(name="skan")(patches)

    @nn.nowrap
    def select(self, params: dict[str, Any]) -> tuple[SKANConv, dict[str, Any]]:
        """S-KAN stage 2 on this convolution: every output channel keeps its strongest space."""
        layer, p = select_spaces(self.edge_layer(), params["skan"])
        return self.clone(selection=layer.selection), {"skan": p}

    @nn.nowrap
    def keep_channels(self, params: dict[str, Any], keep: Sequence[int]) -> tuple[SKANConv, dict]:
        """A selected convolution with only the output channels ``keep`` (in that order)."""
        layer, p = keep_nodes(self.edge_layer(), params["skan"], keep)
        return self.clone(features=layer.features, selection=layer.selection), {"skan": p}

    @nn.nowrap
    def keep_input_channels(self, params: dict[str, Any], channels: Sequence[int]) -> dict:
        """The params restricted to input ``channels`` (their patch rows; the rest dropped)."""
        kk = math.prod(_pair(self.kernel_size, "kernel_size"))
        rows = (np.asarray(channels, dtype=int)[:, None] * kk + np.arange(kk)).ravel()
        return {"skan": keep_inputs(self.edge_layer(), params["skan"], rows)[1]}

    @nn.nowrap
    def input_channel_scores(self, edge_scores: np.ndarray) -> np.ndarray:
        """Per input channel, the largest of ``edge_scores [C * kh * kw, ...]`` over its rows."""
        kk = math.prod(_pair(self.kernel_size, "kernel_size"))
        scores = np.asarray(edge_scores)
        return scores.reshape(scores.shape[0] // kk, -1).max(axis=1)
