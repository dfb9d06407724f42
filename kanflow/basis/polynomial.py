"""Orthogonal polynomial bases by three-term recurrence.

Each function maps points ``[...]`` to ``[..., degree + 1]`` (degrees 0 .. degree).
Recurrences are used rather than trigonometric closed forms so that the
values and gradients are correct outside ``[-1, 1]`` as well; layers squash
their inputs into the natural domain (see :mod:`kanflow.basis.registry`).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

__all__ = ["chebyshev", "legendre", "jacobi", "gram"]


def _check_degree(degree: int) -> None:
    if not isinstance(degree, int) or degree < 0:
        raise ValueError(f"degree must be an int >= 0, got {degree!r}")


def _stack_recurrence(x: Array, degree: int, p1: Array, step) -> Array:
    """Stacks ``p_0 = 1``, ``p_1`` and ``p_n = step(n, p_{n-1}, p_{n-2})``."""
    polys = [jnp.ones_like(x)]
    if degree >= 1:
        polys.append(p1)
    for n in range(2, degree + 1):
        polys.append(step(n, polys[-1], polys[-2]))
    return jnp.stack(polys, axis=-1)


def _float(x: ArrayLike) -> Array:
    x = jnp.asarray(x)
    return x.astype(jnp.result_type(x.dtype, jnp.float32))


def chebyshev(x: ArrayLike, degree: int) -> Array:
    """Chebyshev polynomials of the first kind ``T_0 .. T_degree``.

    ``[...] -> [..., degree + 1]``.
    """
    _check_degree(degree)
    x = _float(x)
    return _stack_recurrence(x, degree, x, lambda n, p, q: 2 * x * p - q)


def legendre(x: ArrayLike, degree: int) -> Array:
    """Legendre polynomials ``P_0 .. P_degree``. ``[...] -> [..., degree + 1]``."""
    _check_degree(degree)
    x = _float(x)
    return _stack_recurrence(x, degree, x, lambda n, p, q: ((2 * n - 1) * x * p - (n - 1) * q) / n)


def jacobi(x: ArrayLike, degree: int, alpha: float = 1.0, beta: float = 1.0) -> Array:
    """Jacobi polynomials ``P_n^{(alpha, beta)}``, ``n = 0 .. degree``.

    Normalised as in ``scipy.special.eval_jacobi``; ``alpha, beta > -1``.
    ``[...] -> [..., degree + 1]``.
    """
    _check_degree(degree)
    if alpha <= -1 or beta <= -1:
        raise ValueError(f"alpha and beta must be > -1, got alpha={alpha}, beta={beta}")
    x = _float(x)
    a, b = float(alpha), float(beta)

    def step(n, p, q):
        c = 2 * n + a + b
        lhs = 2 * n * (n + a + b) * (c - 2)
        return (
            (c - 1) * (c * (c - 2) * x + a * a - b * b) * p - 2 * (n + a - 1) * (n + b - 1) * c * q
        ) / lhs

    p1 = (a + 1) + (a + b + 2) * (x - 1) / 2
    return _stack_recurrence(x, degree, p1, step)


def gram(x: ArrayLike, degree: int, num_points: int | None = None) -> Array:
    """Gram polynomials: orthonormal on ``num_points`` equispaced points of ``[-1, 1]``.

    The points are ``x_i = -1 + (2 i - 1) / m``, ``i = 1 .. m``; the polynomials
    satisfy ``sum_i p_j(x_i) p_k(x_i) = delta_jk`` (discrete Chebyshev / Gram
    polynomials, e.g. Barnard, Trahan & Barnes 1998). ``num_points`` defaults to
    ``2 * (degree + 1)`` and must exceed ``degree``.

    ``[...] -> [..., degree + 1]``.
    """
    _check_degree(degree)
    m = 2 * (degree + 1) if num_points is None else int(num_points)
    if m <= degree:
        raise ValueError(f"num_points must be > degree={degree}, got {m}")
    x = _float(x)

    def alpha(k: int) -> float:  # alpha_k couples p_{k+1} to x p_k
        return (m / (k + 1)) * ((4 * (k + 1) ** 2 - 1) / (m**2 - (k + 1) ** 2)) ** 0.5

    p0 = jnp.full_like(x, m**-0.5)
    polys = [p0]
    if degree >= 1:
        polys.append(alpha(0) * x * p0)
    for k in range(1, degree):
        polys.append(alpha(k) * x * polys[-1] - (alpha(k) / alpha(k - 1)) * polys[-2])
    return jnp.stack(polys, axis=-1)
