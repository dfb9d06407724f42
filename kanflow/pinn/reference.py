"""Reference eigen-solvers: exact for piecewise-constant ``V``, spectral-accurate FD otherwise.

* :func:`exact_piecewise` propagates ``(psi, psi')`` analytically through each
  constant region (cos/sin, cosh/sinh, or linear) from ``psi(0) = 0,
  psi'(0) = 1``; the eigenvalues are the roots of ``psi(1; E)``, bracketed on a
  fine energy scan and polished by Brent's method.
* :func:`finite_differences` diagonalises the second-order finite-difference
  Hamiltonian on two grids and Richardson-extrapolates (fourth order for
  smooth ``V``).

:func:`reference_energies` and :func:`reference_wavefunction` pick the right one.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from kanflow.pinn.potentials import Piecewise, Potential
from kanflow.pinn.quadrature import composite_gauss

__all__ = [
    "SIGN_THRESHOLD",
    "exact_piecewise",
    "finite_differences",
    "leading_sign",
    "reference_energies",
    "reference_wavefunction",
]


#: Sign convention for wavefunctions: going from x = 0, the first value whose magnitude
#: exceeds this fraction of max |psi| is positive. (``psi'(0) > 0`` would do in exact
#: arithmetic, but for a state confined away from the wall ``psi`` near 0 is round-off.)
SIGN_THRESHOLD = 1e-3


def leading_sign(values):
    """The sign that makes ``values`` (at ascending x) obey :data:`SIGN_THRESHOLD`'s convention."""
    xp = np if isinstance(values, np.ndarray) else jnp
    big = xp.abs(values) > SIGN_THRESHOLD * xp.max(xp.abs(values))
    return xp.sign(values[xp.argmax(big)])


def _propagate(regions, energy: np.ndarray, x: float | None = None):
    """``(psi, dpsi)`` at ``x`` (default 1) for each energy, from ``psi(0)=0, psi'(0)=1``."""
    e = np.asarray(energy, dtype=np.float64)
    psi, dpsi = np.zeros_like(e), np.ones_like(e)
    stop = 1.0 if x is None else float(x)
    for a, b, v in regions:
        if a >= stop:
            break
        length = min(b, stop) - a
        q = e - v  # psi'' = -q psi
        k = np.sqrt(np.abs(q))
        kl = k * length
        with np.errstate(invalid="ignore", divide="ignore"):
            osc = q > 0
            c = np.where(osc, np.cos(kl), np.cosh(kl))
            s_over_k = np.where(
                k > 0, np.where(osc, np.sin(kl), np.sinh(kl)) / np.where(k > 0, k, 1), length
            )
            k_s = np.where(osc, -k * np.sin(kl), k * np.sinh(kl))
        psi, dpsi = c * psi + s_over_k * dpsi, k_s * psi + c * dpsi
    return psi, dpsi


def exact_piecewise(potential: Piecewise, n_states: int, scan_points: int = 20001) -> np.ndarray:
    """The lowest ``n_states`` eigenvalues of a piecewise-constant potential, ascending."""
    import scipy.optimize

    if not isinstance(potential, Piecewise):
        raise TypeError("exact_piecewise needs a Piecewise potential")
    regions = potential.regions
    vmin, vmax = potential.bounds
    hi = (
        vmax + (n_states + 1) ** 2 * np.pi**2 + 1.0
    )  # min-max bound on E_{n_states - 1}, with slack
    energies = np.linspace(vmin, hi, scan_points)
    f = _propagate(regions, energies)[0]
    found = []
    for i in np.nonzero(np.sign(f[:-1]) * np.sign(f[1:]) < 0)[0]:
        root = scipy.optimize.brentq(
            lambda e: _propagate(regions, np.array([e]))[0][0],
            energies[i],
            energies[i + 1],
            xtol=1e-14,
            rtol=1e-15,
        )
        found.append(root)
        if len(found) == n_states:
            break
    if len(found) < n_states:
        raise RuntimeError(f"found {len(found)} of {n_states} states below E = {hi:.4g}")
    return np.array(found)


def finite_differences(potential: Potential, n_states: int, n_points: int = 4000) -> np.ndarray:
    """Lowest ``n_states`` eigenvalues by Richardson-extrapolated finite differences."""
    import scipy.linalg

    def solve(n):
        h = 1.0 / (n + 1)
        x = np.arange(1, n + 1) * h
        v = np.asarray(potential(x), dtype=np.float64)
        diag = 2.0 / h**2 + v
        off = np.full(n - 1, -1.0 / h**2)
        return scipy.linalg.eigh_tridiagonal(diag, off, select="i", select_range=(0, n_states - 1))[
            0
        ]

    coarse, fine = solve(n_points), solve(2 * n_points + 1)  # h and h / 2
    return (4 * fine - coarse) / 3


def reference_energies(potential: Potential, n_states: int) -> np.ndarray:
    """Lowest ``n_states`` energies, ascending: exact for ``Piecewise``, else FD."""
    if not isinstance(n_states, int) or n_states < 1:
        raise ValueError(f"n_states must be an int >= 1, got {n_states!r}")
    if isinstance(potential, Piecewise):
        return exact_piecewise(potential, n_states)
    if not isinstance(potential, Potential):
        raise TypeError(
            f"potential must be a kanflow.pinn potential, got {type(potential).__name__}"
        )
    return finite_differences(potential, n_states)


def reference_wavefunction(potential: Potential, state: int, x: np.ndarray) -> np.ndarray:
    """Normalised eigenfunction ``state`` at ``x`` (sign: see :data:`SIGN_THRESHOLD`)."""
    import scipy.linalg

    x = np.asarray(x, dtype=np.float64)
    energy = reference_energies(potential, state + 1)[state]
    if isinstance(potential, Piecewise):
        # propagate once to each point; normalise with a fine Gauss-Legendre quadrature
        def values(pts):
            return np.array(
                [_propagate(potential.regions, np.array([energy]), p)[0][0] for p in pts]
            )

        nodes, weights = composite_gauss(potential.jumps, order=64, pieces=16)
        on_nodes = values(nodes)
        norm = np.sqrt(np.sum(weights * on_nodes**2))
        return leading_sign(on_nodes) * values(x) / norm
    n = 8001
    h = 1.0 / (n + 1)
    grid = np.arange(1, n + 1) * h
    v = np.asarray(potential(grid), dtype=np.float64)
    _, vec = scipy.linalg.eigh_tridiagonal(
        2 / h**2 + v, np.full(n - 1, -1 / h**2), select="i", select_range=(state, state)
    )
    vec = vec[:, 0] / np.sqrt(h * np.sum(vec[:, 0] ** 2))
    vec *= leading_sign(vec)
    return np.interp(x, np.concatenate([[0.0], grid, [1.0]]), np.concatenate([[0.0], vec, [0.0]]))
