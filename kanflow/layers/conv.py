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

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import Array

from kanflow.layers.kan import KANLayer
from kanflow.layers.skan import DEFAULT_SPACES, SKANLayer, Space

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


class KANConv(nn.Module):
    """KAN convolution. ``[B, H, W, C] -> [B, H', W', features]``.

    Attributes:
      features: output channels.
      kernel_size, strides: ints or pairs.
      padding: ``"SAME"``, ``"VALID"``, an int or ``((lo, hi), (lo, hi))``.
      basis, grid_size, order, grid_range, base_activation: the edge functions
        (as :class:`kanflow.layers.KANLayer`).
      param_dtype: dtype of the parameters.
    """

    features: int
    kernel_size: int | Sequence[int] = 3
    strides: int | Sequence[int] = 1
    padding: Padding = "SAME"
    basis: str = "bspline"
    grid_size: int = 5
    order: int = 3
    grid_range: tuple[float, float] = (-1.0, 1.0)
    base_activation: Callable[[Array], Array] | None = nn.silu
    param_dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: Array) -> Array:
        n_in = None
        if self.has_variable("params", "kan"):
            n_in = self.variables["params"]["kan"]["coef"].shape[0]
        patches = _receptive_fields(self, x, "KANConv", n_in)
        layer = KANLayer(
            self.features,
            self.basis,
            self.grid_size,
            self.order,
            self.grid_range,
            self.base_activation,
            param_dtype=self.param_dtype,
            name="kan",
        )
        return layer(patches)


class SKANConv(nn.Module):
    """Selectable-space KAN convolution. ``[B, H, W, C] -> [B, H', W', features]``.

    Attributes:
      features: output channels (each selects a space).
      kernel_size, strides, padding: as :class:`KANConv`.
      spaces, selection, base_activation: as :class:`kanflow.layers.SKANLayer`.
      param_dtype: dtype of the parameters.
    """

    features: int
    kernel_size: int | Sequence[int] = 3
    strides: int | Sequence[int] = 1
    padding: Padding = "SAME"
    spaces: Sequence[Space | str] = DEFAULT_SPACES
    selection: tuple[int, ...] | None = None
    base_activation: Callable[[Array], Array] | None = nn.silu
    param_dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: Array) -> Array:
        n_in = None
        if self.has_variable("params", "skan"):
            p = self.variables["params"]["skan"]
            n_in = next(v for name, v in p.items() if name.startswith("coef_")).shape[0]
        patches = _receptive_fields(self, x, "SKANConv", n_in)
        layer = SKANLayer(
            self.features,
            self.spaces,
            self.selection,
            self.base_activation,
            param_dtype=self.param_dtype,
            name="skan",
        )
        return layer(patches)
