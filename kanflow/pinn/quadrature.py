"""Composite Gauss-Legendre quadrature on ``[0, 1]``, split at the potential's jumps.

Splitting at every discontinuity of ``V`` keeps each panel's integrand smooth,
so the rule converges spectrally; the same nodes serve as PINN collocation
points (points on both sides of every jump, none on it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["composite_gauss"]


def composite_gauss(
    jumps: Sequence[float] = (), order: int = 32, pieces: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights ``[m]`` on ``[0, 1]``: ``pieces`` equal panels, also cut at ``jumps``."""
    if order < 1 or pieces < 1:
        raise ValueError(f"order and pieces must be >= 1, got {order}, {pieces}")
    cuts = np.concatenate([np.linspace(0.0, 1.0, pieces + 1), np.asarray(jumps, dtype=np.float64)])
    edges = np.unique(cuts)
    t, w = np.polynomial.legendre.leggauss(order)
    a, b = edges[:-1, None], edges[1:, None]
    return ((a + b) / 2 + (b - a) / 2 * t).ravel(), ((b - a) / 2 * w).ravel()
