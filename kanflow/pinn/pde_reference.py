"""Reference solutions for the PIKAN benchmark PDEs, computed here (no data set to download).

* :func:`diffusion_exact`, :func:`helmholtz_exact`: closed forms.
* :func:`burgers_reference`: the Cole-Hopf solution of viscous Burgers with
  ``u(0, x) = -sin(pi x)`` as a Gaussian integral, evaluated by Gauss-Hermite
  quadrature (in log space: the heat-kernel weights span ``e^{+-1/(2 pi nu)}``).
* :func:`allen_cahn_reference`: Chebyshev collocation in space, a stiff implicit
  integrator (Radau IIA, order 5, with the exact Jacobian) in time, barycentric
  interpolation to any ``x``.

Each is checked by a convergence test (``tests/test_pde.py``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "allen_cahn_reference",
    "burgers_reference",
    "chebyshev_points",
    "chebyshev_matrix",
    "diffusion_exact",
    "helmholtz_exact",
]


def diffusion_exact(t, x):
    """``u = e^{-t} sin(pi x)``: solves ``u_t - u_xx = e^{-t} (pi^2 - 1) sin(pi x)``."""
    return np.exp(-np.asarray(t)) * np.sin(np.pi * np.asarray(x))


def helmholtz_exact(x, y, a1: float = 1.0, a2: float = 4.0):
    """``u = sin(a1 pi x) sin(a2 pi y)``: ``u_xx + u_yy + u = (1 - (a1^2 + a2^2) pi^2) u``."""
    return np.sin(a1 * np.pi * np.asarray(x)) * np.sin(a2 * np.pi * np.asarray(y))


def burgers_reference(
    t, x, nu: float = 0.01 / np.pi, order: int | None = None, tol: float = 1e-10
) -> np.ndarray:
    """Viscous Burgers ``u_t + u u_x = nu u_xx``, ``u(0, x) = -sin(pi x)``, on ``[-1, 1]``.

    Cole-Hopf: ``u = -int sin(pi (x - s)) f(x - s) K(s) ds / int f(x - s) K(s) ds`` with
    ``f(y) = exp(-cos(pi y) / (2 pi nu))`` and the heat kernel ``K`` of width
    ``sqrt(4 nu t)``; with ``s = sqrt(4 nu t) z`` both integrals are Gauss-Hermite
    sums. (The odd, periodic data make ``u(t, +-1) = 0`` exactly.)

    The smaller ``nu``, the further out in ``z`` the integrand peaks (200 nodes
    suffice for the benchmark's ``nu``, ``0.001 / pi`` needs 400), so by default
    the order doubles from 200 until two orders agree to ``tol``.

    Args:
      t, x: broadcastable arrays, ``t >= 0``.
      nu: viscosity ``> 0`` (the benchmark's ``0.01 / pi``).
      order: Gauss-Hermite nodes; ``None`` chooses them as above (up to 3200).
      tol: largest difference between the last two orders when ``order`` is ``None``.

    Returns:
      ``u`` with the broadcast shape.

    Raises:
      ValueError: ``t < 0`` or non-finite ``t, x``, ``nu <= 0``, or no order up to
        3200 converges to ``tol``.
    """
    t, x = np.broadcast_arrays(np.asarray(t, np.float64), np.asarray(x, np.float64))
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(x))):
        raise ValueError("t and x must be finite")
    if np.any(t < 0):
        raise ValueError("t must be >= 0")
    if not (np.isfinite(nu) and nu > 0):
        raise ValueError(f"nu must be > 0, got {nu!r}")
    if order is not None:
        return _cole_hopf(t, x, nu, order)
    n, u = 200, _cole_hopf(t, x, nu, 200)
    while n < 3200:
        n, previous = 2 * n, u
        u = _cole_hopf(t, x, nu, n)
        change = float(np.max(np.abs(u - previous), initial=0.0))
        if change <= tol:
            return u
    raise ValueError(
        f"the Gauss-Hermite sums did not converge for nu={nu}: orders 1600 and 3200 differ "
        f"by {change:.2g} (> tol={tol})"
    )


def _cole_hopf(t: np.ndarray, x: np.ndarray, nu: float, order: int) -> np.ndarray:
    """:func:`burgers_reference` with ``order`` Gauss-Hermite nodes, in log space."""
    import scipy.special

    z, w = scipy.special.roots_hermite(order)
    y = x[..., None] - np.sqrt(4 * nu * t)[..., None] * z  # [..., order]
    with np.errstate(divide="ignore"):  # far nodes' weights underflow to 0: log -inf, dropped
        log_term = np.log(w) - np.cos(np.pi * y) / (2 * np.pi * nu)
    log_term -= log_term.max(axis=-1, keepdims=True)  # the sums' common factor cancels
    weight = np.exp(log_term)
    u = -np.sum(np.sin(np.pi * y) * weight, -1) / np.sum(weight, -1)
    return np.where(t == 0, -np.sin(np.pi * x), u)


def chebyshev_points(n: int) -> np.ndarray:
    """``n + 1`` Chebyshev-Gauss-Lobatto points ``cos(pi j / n)``, descending from 1 to -1."""
    return np.cos(np.pi * np.arange(n + 1) / n)


def chebyshev_matrix(n: int) -> np.ndarray:
    """The ``(n + 1) x (n + 1)`` Chebyshev differentiation matrix on :func:`chebyshev_points`.

    Off-diagonal ``c_i / c_j (-1)^(i+j) / (x_i - x_j)`` (``c = 2`` at the ends, else 1),
    diagonal by the negative row sums (exact derivatives of constants).
    """
    x = chebyshev_points(n)
    c = np.ones(n + 1)
    c[0] = c[-1] = 2.0
    c *= (-1.0) ** np.arange(n + 1)
    dx = x[:, None] - x[None, :] + np.eye(n + 1)
    d = np.outer(c, 1.0 / c) / dx
    return d - np.diag(d.sum(axis=1))


def allen_cahn_reference(
    t,
    x,
    diffusion: float = 1e-3,
    reaction: float = 5.0,
    n: int = 512,
    rtol: float = 1e-10,
) -> np.ndarray:
    """Allen-Cahn ``u_t = d u_xx + r (u - u^3)``, ``u(0, x) = x^2 cos(pi x)``, ``u(t, +-1) = -1``.

    Method of lines on ``n + 1`` Chebyshev points (the boundary values held at -1),
    Radau IIA in time with the exact Jacobian ``d D2 + r (1 - 3 u^2)``, then
    barycentric interpolation in ``x`` at each requested ``t``.

    Args:
      t: times ``[m]`` in ``[0, T]`` (any order, repeats allowed); x: points ``[k]`` in
        ``[-1, 1]``.
      diffusion, reaction: the coefficients (benchmark: 1e-3 and 5).
      n: Chebyshev degree (the default resolves the interfaces of width
        ``sqrt(d / r)`` ~ 0.014 to about 1e-7: 384 and 512 differ by 5e-7);
        rtol: the time integrator's relative tolerance.

    Returns:
      ``u [m, k]``.
    """
    import scipy.integrate
    import scipy.interpolate

    t = np.atleast_1d(np.asarray(t, np.float64))
    x = np.atleast_1d(np.asarray(x, np.float64))
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(x))):
        raise ValueError("t and x must be finite")
    if np.any(t < 0) or np.any(np.abs(x) > 1):
        raise ValueError("need t >= 0 and x in [-1, 1]")
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    nodes = chebyshev_points(n)
    d2 = chebyshev_matrix(n) @ chebyshev_matrix(n)
    inner = slice(1, n)
    a = diffusion * d2[inner, inner]
    boundary = diffusion * (d2[inner, 0] + d2[inner, n]) * -1.0  # the held values u = -1

    def rhs(_, u):
        return a @ u + boundary + reaction * (u - u**3)

    def jac(_, u):
        return a + np.diag(reaction * (1 - 3 * u**2))

    u0 = nodes[inner] ** 2 * np.cos(np.pi * nodes[inner])
    times = np.unique(t)
    if times[-1] == 0:  # only the initial condition asked for (no time to integrate over)
        return np.broadcast_to(x**2 * np.cos(np.pi * x), (t.size, x.size)).copy()
    sol = scipy.integrate.solve_ivp(
        rhs,
        (0.0, times[-1]),
        u0,
        method="Radau",
        t_eval=times,
        jac=jac,
        rtol=rtol,
        atol=rtol,
    )
    if not sol.success:
        raise RuntimeError(f"Allen-Cahn integration failed: {sol.message}")
    full = np.full((n + 1, times.size), -1.0)
    full[inner] = sol.y
    interp = scipy.interpolate.BarycentricInterpolator(nodes, full.T, axis=1)
    values = interp(x)  # [times, k]
    return values[np.searchsorted(times, t)]
