"""Fourier features. ``[...] -> [..., 2 * n_freq]``."""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

__all__ = ["fourier", "fourier_value_and_derivative"]


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


def fourier_value_and_derivative(x: ArrayLike, n_freq: int, axis: int = -1) -> tuple[Array, Array]:
    """:func:`fourier` and its derivative in ``x``, the frequencies on ``axis``.

    ``d/dx cos(m x) = -m sin(m x)`` and ``d/dx sin(m x) = m cos(m x)`` reuse the
    values: ``2 n_freq`` transcendentals per point instead of ``4 n_freq``.
    ``axis=-2`` gives the basis-major layout ``[..., 2 n_freq, in]`` of KAN layers.
    """
    if not isinstance(n_freq, int) or n_freq < 1:
        raise ValueError(f"n_freq must be an int >= 1, got {n_freq!r}")
    x = jnp.asarray(x)
    x = x.astype(jnp.result_type(x.dtype, jnp.float32))
    axis = axis % (x.ndim + 1)
    m = jnp.expand_dims(
        jnp.arange(1, n_freq + 1, dtype=x.dtype), tuple(range(1, x.ndim + 1 - axis))
    )
    mx = jnp.expand_dims(x, axis) * m
    cos, sin = jnp.cos(mx), jnp.sin(mx)
    value = jnp.concatenate([cos, sin], axis=axis)
    return value, jnp.concatenate([-m * sin, m * cos], axis=axis)
