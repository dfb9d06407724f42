"""B-splines of any order on any non-decreasing knot vector (Cox-de Boor).

The recursion runs on *planes*: one array of the points' shape per basis
function (the knots ``t_c`` broadcast against the points), so every level is a
few elementwise ops on contiguous arrays that XLA fuses into one loop. The
planes are stacked on the requested ``axis`` at the end. Repeated knots are
allowed: a zero-length span contributes nothing (the usual ``0 / 0 := 0``
convention), and gradients stay finite there. Derivatives in ``x`` use the
closed form ``B' = k (B_{k-1} / span - ...)`` through a ``custom_jvp`` (exact,
any order, cheap to compile and run).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from kanflow.checks import check_grid

__all__ = ["bspline", "bspline_value_and_derivative", "uniform_knots"]


def _reciprocal(den: Array) -> Array:
    """``1 / den`` with ``0`` wherever ``den == 0`` (repeated knots; NaN-free gradients)."""
    zero = den == 0
    return jnp.where(zero, 0.0, 1.0 / jnp.where(zero, 1.0, den))


def bspline(x: ArrayLike, knots: ArrayLike, order: int, axis: int = -1) -> Array:
    """All B-spline basis functions of degree ``order`` at ``x``.

    Args:
      x: points, any shape ``[...]``.
      knots: non-decreasing knot vector ``[K]``, or one knot vector per
        element of ``x`` broadcastable to ``[..., K]`` (e.g. ``[in, K]`` for
        ``x`` of shape ``[batch, in]``).
      order: polynomial degree ``k >= 0`` (3 = cubic, as in pykan).
      axis: where the basis index goes in the result (``-1``: last; ``-2``
        puts it before the last axis of ``x``, the layout KAN layers use).

    Returns:
      ``[..., K - order - 1]`` (for ``axis=-1``): ``B_{c,k}(x)`` for
      ``c = 0 .. K - k - 2``. Spans are half-open ``[t_c, t_{c+1})``; every
      basis is zero outside ``[t_0, t_{K-1})``, ``x = ±inf`` included (a NaN
      ``x`` gives NaN).

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
    x, t = _check(x, knots, order)
    return _bspline(x, t, order, _stack_axis(axis, x.ndim))


def bspline_value_and_derivative(
    x: ArrayLike, knots: ArrayLike, order: int, axis: int = -1
) -> tuple[Array, Array]:
    """``(B(x), dB/dx)``, both as :func:`bspline` returns them, in one pass.

    Differentiable again (the derivative's derivative recurses through the
    lower orders), so second derivatives through a KAN layer stay exact.
    """
    x, t = _check(x, knots, order)
    axis = _stack_axis(axis, x.ndim)
    if order == 0:
        value = _bspline(x, t, 0, axis)
        return value, jnp.zeros_like(value)
    lower = _unstack(_bspline(x, t, order - 1, axis), axis)
    value, deriv = _top_level(x, t, lower, order)
    return _stack(value, axis), _stack(deriv, axis)


def _check(x: ArrayLike, knots: ArrayLike, order: int) -> tuple[Array, Array]:
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
    return x.astype(t.dtype), t


def _stack_axis(axis: int, ndim: int) -> int:
    """``axis`` of the stacked result (rank ``ndim + 1``) as a non-negative index."""
    if not -(ndim + 1) <= axis <= ndim:
        raise ValueError(f"axis must be in [{-(ndim + 1)}, {ndim}] for {ndim}-d points, got {axis}")
    return axis % (ndim + 1)


def _stack(planes: list[Array], axis: int) -> Array:
    return jnp.stack(planes, axis=axis)


def _unstack(values: Array, axis: int) -> list[Array]:
    n = values.shape[axis]
    return [jax.lax.index_in_dim(values, c, axis, keepdims=False) for c in range(n)]


def _clipped(x: Array, t: Array) -> Array:
    """``x`` clipped to one unit beyond the knots: the bases are zero there either
    way, and ``±inf`` then gives 0 instead of ``inf * 0 = NaN`` (NaN stays NaN)."""
    return jnp.clip(x, t[..., 0] - 1, t[..., -1] + 1)


def _spans(t: Array, c: int, p: int) -> tuple[Array, Array]:
    """``1 / (t_{c+p} - t_c)`` and ``1 / (t_{c+p+1} - t_{c+1})`` (knots only: cheap)."""
    return _reciprocal(t[..., c + p] - t[..., c]), _reciprocal(t[..., c + p + 1] - t[..., c + 1])


def _level(x: Array, t: Array, lower: list[Array], p: int) -> list[Array]:
    """One Cox-de Boor step: the degree ``p - 1`` planes -> one fewer of degree ``p``."""
    xe = _clipped(x, t)
    out = []
    for c in range(len(lower) - 1):
        inv_left, inv_right = _spans(t, c, p)
        left = (xe - t[..., c]) * inv_left
        right = (t[..., c + p + 1] - xe) * inv_right
        out.append(left * lower[c] + right * lower[c + 1])
    return out


def _top_level(x: Array, t: Array, lower: list[Array], p: int) -> tuple[list[Array], list[Array]]:
    """Degree ``p`` values and x-derivatives from the degree ``p - 1`` planes."""
    deriv = []
    for c in range(len(lower) - 1):
        inv_left, inv_right = _spans(t, c, p)
        deriv.append(p * (lower[c] * inv_left - lower[c + 1] * inv_right))
    return _level(x, t, lower, p), deriv


def _cox_de_boor(x: Array, t: Array, order: int) -> list[Array]:
    xe = _clipped(x, t)
    n_knots = t.shape[-1]
    planes = [
        ((xe >= t[..., c]) & (xe < t[..., c + 1])).astype(t.dtype) for c in range(n_knots - 1)
    ]
    for p in range(1, order + 1):
        planes = _level(x, t, planes, p)
    return planes


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _bspline(x: Array, t: Array, order: int, axis: int) -> Array:
    return _stack(_cox_de_boor(x, t, order), axis)


@functools.partial(_bspline.defjvp, symbolic_zeros=True)
def _bspline_jvp(order, axis, primals, tangents):
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
        return jax.jvp(lambda x, t: _stack(_cox_de_boor(x, t, order), axis), (x, t), (dx, dt))
    if order == 0:
        out = _bspline(x, t, 0, axis)
        return out, jnp.zeros_like(out)
    lower = _unstack(_bspline(x, t, order - 1, axis), axis)
    value, deriv = _top_level(x, t, lower, order)
    out = _stack(value, axis)
    if isinstance(dx, jax.custom_derivatives.SymbolicZero):
        return out, jnp.zeros_like(out)
    return out, _stack(deriv, axis) * jnp.expand_dims(dx, axis)


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
