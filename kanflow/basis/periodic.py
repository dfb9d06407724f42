"""Fourier features. ``[...] -> [..., 2 * n_freq]``."""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

__all__ = ["fourier"]


def fourier(x: ArrayLike, n_freq: int) -> Array:
    """``cos(m x)`` for ``m = 1 .. n_freq``, then ``sin(m x)`` for the same ``m``.

    ``[...] -> [..., 2 * n_freq]``.
    """
    if not isinstance(n_freq, int) or n_freq < 1:
        raise ValueError(f"n_freq must be an int >= 1, got {n_freq!r}")
    x = jnp.asarray(x)
    x = x.astype(jnp.result_type(x.dtype, jnp.float32))
    mx = x[..., None] * jnp.arange(1, n_freq + 1, dtype=x.dtype)
    return jnp.concatenate([jnp.cos(mx), jnp.sin(mx)], axis=-1)
