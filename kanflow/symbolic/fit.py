"""Fitting ``y ~ c f(a x + b) + d`` for library functions ``f``, every edge and function at once.

pykan's ``fit_params`` (arXiv 2404.19756 §2.5.1), vectorised: for each ``f``
a grid of ``(a, b)`` candidates is scored by the R² of the least-squares
line of ``y`` on ``f(a x + b)`` (the squared correlation), then the grid is
zoomed around the best candidate ``zooms`` times; ``(c, d)`` are that
line's slope and intercept. A candidate whose argument leaves ``f``'s domain
on any data point (a non-finite value) is rejected. All edges and all
functions run in one compiled call.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from kanflow.symbolic import library

__all__ = ["AffineFit", "fit_affine", "selection_loss"]

_REJECTED = -1.0  # the R² given to a candidate that leaves f's domain


@dataclasses.dataclass(frozen=True)
class AffineFit:
    """Best ``(a, b, c, d)`` per edge and function.

    Attributes:
      names: the functions, ``F`` of them.
      params: ``[E, F, 4]``, ``(a, b, c, d)`` of ``c f(a x + b) + d``, canonical
        (:func:`kanflow.symbolic.library.canonical`); NaN where rejected.
      r2: ``[E, F]``, R² on all the data; ``-1`` where every candidate left
        ``f``'s domain (the function cannot describe the edge).
    """

    names: tuple[str, ...]
    params: np.ndarray
    r2: np.ndarray


def _unit(f: Array) -> tuple[Array, Array]:
    """``(f / max |f|, max |f|)`` over the last axis (``1`` where ``f`` is all 0).

    R² does not depend on the scale of ``f``, but its sums of squares do: a
    candidate whose values are around 1e-20 squares to nothing in float32
    while ``sum f y`` does not, which read as R² > 1.
    """
    m = jnp.max(jnp.abs(f), axis=-1, keepdims=True)
    m = jnp.where(m > 0, m, 1.0)
    return f / m, m


def _r2(f: Array, yc: Array, syy: Array) -> Array:
    """R² of the line ``y ~ f`` (``f [..., N]``, ``yc`` centred); ``-1`` if ``f`` is not finite."""
    finite = jnp.all(jnp.isfinite(f), axis=-1)
    f = _unit(jnp.where(jnp.isfinite(f), f, 0.0))[0]
    fc = f - jnp.mean(f, axis=-1, keepdims=True)
    sff = jnp.sum(fc * fc, axis=-1)
    sfy = jnp.sum(fc * yc, axis=-1)
    scale = jnp.sum(f * f, axis=-1) * jnp.finfo(f.dtype).eps + jnp.finfo(f.dtype).tiny
    r2 = sfy**2 / (jnp.where(sff > scale, sff, 1.0) * syy)
    r2 = jnp.where(sff > scale, r2, 0.0)  # f constant on the data: explains nothing
    return jnp.where(finite & jnp.isfinite(r2), jnp.minimum(r2, 1.0), _REJECTED)


def _line(f: Array, y: Array) -> tuple[Array, Array]:
    """Least-squares ``(c, d)`` of ``y ~ c f + d`` (``f, y [N]``)."""
    u, m = _unit(f)
    uc, yc = u - jnp.mean(u), y - jnp.mean(y)
    suu = jnp.sum(uc * uc)
    c = jnp.where(suu > 0, jnp.sum(uc * yc) / jnp.where(suu > 0, suu, 1.0), 0.0) / m[0]
    return c, jnp.mean(y) - c * jnp.mean(f)


def _grid_sums(fn, a: Array, b: Array, xs: Array, ysc: Array) -> tuple[Array, Array, Array]:
    """``sum f``, ``sum f^2``, ``sum f (y - mean y)`` over the points for every
    candidate ``f = fn(a_i xs + b_j)``: ``[Ga], [Gb], [N] -> 3 x [Ga, Gb]``, one pass."""
    f = _unit(fn(a[:, None, None] * xs + b[None, :, None]))[0]  # R² is scale-free
    return jnp.sum(f, -1), jnp.sum(f * f, -1), jnp.sum(f * ysc, -1)


def _grid_r2(sums, n: int, syy: Array) -> Array:
    """R² of ``y ~ f`` from :func:`_grid_sums`; ``-1`` where ``f`` is not finite."""
    s1, s2, sfy = sums
    sff = s2 - s1 * s1 / n
    informative = sff > s2 * (64 * jnp.finfo(s2.dtype).eps) + jnp.finfo(s2.dtype).tiny
    r2 = jnp.where(informative, sfy**2 / (jnp.where(informative, sff, 1.0) * syy), 0.0)
    ok = jnp.isfinite(s2) & jnp.isfinite(s1) & jnp.isfinite(r2)
    return jnp.where(ok, jnp.minimum(r2, 1.0), _REJECTED)


def _search_one(
    k, fns, x, y, xs, ys, a_range, b_range, grid_number: int, zoom_number: int, zooms: int
):
    """Function ``fns[k]`` on one edge: a grid search on the subsample ``(xs, ys)``, then
    ``zooms`` finer grids around the best candidate; ``(c, d)`` and R² on all of ``(x, y)``.

    ``k`` is a runtime index (``lax.switch``): the search compiles once for all functions.
    """
    ysc = ys - jnp.mean(ys)
    syy = jnp.maximum(jnp.sum(ysc * ysc), jnp.finfo(ys.dtype).tiny)
    branches = [functools.partial(_grid_sums, fn) for fn in fns]

    def best(a, b):
        g_b = b.shape[0]
        r2 = _grid_r2(jax.lax.switch(k, branches, a, b, xs, ysc), xs.shape[0], syy)
        i = jnp.argmax(r2)
        ia, ib = i // g_b, i % g_b
        step_a, step_b = (a[-1] - a[0]) / (a.shape[0] - 1), (b[-1] - b[0]) / (g_b - 1)
        return a[ia], b[ib], step_a, step_b, r2[ia, ib]

    dt = x.dtype
    a0 = jnp.linspace(*(jnp.asarray(v, dt) for v in a_range), grid_number)
    b0 = jnp.linspace(*(jnp.asarray(v, dt) for v in b_range), grid_number)
    unit = jnp.linspace(-1.0, 1.0, zoom_number, dtype=dt)

    def zoom(_, state):  # the next grid spans one step of the last one on each side
        a, b, step_a, step_b, r2 = state
        new_a, new_b, new_step_a, new_step_b, new_r2 = best(a + step_a * unit, b + step_b * unit)
        better = new_r2 > r2  # an even zoom_number's grid misses the centre: keep the best
        pick = lambda new, old: jnp.where(better, new, old)
        return pick(new_a, a), pick(new_b, b), new_step_a, new_step_b, pick(new_r2, r2)

    a, b, _, _, r2_search = jax.lax.fori_loop(0, zooms, zoom, best(a0, b0))
    f = jax.lax.switch(k, list(fns), a * x + b)
    c, d = _line(f, y)
    yc = y - jnp.mean(y)
    r2 = _r2(f, yc, jnp.maximum(jnp.sum(yc * yc), jnp.finfo(dt).tiny))
    ok = (r2_search > _REJECTED) & (r2 > _REJECTED)
    params = jnp.where(ok, jnp.stack([a, b, c, d]), jnp.nan)
    return params, jnp.where(ok, r2, _REJECTED)


@functools.partial(jax.jit, static_argnames=("names", "grid_number", "zoom_number", "zooms"))
def _fit_all(x, y, xs, ys, a_range, b_range, names, grid_number, zoom_number, zooms):
    """Every (edge, function) pair in one loop: ``[E, N] -> [E, F, 4], [E, F]``."""
    fns = tuple(library.get(name).fn for name in names)
    n_e, n_f = x.shape[0], len(names)
    edge, fun = (
        v.reshape(-1) for v in jnp.meshgrid(jnp.arange(n_e), jnp.arange(n_f), indexing="ij")
    )
    search = functools.partial(
        _search_one,
        fns=fns,
        a_range=a_range,
        b_range=b_range,
        grid_number=grid_number,
        zoom_number=zoom_number,
        zooms=zooms,
    )
    params, r2 = jax.lax.map(
        lambda ef: search(ef[1], x=x[ef[0]], y=y[ef[0]], xs=xs[ef[0]], ys=ys[ef[0]]), (edge, fun)
    )
    return params.reshape(n_e, n_f, 4), r2.reshape(n_e, n_f)


def _subsample(x: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points per edge evenly spaced in the order of ``x`` (all of them if fewer)."""
    if x.shape[1] <= n:
        return x, y
    order = np.argsort(x, axis=1)
    pick = order[:, np.linspace(0, x.shape[1] - 1, n).round().astype(int)]
    return np.take_along_axis(x, pick, 1), np.take_along_axis(y, pick, 1)


def fit_affine(
    x,
    y,
    names: Sequence[str] | None = None,
    *,
    a_range: tuple[float, float] = (-10.0, 10.0),
    b_range: tuple[float, float] = (-10.0, 10.0),
    grid_number: int = 101,
    zoom_number: int = 21,
    zooms: int = 4,
    search_points: int = 256,
) -> AffineFit:
    """Fits ``y ~ c f(a x + b) + d`` for every function in ``names`` and every edge.

    Args:
      x: ``[N]`` or ``[E, N]``, each edge's inputs.
      y: same shape, each edge's outputs.
      names: library names (default: all, :func:`kanflow.symbolic.library.names`).
      a_range, b_range: the initial search intervals (pykan's ``(-10, 10)``).
      grid_number: candidates per parameter on the first grid (pykan's 101).
      zoom_number: candidates per parameter on each finer grid, which spans
        one step of the previous grid on each side of its best candidate
        (each zoom divides the step by ``(zoom_number - 1) / 2``; pykan
        zooms 101-point grids three times, about 3x the evaluations of the
        default 101 + 4 x 21).
      zooms: how many finer grids.
      search_points: the search scores candidates on this many points per
        edge (evenly spaced in the order of ``x``); ``(c, d)`` and the
        reported R² use all points.

    Returns:
      An :class:`AffineFit` (``[E, F, ...]``; ``E = 1`` for 1-D input).

    Raises:
      ValueError: shapes that differ, fewer than 3 points, non-finite data,
        unknown names, empty or reversed ranges.
    """
    names = library.names() if names is None else tuple(names)
    for name in names:
        library.get(name)
    if not names:
        raise ValueError("names must list at least one library function")
    x, y = np.asarray(x), np.asarray(y)
    if x.shape != y.shape or x.ndim not in (1, 2):
        raise ValueError(f"x and y must both be [N] or [E, N], got shapes {x.shape} and {y.shape}")
    x2, y2 = np.atleast_2d(x), np.atleast_2d(y)
    if x2.shape[1] < 3:
        raise ValueError(f"fitting an edge needs at least 3 points, got {x2.shape[1]}")
    if not (np.all(np.isfinite(x2)) and np.all(np.isfinite(y2))):
        raise ValueError("x and y must be finite")
    for label, (lo, hi) in (("a_range", a_range), ("b_range", b_range)):
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(
                f"{label} must be a finite interval (lo, hi) with lo < hi, got {(lo, hi)}"
            )
    if min(grid_number, zoom_number, search_points) < 3 or zooms < 0:
        raise ValueError(
            f"need grid_number, zoom_number, search_points >= 3 and zooms >= 0, got "
            f"{grid_number}, {zoom_number}, {search_points}, {zooms}"
        )
    dtype = jnp.result_type(float)  # float64 when x64 is enabled
    xs, ys = _subsample(x2, y2, search_points)
    params, r2 = _fit_all(
        *(jnp.asarray(v, dtype) for v in (x2, y2, xs, ys)),
        tuple(float(v) for v in a_range),
        tuple(float(v) for v in b_range),
        names,
        int(grid_number),
        int(zoom_number),
        int(zooms),
    )
    params, r2 = np.array(params, np.float64), np.array(r2, np.float64)
    for e in range(params.shape[0]):
        for k, name in enumerate(names):
            if r2[e, k] > _REJECTED:
                params[e, k] = library.canonical(name, params[e, k])
    return AffineFit(names, params, r2)


def selection_loss(r2, complexity, weight_simple: float = 0.8):
    """pykan's ranking of candidate functions: lower is better.

    ``weight_simple * complexity + (1 - weight_simple) * log2(1 + 1e-5 - R²)``,
    with ``R²`` capped at ``1 - 1e-6``: fits closer than that are equally good
    (pykan's term already varies by less than 0.14 bits above it), so the
    simpler function wins, and among equally complex ones the first in the
    library's order. Without the cap, ``cos`` with a tiny ``a`` (a parabola to
    1e-10) can beat the ``x^2`` it imitates by a rounding error in ``R²``,
    and its formula then loses the constant it needs in the rounding. A
    rejected candidate (R² = -1) scores ``+inf``. Broadcasts over ``r2``
    ``[..., F]`` and ``complexity`` ``[F]``.
    """
    if not 0.0 <= weight_simple <= 1.0:
        raise ValueError(f"weight_simple must lie in [0, 1], got {weight_simple}")
    r2 = np.asarray(r2, np.float64)
    fit = np.log2(1.0 + 1e-5 - np.clip(r2, None, 1.0 - 1e-6))
    loss = weight_simple * np.asarray(complexity, np.float64) + (1.0 - weight_simple) * fit
    return np.where(r2 > _REJECTED, loss, np.inf)
