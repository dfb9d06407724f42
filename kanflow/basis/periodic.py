"""Fourier features. ``[...] -> [..., 2 * n_freq]``, and their basis-major value and derivative."""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from kanflow.basis._once import computed_once
from kanflow.basis._trig import sincos

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


def fourier_value_and_derivative(x: ArrayLike, n_freq: int) -> tuple[Array, Array]:
    """``(features, d features / dx)`` of :func:`fourier`, basis-major.

    ``x [..., in] -> ([..., 2 * n_freq, in], [..., 2 * n_freq, in])``: planes
    ``cos(m x)`` then ``sin(m x)``, and their derivatives ``-m sin(m x)``,
    ``m cos(m x)``. One ``cos`` and one ``sin`` per element; the higher
    frequencies by angle addition (rounding grows like ``m`` times the
    precision: 1.5e-6 at ``m = 32`` in float32 on [-4, 4]). Differentiable again
    in ``x``.
    """
    if not isinstance(n_freq, int) or n_freq < 1:
        raise ValueError(f"n_freq must be an int >= 1, got {n_freq!r}")
    x = jnp.asarray(x)
    x = x.astype(jnp.result_type(x.dtype, jnp.float32))
    # cos x and sin x once, not in every plane that reads them (measured: a
    # Fourier KAN layer's fwd+bwd 2.8x -> 1.8x the equal-FLOP matmul)
    s1, c1 = sincos(x)
    c1, s1 = computed_once([c1, s1], x)
    cos, sin = [c1], [s1]
    for _ in range(n_freq - 1):
        cos.append(cos[-1] * c1 - sin[-1] * s1)
        sin.append(sin[-1] * c1 + cos[-2] * s1)
    m = jnp.arange(1, n_freq + 1, dtype=x.dtype)[:, None]
    c, s = jnp.stack(cos, -2), jnp.stack(sin, -2)
    return jnp.concatenate([c, s], -2), jnp.concatenate([-m * s, m * c], -2)
