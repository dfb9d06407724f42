"""B-splines of any order on any non-decreasing knot vector (Cox-de Boor).

The recursion is evaluated level by level on whole arrays, so it fuses into a
handful of elementwise XLA ops and is safe under ``jit``, ``grad`` and
``vmap``. Repeated knots are allowed: a zero-length span contributes nothing
(the usual ``0 / 0 := 0`` convention), and gradients stay finite there.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

__all__ = ["bspline", "uniform_knots"]


def _ratio(num: Array, den: Array) -> Array:
    """``num / den`` with ``0`` wherever ``den == 0`` (NaN-free gradients)."""
    zero = den == 0
    return jnp.where(zero, 0.0, num / jnp.where(zero, 1.0, den))


def bspline(x: ArrayLike, knots: ArrayLike, order: int) -> Array:
    """All B-spline basis functions of degree ``order`` at ``x``.

    Args:
      x: points, any shape ``[...]``.
      knots: non-decreasing knot vector ``[K]``, or one knot vector per
        element of ``x`` broadcastable to ``[..., K]`` (e.g. ``[in, K]`` for
        ``x`` of shape ``[batch, in]``).
      order: polynomial degree ``k >= 0`` (3 = cubic, as in pykan).

    Returns:
      ``[..., K - order - 1]``: ``B_{c,k}(x)`` for ``c = 0 .. K - k - 2``. Spans
      are half-open ``[t_c, t_{c+1})``; every basis is zero outside
      ``[t_0, t_{K-1})``.

    Raises:
      ValueError: for ``order < 0``, too few knots, or (when the knots are
        concrete, i.e. outside ``jit``) knots that decrease anywhere.
    """
    if not isinstance(order, int) or order < 0:
        raise ValueError(f"order must be an int >= 0, got {order!r}")
    x = jnp.asarray(x)
    t = jnp.asarray(knots, dtype=jnp.result_type(x.dtype, jnp.float32))
    if t.shape[-1] < order + 2:
        raise ValueError(
            f"knots needs at least order + 2 = {order + 2} entries for order {order}, "
            f"got {t.shape[-1]}"
        )
    if not isinstance(knots, jax.core.Tracer) and np.any(np.diff(np.asarray(knots), axis=-1) < 0):
        raise ValueError("knots must be non-decreasing along the last axis")
    xe = x[..., None].astype(t.dtype)
    basis = ((xe >= t[..., :-1]) & (xe < t[..., 1:])).astype(t.dtype)
    for p in range(1, order + 1):
        left = _ratio(xe - t[..., : -(p + 1)], t[..., p:-1] - t[..., : -(p + 1)])
        right = _ratio(t[..., p + 1 :] - xe, t[..., p + 1 :] - t[..., 1:-p])
        basis = left * basis[..., :-1] + right * basis[..., 1:]
    return basis


def uniform_knots(
    grid_size: int, order: int, grid_range: tuple[float, float] = (-1.0, 1.0)
) -> Array:
    """pykan's knot vector: ``grid_size`` equal spans on ``grid_range``, extended by
    ``order`` spans of the same width on each side.

    Returns:
      ``[grid_size + 2 * order + 1]`` knots, giving ``grid_size + order`` basis
      functions that form a partition of unity on ``grid_range``.
    """
    lo, hi = grid_range
    h = (hi - lo) / grid_size
    return lo + h * jnp.arange(-order, grid_size + order + 1)
