"""Potentials on ``[0, 1]`` for the dimensionless 1-D Schrödinger equation.

``-psi''(x) + V(x) psi(x) = E psi(x)`` on ``[0, 1]`` with ``psi(0) = psi(1) = 0``
(hbar^2 / 2m = 1; the walls at 0 and 1 are infinite).

* :class:`Piecewise` — any piecewise-constant ``V``; :class:`InfiniteWell`,
  :class:`FiniteWell` and :class:`Barrier` are named cases of it.
* :class:`Potential` — any ``V`` given as a ``jnp`` function.
* :func:`random_piecewise`, :func:`random_smooth` — seeded random families,
  for testing solvers on potentials nobody tuned them for.

Every potential knows its discontinuities (``jumps``), which the PINN
quadrature and the reference solvers use to split ``[0, 1]``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import jax.numpy as jnp
import numpy as np
from jax import Array

__all__ = [
    "Barrier",
    "FiniteWell",
    "InfiniteWell",
    "Piecewise",
    "Potential",
    "random_piecewise",
    "random_smooth",
]


class Potential:
    """A potential ``V(x)`` given as a function; smooth unless ``jumps`` are declared.

    Args:
      fn: ``x [...] -> V [...]``, written with ``jax.numpy``.
      name: a label for tables.
      jumps: points in ``(0, 1)`` where ``V`` is discontinuous.

    Raises:
      TypeError: ``fn`` is not callable.
      ValueError: ``V`` is not finite on ``[0, 1]`` (checked on 2049 points).
    """

    def __init__(
        self, fn: Callable[[Array], Array], name: str = "V(x)", jumps: Sequence[float] = ()
    ):
        if not callable(fn):
            raise TypeError(f"potential must be callable x -> V(x), got {type(fn).__name__}")
        self.fn = fn
        self.name = name
        jumps = [float(j) for j in jumps]
        if not all(0.0 <= j <= 1.0 for j in jumps):  # NaN fails too
            raise ValueError(f"jumps must lie in [0, 1] (the walls are 0 and 1), got {jumps}")
        self.jumps = tuple(sorted(j for j in jumps if 0.0 < j < 1.0))
        probe = np.asarray(fn(jnp.linspace(0.0, 1.0, 2049)), dtype=np.float64)
        if probe.shape != (2049,):
            raise ValueError(f"potential must map x [n] -> V [n], got output shape {probe.shape}")
        if not np.all(np.isfinite(probe)):
            bad = float(np.linspace(0.0, 1.0, 2049)[~np.isfinite(probe)][0])
            raise ValueError(f"potential {name!r} is not finite on [0, 1] (e.g. at x = {bad:.4g})")
        self._vmin, self._vmax = float(probe.min()), float(probe.max())

    def __call__(self, x: Array) -> Array:
        return self.fn(x)

    @property
    def bounds(self) -> tuple[float, float]:
        """``(min V, max V)`` on ``[0, 1]`` (sampled)."""
        return self._vmin, self._vmax

    def __repr__(self) -> str:
        return self.name


class Piecewise(Potential):
    """Piecewise-constant ``V``: ``pieces = [(x0, x1, v), ...]`` inside ``[0, 1]``.

    Pieces must not overlap; uncovered parts of ``[0, 1]`` have ``V = 0``.
    """

    def __init__(self, pieces: Sequence[tuple[float, float, float]], name: str | None = None):
        pieces = sorted((float(a), float(b), float(v)) for a, b, v in pieces)
        for a, b, v in pieces:
            if not (0.0 <= a < b <= 1.0):
                raise ValueError(f"piece ({a}, {b}, {v}): need 0 <= x0 < x1 <= 1")
            if not math.isfinite(v):
                raise ValueError(f"piece ({a}, {b}, {v}): the value must be finite")
        for (_, b0, _), (a1, _, _) in zip(pieces, pieces[1:], strict=False):
            if a1 < b0:
                raise ValueError(f"pieces overlap at x = {a1} (previous piece ends at {b0})")
        regions, x = [], 0.0
        for a, b, v in pieces:
            if a > x:
                regions.append((x, a, 0.0))
            regions.append((a, b, v))
            x = b
        if x < 1.0:
            regions.append((x, 1.0, 0.0))
        merged = [regions[0]]
        for a, b, v in regions[1:]:
            if v == merged[-1][2]:
                merged[-1] = (merged[-1][0], b, v)
            else:
                merged.append((a, b, v))
        self.regions = tuple(merged)
        edges = np.array([a for a, _, _ in merged[1:]])
        values = np.array([v for _, _, v in merged])

        def fn(x):
            return jnp.asarray(values)[jnp.searchsorted(jnp.asarray(edges), x, side="right")]

        label = name or "Piecewise(" + ", ".join(f"[{a:g},{b:g}]:{v:g}" for a, b, v in merged) + ")"
        super().__init__(fn, label, jumps=edges.tolist())


class InfiniteWell(Piecewise):
    """``V = 0`` on ``[0, 1]``: exact ``E_n = (n + 1)^2 pi^2``, ``n = 0, 1, ...``."""

    def __init__(self):
        super().__init__([(0.0, 1.0, 0.0)], name="infinite well")


class FiniteWell(Piecewise):
    """``V = 0`` on ``(a, b)`` and ``v0`` elsewhere in ``[0, 1]`` (default ``(0.25, 0.75)``)."""

    def __init__(self, v0: float, a: float = 0.25, b: float = 0.75):
        super().__init__(
            [(0.0, a, v0), (b, 1.0, v0)], name=f"finite well V0={v0:g} on ({a:g}, {b:g})"
        )
        self.v0, self.a, self.b = float(v0), float(a), float(b)


class Barrier(Piecewise):
    """``V = v0`` on ``(a, b)``, 0 elsewhere in ``[0, 1]`` (default ``(0.4, 0.6)``)."""

    def __init__(self, v0: float, a: float = 0.4, b: float = 0.6):
        super().__init__([(a, b, v0)], name=f"barrier V0={v0:g} on ({a:g}, {b:g})")
        self.v0, self.a, self.b = float(v0), float(a), float(b)


def random_piecewise(
    seed: int, max_pieces: int = 6, vmax: float = 500.0, min_width: float = 0.02
) -> Piecewise:
    """A random piecewise-constant potential on ``[0, 1]`` (seeded).

    The number of pieces is uniform in ``1 .. max_pieces``; the cut points are
    uniform in ``(0, 1)``, redrawn until every piece is at least ``min_width``
    wide; each piece's value is uniform in ``[0, vmax]``.

    Raises:
      ValueError: ``max_pieces < 1``, ``vmax < 0`` or ``min_width`` outside
        ``(0, 1 / max_pieces)``.
    """
    if max_pieces < 1 or vmax < 0 or not 0 < min_width < 1.0 / max_pieces:
        raise ValueError(
            f"need max_pieces >= 1, vmax >= 0 and 0 < min_width < 1 / max_pieces, "
            f"got {max_pieces}, {vmax}, {min_width}"
        )
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, max_pieces + 1))
    while True:
        cuts = np.concatenate([[0.0], np.sort(rng.uniform(0.0, 1.0, n - 1)), [1.0]])
        if np.all(np.diff(cuts) >= min_width):
            break
    cuts = np.round(cuts, 4)
    values = np.round(rng.uniform(0.0, vmax, n), 2)
    pieces = [(a, b, v) for a, b, v in zip(cuts[:-1], cuts[1:], values, strict=True)]
    label = f"random piecewise #{seed} ({n} pieces)"
    return Piecewise(pieces, name=label)


def random_smooth(seed: int) -> Potential:
    """A random smooth potential on ``[0, 1]`` (seeded), one of three kinds by ``seed % 3``.

    * harmonic ``a (x - c)^2``, ``a`` in ``[100, 3000]``, ``c`` in ``[0.35, 0.65]``;
    * anharmonic ``a (x - c)^4 + b (x - c)^2``, ``a`` in ``[1e3, 3e4]``, ``b`` in ``[0, 500]``;
    * double well ``a (x - 1/2)^4 - b (x - 1/2)^2`` with minima at ``1/2 +- m``,
      ``m`` in ``[0.15, 0.3]``, ``b`` in ``[200, 1500]`` (barrier ``b m^2 / 2``
      up to about 68: nearly degenerate tunnelling pairs).
    """
    rng = np.random.default_rng(seed)
    kind = seed % 3
    if kind == 0:
        a, c = rng.uniform(100.0, 3000.0), rng.uniform(0.35, 0.65)
        return Potential(lambda x: a * (x - c) ** 2, f"harmonic {a:.0f}(x-{c:.3f})^2")
    if kind == 1:
        a, b, c = rng.uniform(1e3, 3e4), rng.uniform(0.0, 500.0), rng.uniform(0.35, 0.65)
        return Potential(
            lambda x: a * (x - c) ** 4 + b * (x - c) ** 2,
            f"anharmonic {a:.0f}(x-{c:.3f})^4+{b:.0f}(x-{c:.3f})^2",
        )
    m, b = rng.uniform(0.15, 0.3), rng.uniform(200.0, 1500.0)
    a = b / (2 * m**2)
    return Potential(
        lambda x: a * (x - 0.5) ** 4 - b * (x - 0.5) ** 2,
        f"double well {a:.0f}(x-1/2)^4-{b:.0f}(x-1/2)^2",
    )
