"""B-splines of any order on any non-decreasing knot vector (Cox-de Boor).

Each level of the recursion is a few whole-array ops on slices along the
basis axis; placing that axis before the points' last axis (``axis=-2``, the
layout KAN layers use) keeps every slice a run of contiguous planes, which XLA
fuses into fast loops, and keeps the compiled graph small for any grid size.
Repeated knots are allowed: a zero-length span contributes nothing (the usual
``0 / 0 := 0`` convention), and gradients stay finite there. Derivatives in ``x`` use the
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
    return _value_and_derivative(x, t, order, _stack_axis(axis, x.ndim))


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
    """``axis`` of the result (rank ``ndim + 1``) as a non-negative index."""
    if not -(ndim + 1) <= axis <= ndim:
        raise ValueError(f"axis must be in [{-(ndim + 1)}, {ndim}] for {ndim}-d points, got {axis}")
    return axis % (ndim + 1)


def _layout(x: Array, t: Array, axis: int) -> tuple[Array, Array]:
    """``x`` with a unit axis at ``axis`` (clipped to one unit beyond the knots: the
    bases are zero there either way, and ``±inf`` then gives 0 instead of
    ``inf * 0 = NaN``; NaN stays NaN), and the knots with their axis at ``axis``,
    both of rank ``x.ndim + 1``, so every level is whole-array arithmetic on
    slices along ``axis``."""
    rank = x.ndim + 1
    t = jnp.moveaxis(t.reshape((1,) * (rank - t.ndim) + t.shape), -1, axis)
    first = jax.lax.index_in_dim(t, 0, axis)
    last = jax.lax.index_in_dim(t, t.shape[axis] - 1, axis)
    return jnp.clip(jnp.expand_dims(x, axis), first - 1, last + 1), t


def _slice(a: Array, start: int, stop: int, axis: int) -> Array:
    return jax.lax.slice_in_dim(a, start, stop + a.shape[axis] if stop <= 0 else stop, axis=axis)


def _inverse_spans(t: Array, p: int, axis: int) -> tuple[Array, Array]:
    """``1 / (t_{c+p} - t_c)`` and ``1 / (t_{c+p+1} - t_{c+1})`` for every ``c``."""
    left = _slice(t, p, -1, axis) - _slice(t, 0, -(p + 1), axis)
    right = _slice(t, p + 1, 0, axis) - _slice(t, 1, -p, axis)
    return _reciprocal(left), _reciprocal(right)


def _level(xe: Array, t: Array, lower: Array, p: int, axis: int, spans=None) -> Array:
    """One Cox-de Boor step: the degree ``p - 1`` values -> one fewer of degree ``p``."""
    inv_left, inv_right = spans or _inverse_spans(t, p, axis)
    left = (xe - _slice(t, 0, -(p + 1), axis)) * inv_left
    right = (_slice(t, p + 1, 0, axis) - xe) * inv_right
    return left * _slice(lower, 0, -1, axis) + right * _slice(lower, 1, 0, axis)


def _value_and_derivative(x: Array, t: Array, order: int, axis: int) -> tuple[Array, Array]:
    """Degree ``order`` values and ``d/dx B_{c,p} = p (B_{c,p-1} / (t_{c+p} - t_c) -
    B_{c+1,p-1} / (t_{c+p+1} - t_{c+1}))``, both from the degree ``p - 1`` values
    of ``_bspline`` itself (so higher derivatives recurse through the lower orders)."""
    if order == 0:
        value = _bspline(x, t, 0, axis)
        return value, jnp.zeros_like(value)
    xe, tt = _layout(x, t, axis)
    lower = _bspline(x, t, order - 1, axis)
    inv_left, inv_right = spans = _inverse_spans(tt, order, axis)
    deriv = _slice(lower, 0, -1, axis) * inv_left - _slice(lower, 1, 0, axis) * inv_right
    return _level(xe, tt, lower, order, axis, spans), order * deriv


def _cox_de_boor(x: Array, t: Array, order: int, axis: int) -> Array:
    xe, t = _layout(x, t, axis)
    basis = (xe >= _slice(t, 0, -1, axis)) & (xe < _slice(t, 1, 0, axis))
    basis = basis.astype(t.dtype)
    for p in range(1, order + 1):
        basis = _level(xe, t, basis, p, axis)
    return basis


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3))
def _bspline(x: Array, t: Array, order: int, axis: int) -> Array:
    return _cox_de_boor(x, t, order, axis)


@functools.partial(_bspline.defjvp, symbolic_zeros=True)
def _bspline_jvp(order, axis, primals, tangents):
    """The closed-form derivative (instead of differentiating the recursion)
    keeps the backward pass a few ops long (:func:`_value_and_derivative`).
    Tangents in the knots fall back to differentiating the recursion.
    """
    x, t = primals
    dx, dt = tangents
    if not isinstance(dt, jax.custom_derivatives.SymbolicZero):
        dx = jnp.zeros_like(x) if isinstance(dx, jax.custom_derivatives.SymbolicZero) else dx
        return jax.jvp(lambda x, t: _cox_de_boor(x, t, order, axis), (x, t), (dx, dt))
    out, deriv = _value_and_derivative(x, t, order, axis)
    if isinstance(dx, jax.custom_derivatives.SymbolicZero):
        return out, jnp.zeros_like(out)
    return out, deriv * jnp.expand_dims(dx, axis)


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
