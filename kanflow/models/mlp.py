"""Fully connected baseline. ``[batch, widths[0]] -> [batch, widths[-1]]``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp
from jax import Array


class MLP(nn.Module):
    """Dense layers ``widths = (in, hidden..., out)`` with ``activation`` between them."""

    widths: Sequence[int]
    activation: Callable[[Array], Array] = nn.silu
    param_dtype: jnp.dtype = jnp.float32

    def __post_init__(self):
        widths = tuple(self.widths)
        if len(widths) < 2 or not all(isinstance(w, int) and w >= 1 for w in widths):
            raise ValueError(f"widths must be >= 2 positive ints (in, ..., out), got {widths!r}")
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Array) -> Array:
        if x.ndim < 1 or x.shape[-1] != self.widths[0]:
            raise ValueError(f"MLP expects inputs [..., {self.widths[0]}], got shape {x.shape}")
        for l, width in enumerate(self.widths[1:]):
            x = nn.Dense(width, param_dtype=self.param_dtype, name=f"dense_{l}")(x)
            if l < len(self.widths) - 2:
                x = self.activation(x)
        return x

    @staticmethod
    def width_for_params(n_in: int, n_out: int, depth: int, target: int) -> int:
        """Hidden width whose ``depth``-hidden-layer MLP has closest to ``target`` parameters."""

        def count(w: int) -> int:
            return (n_in + 1) * w + (depth - 1) * (w + 1) * w + (w + 1) * n_out

        return min(range(1, 4096), key=lambda w: abs(count(w) - target))
