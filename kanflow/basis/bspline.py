"""B-splines of any order on any non-decreasing knot vector (Cox-de Boor).

The recursion is evaluated level by level on whole arrays, so it fuses into a
handful of elementwise XLA ops and is safe under ``jit``, ``grad`` and
``vmap``. Repeated knots are allowed: a zero-length span contributes nothing
(the usual ``0 / 0 := 0`` convention), and gradients stay finite there.
Derivatives in ``x`` use the closed form ``B' = k (B_{k-1} / span - ...)``
through a ``custom_jvp`` (exact, any order, cheap to compile and run).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from kanflow.checks import check_grid

__all__ = ["bspline", "uniform_knots"]


def _reciprocal(den: Array) -> Array:
    """``1 / den`` with ``0`` wherever ``den == 0`` (repeated knots; NaN-free gradients)."""
    zero = den == 0
    return jnp.where(zero, 0.0, 1.0 / jnp.where(zero, 1.0, den))


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
      ``[t_0, t_{K-1})``, ``x = ±inf`` included (a NaN ``x`` gives NaN).

    Raises:
      ValueError: for ``order < 0``, too few knots, or (when the knots are
        concrete, i.e. outside ``jit``) knots that decrease anywhere.

    Example:
      >>> import jax.numpy as jnp
      >>> from kanflow.basis import bspline, uniform_knots
      >>> b = bspline(jnp.array([-0.3, 0.1, 0.5]), uniform_knots(4, 3), 3)
      >>> b.shape  # G + k = 7 cubic B-splines on 4 spans of [-1, 1]
      (3, 7)
      >>> bool(jnp.allclose(b.sum(-1), 1.0))  # a partition of unity inside the grid
      True
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
    return _bspline(x.astype(t.dtype), t, order)


def _inverse_spans(t: Array, p: int) -> tuple[Array, Array]:
    """``1 / (t_{i+p} - t_i)`` and ``1 / (t_{i+p+1} - t_{i+1})`` for the degree-``p`` level."""
    return _reciprocal(t[..., p:-1] - t[..., : -(p + 1)]), _reciprocal(
        t[..., p + 1 :] - t[..., 1:-p]
    )


def _expand(x: Array, t: Array) -> Array:
    """``x[..., None]`` clipped to one unit beyond the knots: the bases are zero there
    either way, and ``±inf`` then gives 0 instead of ``inf * 0 = NaN`` (NaN stays NaN)."""
    return jnp.clip(x[..., None], t[..., :1] - 1, t[..., -1:] + 1)


def _level(xe: Array, t: Array, basis: Array, p: int) -> Array:
    """One Cox-de Boor step: degree ``p - 1`` values ``[..., K - p]`` -> degree ``p``."""
    # the reciprocal spans depend on the knots only: computed once per level
    inv_left, inv_right = _inverse_spans(t, p)
    left = (xe - t[..., : -(p + 1)]) * inv_left
    right = (t[..., p + 1 :] - xe) * inv_right
    return left * basis[..., :-1] + right * basis[..., 1:]


def _cox_de_boor(x: Array, t: Array, order: int) -> Array:
    xe = _expand(x, t)
    basis = ((xe >= t[..., :-1]) & (xe < t[..., 1:])).astype(t.dtype)
    for p in range(1, order + 1):
        basis = _level(xe, t, basis, p)
    return basis


@functools.partial(jax.custom_jvp, nondiff_argnums=(2,))
def _bspline(x: Array, t: Array, order: int) -> Array:
    return _cox_de_boor(x, t, order)


@functools.partial(_bspline.defjvp, symbolic_zeros=True)
def _bspline_jvp(order, primals, tangents):
    """``d/dx B_{i,k} = k (B_{i,k-1} / (t_{i+k} - t_i) - B_{i+1,k-1} / (t_{i+k+1} - t_{i+1}))``.

    Using the closed-form derivative (instead of differentiating the
    recursion) keeps the backward pass a few ops long; the degree ``k - 1``
    values come from ``_bspline`` itself, so higher derivatives recurse.
    Tangents in the knots fall back to differentiating the recursion.
    """
    x, t = primals
    dx, dt = tangents
    if not isinstance(dt, jax.custom_derivatives.SymbolicZero):
        dx = jnp.zeros_like(x) if isinstance(dx, jax.custom_derivatives.SymbolicZero) else dx
        return jax.jvp(lambda x, t: _cox_de_boor(x, t, order), (x, t), (dx, dt))
    xe = _expand(x, t)
    if order == 0:
        out = _cox_de_boor(x, t, 0)
        return out, jnp.zeros_like(out)
    lower = _bspline(x, t, order - 1)  # [..., K - order]
    out = _level(xe, t, lower, order)
    if isinstance(dx, jax.custom_derivatives.SymbolicZero):
        return out, jnp.zeros_like(out)
    inv_left, inv_right = _inverse_spans(t, order)
    deriv = order * (lower[..., :-1] * inv_left - lower[..., 1:] * inv_right)
    return out, deriv * dx[..., None]


def uniform_knots(
    grid_size: int, order: int, grid_range: tuple[float, float] = (-1.0, 1.0)
) -> Array:
    """pykan's knot vector: ``grid_size`` equal spans on ``grid_range``, extended by
    ``order`` spans of the same width on each side.

    Returns:
      ``[grid_size + 2 * order + 1]`` knots, giving ``grid_size + order`` basis
      functions that form a partition of unity on ``grid_range``.
    """
    grid_size, order, (lo, hi) = check_grid(grid_size, order, grid_range)
    h = (hi - lo) / grid_size
    return lo + h * jnp.arange(-order, grid_size + order + 1)
