"""Argument checks shared across kanflow: one message per kind of bad input."""

from __future__ import annotations

import math
from numbers import Integral
from typing import Any

import jax
import numpy as np

__all__ = ["as_int", "as_widths", "check_grid", "check_grid_range", "check_positive"]


def check_grid_range(grid_range: Any) -> tuple[float, float]:
    """``grid_range`` as floats ``(lo, hi)``; ``ValueError`` unless finite with ``lo < hi``."""
    try:
        lo, hi = (float(v) for v in grid_range)
    except (TypeError, ValueError):
        lo = hi = math.nan
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"grid_range must be finite (lo, hi) with lo < hi, got {grid_range!r}")
    return lo, hi


def check_grid(grid_size: Any, order: Any, grid_range: Any) -> tuple[int, int, tuple[float, float]]:
    """Validated ``(G, k, (lo, hi))``: integers (NumPy's too) ``G >= 1``, ``k >= 0``."""
    if not isinstance(grid_size, Integral) or isinstance(grid_size, bool) or grid_size < 1:
        raise ValueError(f"grid_size must be an int >= 1, got {grid_size!r}")
    if not isinstance(order, Integral) or isinstance(order, bool) or order < 0:
        raise ValueError(f"order must be an int >= 0, got {order!r}")
    return int(grid_size), int(order), check_grid_range(grid_range)


def check_positive(value: Any, name: str) -> None:
    """``ValueError`` unless every entry of a concrete ``value`` is > 0 (tracers pass)."""
    if isinstance(value, jax.core.Tracer):
        return
    v = np.asarray(value)
    if not np.all(v > 0):
        raise ValueError(f"{name} must be > 0, got {value!r}")


def as_int(value: Any, name: str, minimum: int = 1) -> int:
    """``value`` as a Python int; ``ValueError`` unless an integer (NumPy's too) ``>= minimum``."""
    if not isinstance(value, Integral) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def as_widths(widths: Any, name: str = "widths") -> tuple[int, ...]:
    """``(in, hidden..., out)`` as Python ints; ``ValueError`` unless >= 2 positive integers."""
    try:
        widths = tuple(widths)
    except TypeError:
        widths = None
    if (
        widths is None
        or len(widths) < 2
        or not all(isinstance(w, Integral) and not isinstance(w, bool) and w >= 1 for w in widths)
    ):
        raise ValueError(f"{name} must be >= 2 positive ints (in, ..., out), got {widths!r}")
    return tuple(int(w) for w in widths)
