"""Building blocks for physics-informed networks on PDEs in any dimension.

A network ``u: [n, d] -> [n]`` (or ``[n, 1]``) is *pointwise*: row ``i`` of the
output depends on row ``i`` of the input only. Derivatives of any order along
any coordinates are then one forward-mode ``jvp`` per order, for all points at
once (tangent ``e_j`` in every row), which is cheaper than reverse mode for the
low-dimensional inputs of PDEs.

* :func:`partial` / :func:`laplacian`: ``d^k u / dx_{a_1} .. dx_{a_k}`` and ``sum_j u_jj``.
* :func:`partials`: several derivatives at once, sharing the network's forward
  pass (what a residual with ``u``, ``u_t``, ``u_x`` and ``u_xx`` should use).
* :func:`sobol` / :func:`latin_hypercube`: collocation points in a box
  (``scipy.stats.qmc``).
* :func:`rba_update`: residual-based attention weights (arXiv 2307.00379):
  ``lambda <- gamma lambda + eta |r| / max |r|``, per point.
* :func:`rad_probabilities` / :func:`rad_resample`: residual-based adaptive
  distribution (arXiv 2207.10289): sample new points with probability
  ``propto |r|^k / mean(|r|^k) + c``.
* :func:`causal_weights`: causal training (arXiv 2203.07404): the interior
  loss is split into time slices and slice ``i`` is weighted by
  ``exp(-eps * sum_{k<i} L_k)``, so later times count only once earlier ones
  are resolved; ``eps`` grows through a ladder as every weight nears 1.
* :func:`transfer_moments`: the adaptive state transition of arXiv 2407.17611
  at a grid extension: Adam's step count is kept and each moment of a spline
  coefficient row is resampled onto the new row length by linear
  interpolation along the basis index.
* :class:`Problem`, :class:`Condition`, :func:`train`: a PDE as data (interior
  residual, boundary and initial terms, a reference), trained by Adam with RBA
  weights, RAD resampling and grid updates/extensions at given steps, one
  compiled step per grid size; with ``checkpoint_dir`` it saves its whole
  state with orbax and a second call resumes exactly.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import Array
from tqdm.auto import tqdm

__all__ = [
    "Condition",
    "PDEResult",
    "Problem",
    "causal_weights",
    "latin_hypercube",
    "laplacian",
    "partial",
    "partials",
    "rad_probabilities",
    "rad_resample",
    "rba_update",
    "sobol",
    "train",
    "transfer_moments",
]


def _scalar_field(u: Callable[[Array], Array]) -> Callable[[Array], Array]:
    def f(x: Array) -> Array:
        out = u(x)
        if out.ndim == 2 and out.shape[1] == 1:
            out = out[:, 0]
        if out.shape != x.shape[:1]:
            raise ValueError(
                f"u must map points [n, d] to values [n] or [n, 1], got {x.shape} -> {out.shape}"
            )
        return out

    return f


def partial(u: Callable[[Array], Array], x: Array, axes: Sequence[int] = ()) -> Array:
    """``d^k u / dx_{axes[0]} ... dx_{axes[k-1]}`` at ``x [n, d]`` -> ``[n]`` (``axes=()``: ``u``).

    ``u`` must be pointwise (row i of the output depends on row i of ``x`` only),
    as every per-point network is; the derivative is nested forward mode.

    Raises:
      ValueError: ``x`` is not ``[n, d]``, an axis is out of range, or ``u``'s
        output is not ``[n]`` / ``[n, 1]``.
    """
    (axes,) = _checked_requests(x, [axes])
    f = _scalar_field(u)
    for a in axes:
        f = _directional(f, a)
    return f(x)


def _checked_requests(x: Array, requests: Sequence[Sequence[int]]) -> list[tuple[int, ...]]:
    """Each request as a tuple of ints.

    Raises:
      ValueError: ``x`` is not ``[n, d]``, or an axis is not in ``[0, d)``.
    """
    if x.ndim != 2:
        raise ValueError(f"x must be points [n, d], got shape {x.shape}")
    requests = [tuple(int(a) for a in r) for r in requests]
    for r in requests:
        if any(not 0 <= a < x.shape[1] for a in r):
            raise ValueError(f"axes must be in [0, {x.shape[1]}), got {r}")
    return requests


def _unit(x: Array, axis: int) -> Array:
    """The tangent ``e_axis`` in every row of ``x [n, d]``."""
    return jnp.zeros_like(x).at[:, axis].set(1.0)


def _directional(f: Callable[[Array], Array], axis: int) -> Callable[[Array], Array]:
    def df(x: Array) -> Array:
        return jax.jvp(f, (x,), (_unit(x, axis),))[1]

    return df


def partials(
    u: Callable[[Array], Array], x: Array, requests: Sequence[Sequence[int]]
) -> tuple[Array, ...]:
    """Several derivatives of ``u`` at ``x [n, d]``, each ``[n]``, sharing work.

    ``partials(u, x, [(), (0,), (1,), (1, 1)])`` is ``(u, u_0, u_1, u_11)``, the
    same values as :func:`partial` for each request, but the network runs its
    forward pass once per distinct first axis of the second-order requests (one
    ``jax.linearize`` of ``x -> du/dx_a``, whose linear map then gives every
    ``u_b`` and ``u_ab``), not once per request. Requests of order three or more
    fall back to :func:`partial`.

    Raises:
      ValueError: as :func:`partial`.
    """
    requests = _checked_requests(x, requests)
    f = _scalar_field(u)
    found: dict[tuple[int, ...], Array] = {}
    firsts = sorted({r[0] for r in requests if len(r) == 2})
    for a in firsts:  # (u, u_a) and the map dx -> (du, d u_a)
        (value, found[(a,)]), linear = jax.linearize(
            lambda z, a=a: jax.jvp(f, (z,), (_unit(z, a),)), x
        )
        found[()] = value
        seconds = {r[1] for r in requests if len(r) == 2 and r[0] == a}
        firsts_left = {r[0] for r in requests if len(r) == 1 and r not in found}
        for b in seconds | firsts_left:  # each u_b once, from the first linearisation
            found[(b,)], found[(a, b)] = linear(_unit(x, b))
    if not firsts and any(len(r) <= 1 for r in requests):
        found[()], linear = jax.linearize(f, x)
        for b in {r[0] for r in requests if len(r) == 1}:
            found[(b,)] = linear(_unit(x, b))
    return tuple(found[r] if r in found else partial(u, x, r) for r in requests)


def laplacian(u: Callable[[Array], Array], x: Array, axes: Sequence[int] | None = None) -> Array:
    """``sum_j d^2 u / dx_j^2`` over ``axes`` (default all) at ``x [n, d]`` -> ``[n]``."""
    axes = range(x.shape[-1]) if axes is None else tuple(axes)
    if not axes:
        raise ValueError("axes must name at least one input dimension")
    return sum(partial(u, x, (a, a)) for a in axes)


def _box(lo: Sequence[float], hi: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.asarray(lo, np.float64).ravel(), np.asarray(hi, np.float64).ravel()
    if lo.size < 1 or lo.shape != hi.shape or not np.all(hi > lo):
        raise ValueError(f"need lo < hi, of one length d >= 1 each, got lo={lo}, hi={hi}")
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise ValueError(f"the box must be finite, got lo={lo}, hi={hi}")
    return lo, hi


def sobol(n: int, lo: Sequence[float], hi: Sequence[float], seed: int = 0) -> np.ndarray:
    """``n`` scrambled Sobol points in the box ``[lo, hi]`` -> ``[n, d]`` (float64).

    ``n`` need not be a power of two (the sequence is then not balanced, which
    scipy warns about; the warning is silenced here).
    """
    lo, hi = _box(lo, hi)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    from scipy.stats import qmc  # imported here: scipy.stats alone takes ~1 s to import

    engine = qmc.Sobol(lo.size, scramble=True, seed=seed)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*balance properties.*")
        unit = engine.random(n)
    return lo + (hi - lo) * unit


def latin_hypercube(n: int, lo: Sequence[float], hi: Sequence[float], seed: int = 0) -> np.ndarray:
    """``n`` Latin-hypercube points in the box ``[lo, hi]`` -> ``[n, d]`` (float64)."""
    lo, hi = _box(lo, hi)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    from scipy.stats import qmc

    return lo + (hi - lo) * qmc.LatinHypercube(lo.size, seed=seed).random(n)


def rba_update(weights: Array, residual: Array, gamma: float = 0.999, eta: float = 0.01) -> Array:
    """Residual-based attention: ``gamma * weights + eta * |r| / max |r|`` (per point, ``[n]``).

    The weights stay bounded by ``eta / (1 - gamma)``; they multiply each point's
    residual in the loss (``mean((w r)^2)``) and carry no gradient.
    """
    r = jnp.abs(jax.lax.stop_gradient(residual))
    return gamma * weights + eta * r / jnp.maximum(jnp.max(r), jnp.finfo(r.dtype).tiny)


def rad_probabilities(residual: Array, k: float = 1.0, c: float = 1.0) -> Array:
    """Sampling probabilities ``propto |r|^k / mean(|r|^k) + c`` over candidate points ``[m]``.

    ``k, c >= 0`` (a negative one would invert the ranking or give negative
    probabilities); a concrete ``residual`` must be finite.
    """
    for name, v in (("k", k), ("c", c)):
        if not isinstance(v, jax.core.Tracer) and not v >= 0:
            raise ValueError(f"rad {name} must be >= 0, got {v!r}")
    if not isinstance(residual, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(residual))):
        raise ValueError("the residual at the resampling candidates is not finite")
    e = jnp.abs(residual) ** k
    p = e / jnp.maximum(jnp.mean(e), jnp.finfo(e.dtype).tiny) + c
    return p / jnp.sum(p)


def rad_resample(
    key: Array, candidates: Array, residual: Array, n: int, k: float = 1.0, c: float = 1.0
) -> Array:
    """``n`` of ``candidates [m, d]``, drawn without replacement by :func:`rad_probabilities`."""
    if n > candidates.shape[0]:
        raise ValueError(f"cannot draw {n} points from {candidates.shape[0]} candidates")
    p = rad_probabilities(residual, k, c)
    idx = jax.random.choice(key, candidates.shape[0], (n,), replace=False, p=p)
    return candidates[idx]


def causal_weights(slice_losses: Array, eps: float | Array) -> Array:
    """``exp(-eps * sum_{k<i} L_k)`` for time-slice losses ``L [n_slices]`` -> ``[n_slices]``.

    Causal training (Wang, Sankaran & Perdikaris, arXiv 2203.07404, eq. 2.9):
    slice ``i``'s residual loss counts only once the slices before it are
    small. The first weight is 1; the weights carry no gradient.
    """
    losses = jax.lax.stop_gradient(slice_losses)
    before = jnp.cumsum(losses) - losses
    return jnp.exp(-eps * before)


def _time_slices(x: Array, axis: int, lo: float, hi: float, n: int) -> Array:
    """Slice index in ``[0, n)`` of each point of ``x [m, d]`` along ``axis`` -> ``[m]`` int32."""
    frac = (x[:, axis] - lo) / (hi - lo)
    return jnp.clip(jnp.floor(frac * n), 0, n - 1).astype(jnp.int32)


def _causal_loss(sq: Array, slices: Array, n: int, eps: Array) -> tuple[Array, Array]:
    """The causally weighted mean of per-point losses ``sq [m]`` over ``n`` time slices.

    Returns ``(loss, weights [n])``: ``mean_i(w_i L_i)`` over the non-empty
    slices, ``L_i`` the mean of ``sq`` in slice ``i``.
    """
    sums = jax.ops.segment_sum(sq, slices, num_segments=n)
    counts = jax.ops.segment_sum(jnp.ones_like(sq), slices, num_segments=n)
    losses = sums / jnp.maximum(counts, 1)
    w = causal_weights(losses, eps)
    return jnp.sum(w * losses) / jnp.maximum(jnp.sum(counts > 0), 1), w


def _resample_row(leaf: Array, length: int) -> Array:
    """Linear interpolation of ``leaf [..., J, out]`` along axis -2 to ``length`` entries."""
    old = leaf.shape[-2]
    pos = jnp.arange(length) * (old - 1) / max(length - 1, 1)
    lo = jnp.clip(jnp.floor(pos).astype(jnp.int32), 0, old - 1)
    hi = jnp.clip(lo + 1, 0, old - 1)
    frac = (pos - lo).astype(leaf.dtype)[:, None]
    return jnp.take(leaf, lo, axis=-2) * (1 - frac) + jnp.take(leaf, hi, axis=-2) * frac


def transfer_moments(optimizer: optax.GradientTransformation, opt_state, new_params):
    """The optimiser state for ``new_params`` after a grid extension (arXiv 2407.17611).

    Every params-shaped part of ``opt_state`` (Adam's ``mu`` and ``nu``) keeps the
    leaves whose shape is unchanged; a leaf whose basis axis (``[in, J, out]``,
    axis -2) changed length is resampled by linear interpolation along that axis
    (non-negative moments stay non-negative). Counts and schedule states are kept.

    Raises:
      ValueError: a leaf changed shape other than along axis -2.
    """

    def move(leaf, new):
        if not hasattr(leaf, "shape") or leaf.shape == new.shape:
            return leaf
        if leaf.ndim < 2 or leaf.shape[:-2] + leaf.shape[-1:] != new.shape[:-2] + new.shape[-1:]:
            raise ValueError(f"cannot carry a moment of shape {leaf.shape} over to {new.shape}")
        return _resample_row(leaf, new.shape[-2]).astype(leaf.dtype)

    return optax.tree_utils.tree_map_params(optimizer, move, opt_state, new_params)


@dataclasses.dataclass(frozen=True)
class Condition:
    """A boundary or initial term on fixed points.

    Attributes:
      name: a label (``"left"``, ``"initial"``, ...).
      points: ``[m, d]``.
      residual: ``(u, x) -> [m]``, zero when the condition holds (e.g.
        ``lambda u, x: partial(u, x) - g(x)``, or a Neumann form with
        ``partial(u, x, (axis,))``).
      weight: the term's weight in the loss.
    """

    name: str
    points: np.ndarray
    residual: Callable[[Callable[[Array], Array], Array], Array]
    weight: float = 1.0


@dataclasses.dataclass(frozen=True)
class Problem:
    """A PDE on a box, as data.

    Attributes:
      name: a label.
      lo, hi: the box ``[lo, hi]`` (collocation is drawn in it).
      residual: ``(u, x) -> [n]``: the interior residual at collocation points
        ``x [n, d]``, for a pointwise network ``u: [n, d] -> [n, 1]`` (use
        :func:`partials`, which shares one forward pass between derivatives,
        or :func:`partial` / :func:`laplacian`).
      conditions: boundary and initial terms.
      reference: ``x [m, d] -> u [m]`` (exact or computed), or None.
      eval_points: ``[m, d]`` where the relative L2 error is measured.
      residual_weight: the interior term's weight.
    """

    name: str
    lo: tuple[float, ...]
    hi: tuple[float, ...]
    residual: Callable[[Callable[[Array], Array], Array], Array]
    conditions: tuple[Condition, ...]
    reference: Callable[[np.ndarray], np.ndarray] | None = None
    eval_points: np.ndarray | None = None
    residual_weight: float = 1.0

    @functools.cached_property
    def reference_values(self) -> np.ndarray:
        """The reference at :attr:`eval_points` ``[m]``, computed once (a Radau or
        Gauss-Hermite solve for some problems)."""
        if self.reference is None or self.eval_points is None:
            raise ValueError(f"problem {self.name!r} has no reference or eval_points")
        return np.asarray(self.reference(self.eval_points), np.float64).ravel()

    def relative_l2(self, u: Callable[[np.ndarray], np.ndarray]) -> float:
        """``||u - ref|| / ||ref||`` on :attr:`eval_points`."""
        ref = self.reference_values
        got = np.asarray(u(self.eval_points), np.float64).ravel()
        return float(np.linalg.norm(got - ref) / np.linalg.norm(ref))


@dataclasses.dataclass
class PDEResult:
    """What :func:`train` returns.

    Attributes:
      model, variables: the trained network (the model is re-created at each
        grid extension).
      u: ``x [m, d] -> u [m]`` (NumPy), jit-compiled.
      history: ``step``, ``loss``, ``l2`` (relative L2 error on the problem's
        eval points; NaN without a reference), every ``eval_every`` steps.
      l2: the final relative L2 error (NaN without a reference).
      wall_time: seconds, compilation included.
    """

    model: nn.Module
    variables: dict
    u: Callable[[np.ndarray], np.ndarray]
    history: dict[str, list]
    l2: float
    wall_time: float


def train(
    problem: Problem,
    model: nn.Module,
    steps: int,
    *,
    seed: int = 0,
    learning_rate: float | optax.Schedule = 1e-3,
    collocation: int = 4096,
    rba: bool = True,
    rba_gamma: float = 0.9999,
    rba_eta: float = 1e-4,
    grid_sizes: Mapping[int, int] | None = None,
    grid_update_every: int | None = None,
    grid_update_until: int | None = None,
    grid_update_start: int = 0,
    grid_eps: float = 0.05,
    grid_margin: float = 0.0,
    resample_at: Sequence[int] = (),
    resample_pool: int = 2**16,
    causal_axis: int | None = None,
    causal_slices: int = 32,
    causal_eps: Sequence[float] = (1e-2, 1e-1, 1.0, 10.0, 100.0),
    causal_tol: float = 0.99,
    eval_every: int = 1000,
    nesterov: bool = False,
    optimizer: optax.GradientTransformation | None = None,
    variables: dict | None = None,
    dtype: Any = jnp.float32,
    quiet: bool = False,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 1000,
    keep_checkpoints: int = 2,
    resume: bool = True,
) -> PDEResult:
    """Trains ``model`` on ``problem`` with Adam, full batch.

    Args:
      problem: the PDE (:class:`Problem`).
      model: a network ``[n, d] -> [n, 1]`` (e.g. ``kf.models.KAN((2, 8, 8, 1))``).
      steps: Adam steps.
      seed: initialisation and resampling seed (collocation: Sobol, seeded).
      learning_rate: a float or an optax schedule of the step.
      collocation: interior points (scrambled Sobol in the box).
      rba, rba_gamma, rba_eta: residual-based attention per point for every
        term (:func:`rba_update`, weights start at 1; jaxKAN's defaults).
      grid_sizes: ``{step: G}``: B-spline grid extensions (``{0: 3, 8000: 8}``);
        the optimiser's moments are carried over (:func:`transfer_moments`).
        A size at step 0 sets the initial grid.
      grid_update_every: also move the grids to the current layer inputs
        (same G) every this many steps, from ``grid_update_start``.
      grid_update_until: the last step such an update may fall on (default:
        none; arXiv 2407.17611 stops them at 70000 or 75000 of 1e5 steps).
      grid_update_start: the first such update's step: 0 (default) fits the
        grids to the collocation points before the first step, as arXiv
        2407.17611's code does; ``grid_update_start=grid_update_every`` keeps
        the initial grids for one period.
      grid_eps, grid_margin: uniform share of the updated grids and how far its
        uniform part reaches past the samples (:func:`kanflow.grid.update`'s
        ``grid_eps`` and ``margin``; jaxKAN 0.1 widens by 0.01, pykan by 0).
      resample_at: steps at which all collocation points are redrawn by RAD
        (:func:`rad_resample`, ``k = c = 1``) from a Sobol pool of
        ``resample_pool`` points; the interior RBA weights restart at their
        mean, and adaptive grids move to the new points.
      causal_axis: the time coordinate, for causal training (arXiv
        2203.07404; default None: off): the interior loss becomes
        ``mean_i(w_i L_i)`` over ``causal_slices`` equal slices of the box
        along this axis, ``L_i`` the slice's mean weighted squared residual and
        ``w_i`` = :func:`causal_weights`. ``eps`` starts at ``causal_eps[0]``
        and moves to the next entry once every ``w_i`` exceeds ``causal_tol``
        (checked each step, in the compiled step), staying at the last; the
        defaults are the paper's ladder and tolerance. Boundary and initial
        terms are not weighted. ``history`` then also records
        ``causal_eps`` and ``causal_min_weight``.
      eval_every: relative L2 error every this many steps.
      nesterov: Adam with Nesterov momentum (NAdam; arXiv 2407.17611's
        adaptive runs use it).
      optimizer: another optax optimiser instead of Adam (``learning_rate``
        and ``nesterov`` are then unused); its Adam-like moments are carried
        over grid extensions as well.
      variables: start from these (``model.init``'s structure and shapes, after
        any step-0 grid size) instead of ``model.init`` with ``seed``.
      dtype: the parameters' and points' dtype.
      quiet: hide the progress bar.
      checkpoint_dir: save the whole training state (network, grids, optimiser,
        RBA weights, collocation points, resampling key, causal rung, history,
        wall time) there with orbax every ``checkpoint_every`` steps, at the
        end and on ``KeyboardInterrupt`` (keeping the newest
        ``keep_checkpoints``). With ``resume``, a call with the same arguments
        continues from the newest checkpoint and ends where the uninterrupted
        run would have ended; so does a call with a larger ``steps`` whose
        schedule (grid extensions and updates, resamplings, learning rates)
        agrees with the checkpoint's up to its step. Without ``resume``, the
        folder's checkpoints are set aside (``<step>.superseded``, with a
        warning) and the run starts afresh.
      checkpoint_every, keep_checkpoints, resume: see ``checkpoint_dir``.

    Returns:
      :class:`PDEResult` (``wall_time`` summed over resumed calls).

    Raises:
      ValueError: bad arguments, or a checkpoint of another run (network,
        problem, collocation, seed, dtype, causal, RBA, grid or optimiser
        settings), of another schedule before its step, or past ``steps``;
      FloatingPointError: the loss became non-finite (the message names the step).
    """
    from kanflow import grid as kgrid

    if steps < 1 or collocation < 1 or eval_every < 1:
        raise ValueError("steps, collocation and eval_every must be >= 1")
    grid_sizes = dict(grid_sizes or {})
    if any(not 0 <= s < steps for s in grid_sizes) or any(not 0 < s < steps for s in resample_at):
        raise ValueError("grid_sizes and resample_at steps must lie in [0, steps)")
    causal_eps = tuple(float(e) for e in causal_eps)
    if causal_axis is not None:
        if not 0 <= causal_axis < len(problem.lo):
            raise ValueError(f"causal_axis must be in [0, {len(problem.lo)}), got {causal_axis}")
        if causal_slices < 1 or not causal_eps or any(e < 0 for e in causal_eps):
            raise ValueError(
                "causal_slices must be >= 1 and causal_eps a non-empty sequence of values >= 0, "
                f"got {causal_slices} and {causal_eps}"
            )
        if not 0 < causal_tol <= 1:
            raise ValueError(f"causal_tol must be in (0, 1], got {causal_tol}")
    if grid_update_every is not None and (grid_update_every < 1 or grid_update_start < 0):
        raise ValueError(
            "grid_update_every must be >= 1 and grid_update_start >= 0, "
            f"got {grid_update_every} and {grid_update_start}"
        )
    if grid_update_until is not None and grid_update_until < grid_update_start:
        raise ValueError(
            f"grid_update_until ({grid_update_until}) is before grid_update_start "
            f"({grid_update_start}): no grid update would run"
        )
    if rba and not (0 <= rba_gamma < 1 and rba_eta > 0):
        raise ValueError(
            f"rba_gamma must be in [0, 1) and rba_eta > 0, got {rba_gamma} and {rba_eta}"
        )
    if optimizer is None and not callable(learning_rate) and not learning_rate > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    if grid_sizes and not hasattr(model, "grid_size"):
        raise ValueError(f"grid_sizes needs a model with a grid_size, got {type(model).__name__}")
    t0 = time.perf_counter()
    if 0 in grid_sizes:
        model = model.clone(grid_size=grid_sizes[0])
    x = jnp.asarray(sobol(collocation, problem.lo, problem.hi, seed), dtype)
    cond_x = [jnp.asarray(c.points, dtype) for c in problem.conditions]
    if variables is None:
        variables = jax.jit(model.init)(jax.random.key(seed), x[:1])
    else:
        fresh = jax.eval_shape(model.init, jax.random.key(seed), x[:1])
        shapes = lambda t: jax.tree.map(lambda a: (tuple(a.shape), jnp.dtype(a.dtype)), t)
        if shapes(variables) != shapes(fresh):
            raise ValueError(
                "variables must have model.init's structure, shapes and dtypes "
                f"{shapes(fresh)}, got {shapes(variables)}"
            )
    params = variables["params"]
    rest = {k: v for k, v in variables.items() if k != "params"}
    custom_optimizer = optimizer is not None
    if optimizer is None:
        optimizer = optax.adam(learning_rate, nesterov=nesterov)
    opt_state = optimizer.init(params)
    weights = [jnp.ones(x.shape[0], dtype)] + [jnp.ones(c.shape[0], dtype) for c in cond_x]
    causal = causal_axis is not None
    eps_ladder = jnp.asarray(causal_eps, dtype)

    def slices_of(x):
        if not causal:
            return jnp.zeros(x.shape[0], jnp.int32)
        a = causal_axis
        return _time_slices(x, a, problem.lo[a], problem.hi[a], causal_slices)

    slices = slices_of(x)
    rung = jnp.zeros((), jnp.int32)  # the position on the eps ladder

    def make_step(net):
        def terms(p, rest, x):
            u = lambda z: net.apply({"params": p, **rest}, z)
            rs = [problem.residual(u, x)]
            rs += [c.residual(u, z) for c, z in zip(problem.conditions, cond_x, strict=True)]
            return rs

        def loss_fn(p, rest, x, weights, slices, rung):
            rs = terms(p, rest, x)
            scales = [problem.residual_weight] + [c.weight for c in problem.conditions]
            sq = (weights[0] * rs[0]) ** 2
            if causal:
                first, cw = _causal_loss(sq, slices, causal_slices, eps_ladder[rung])
            else:
                first, cw = jnp.mean(sq), jnp.ones(1, dtype)
            cond_means = [jnp.mean((w * r) ** 2) for w, r in zip(weights[1:], rs[1:], strict=True)]
            means = [first, *cond_means]
            loss = sum(s * m for s, m in zip(scales, means, strict=True))
            return loss, (rs, jnp.min(cw))

        @jax.jit
        def step(p, opt_state, rest, x, weights, slices, rung):
            (loss, (rs, min_cw)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                p, rest, x, weights, slices, rung
            )
            updates, opt_state = optimizer.update(grads, opt_state, p)
            if rba:
                weights = [
                    rba_update(w, r, rba_gamma, rba_eta) for w, r in zip(weights, rs, strict=True)
                ]
            if causal:
                rung = jnp.where(
                    min_cw > causal_tol, jnp.minimum(rung + 1, len(causal_eps) - 1), rung
                )
            return optax.apply_updates(p, updates), opt_state, weights, loss, rung, min_cw

        @jax.jit
        def interior(p, rest, x):
            return problem.residual(lambda z: net.apply({"params": p, **rest}, z), x)

        @jax.jit
        def predict(p, rest, z):
            return net.apply({"params": p, **rest}, z)[:, 0]

        return step, interior, predict

    history: dict[str, list] = {"step": [], "loss": [], "l2": []}
    if causal:
        history |= {"causal_eps": [], "causal_min_weight": []}
    key = jax.random.key(seed + 1)
    pool = None

    def pack() -> dict:
        """The training state after a step, as a pytree of arrays."""
        data = jax.random.key_data(key)
        return dict(params=params, rest=rest, opt=opt_state, w=weights, x=x, key=data, rung=rung)

    extensions = {k for k in grid_sizes if k > 0}  # steps that start by extending the grids
    updates = set()  # steps that start by moving the grids (same G)
    if grid_update_every:
        last_update = steps - 1 if grid_update_until is None else min(grid_update_until, steps - 1)
        updates = set(range(grid_update_start, last_update + 1, grid_update_every))
        updates -= extensions

    start, prior_time, run_id = 0, 0.0, None
    ckpt = None
    if checkpoint_dir is not None:
        from kanflow.train.checkpoint import Checkpointer, settings_differences

        ckpt = Checkpointer(checkpoint_dir, checkpoint_every, keep_checkpoints)
        init_shapes = jax.eval_shape(model.init, jax.random.key(seed), x[:1])
        run_id = dict(
            model=type(model).__name__,
            shapes=str(jax.tree.map(lambda a: tuple(a.shape), init_shapes)),
            problem=problem.name,
            collocation=collocation,
            seed=seed,
            dtype=jnp.dtype(dtype).name,
            causal_axis=causal_axis,
            causal=[causal_slices, list(causal_eps), causal_tol] if causal else None,
            rba=[rba_gamma, rba_eta] if rba else None,
            grid=[grid_eps, grid_margin],
            resample_pool=resample_pool,
            optimizer="custom" if custom_optimizer else "nadam" if nesterov else "adam",
        )
        run_id = json.loads(json.dumps(run_id))  # as it reads back
        base_model = model

        def past(done: int) -> str:
            """A digest of the schedule before step ``done``, which a resumed call must share:
            grid extensions, grid updates, resamplings and learning rates."""
            events = [
                [i, grid_sizes.get(i) if i in extensions else None, i in updates, i in resample_at]
                for i in sorted({*extensions, *updates, *resample_at})
                if i < done
            ]
            rates = np.zeros(0, np.float32)  # a custom optimiser's are its own
            if not custom_optimizer and callable(learning_rate) and done:
                rates = np.asarray(jax.vmap(learning_rate)(jnp.arange(done)), np.float32)
            elif not custom_optimizer:
                rates = np.full(done, learning_rate, np.float32)
            return hashlib.sha256(json.dumps(events).encode() + rates.tobytes()).hexdigest()[:16]

        def model_at(done: int) -> nn.Module:
            """The network after ``done`` steps (extensions at steps < done applied)."""
            passed = [k for k in extensions if k < done]
            return base_model.clone(grid_size=grid_sizes[max(passed)]) if passed else base_model

        def state_like(done: int) -> dict:
            v = jax.eval_shape(model_at(done).init, jax.random.key(seed), x[:1])
            p = v["params"]
            like = dict(pack(), params=p, opt=jax.eval_shape(optimizer.init, p))
            return like | {"rest": {k: a for k, a in v.items() if k != "params"}}

        def check(meta: dict) -> None:
            done, saved = int(meta.get("steps_done", -1)), meta.get("run") or {}
            where = f"the checkpoint in {ckpt.directory} (step {done})"
            advice = "Use another checkpoint_dir, or resume=False."
            what = settings_differences(saved, run_id)
            if what:
                raise ValueError(f"{where} is another run's: {what}. {advice}")
            if done > steps:
                raise ValueError(f"{where} is past steps={steps}. {advice}")
            if meta.get("past") != past(done):
                raise ValueError(
                    f"{where} followed another schedule before that step (grid extensions, "
                    f"grid updates, resampling or learning rate) than this call's. {advice}"
                )

        # another run's checkpoint is refused (by check) before its arrays are read
        try:
            restored = ckpt.restore(state_like, check=check) if resume else None
        except ValueError:
            ckpt.close()
            raise
        if not resume:
            ckpt.start_afresh()  # an earlier run's steps would be restored by a later resume
        if restored is not None:
            saved, meta = restored
            start, history = int(meta["steps_done"]), meta["history"]
            prior_time = float(meta["wall_time"])
            model = model_at(start)
            params, rest, opt_state = saved["params"], saved["rest"], saved["opt"]
            weights, x, rung = list(saved["w"]), saved["x"], saved["rung"]
            key = jax.random.wrap_key_data(saved["key"])
            slices = slices_of(x)

    def meta_at(done: int) -> dict:
        elapsed = time.perf_counter() - t0 + prior_time
        return dict(
            run=run_id, steps_done=done, past=past(done), wall_time=elapsed, history=history
        )

    step, interior, predict = make_step(model)

    def error(p, rest) -> float:
        if problem.reference is None or problem.eval_points is None:
            return float("nan")
        z = jnp.asarray(problem.eval_points, dtype)
        return problem.relative_l2(lambda _: np.asarray(predict(p, rest, z)))

    def move_grids(params, rest, x):
        """The grids moved to the layer inputs on ``x`` (same G), coefficients refitted."""
        _, new_vars = kgrid.update(
            model, {"params": params, **rest}, x, grid_eps=grid_eps, margin=grid_margin
        )
        return new_vars["params"], {k: v for k, v in new_vars.items() if k != "params"}

    bar = tqdm(total=steps, initial=start, desc=problem.name, disable=quiet, dynamic_ncols=True)
    snapshot = pack if ckpt is not None else dict  # the state after the last whole step
    done, last = start, snapshot()
    try:
        for i in range(start, steps):
            if i in extensions:
                new_model, new_vars = kgrid.extend(
                    model,
                    {"params": params, **rest},
                    x,
                    grid_sizes[i],
                    grid_eps=grid_eps,
                    margin=grid_margin,
                )
                opt_state = transfer_moments(optimizer, opt_state, new_vars["params"])
                model, params = new_model, new_vars["params"]
                rest = {k: v for k, v in new_vars.items() if k != "params"}
                step, interior, predict = make_step(model)
            elif i in updates and "grid" in rest:
                params, rest = move_grids(params, rest, x)
            if i in resample_at:
                if pool is None:
                    pool = jnp.asarray(
                        sobol(resample_pool, problem.lo, problem.hi, seed + 2), dtype
                    )
                key, sub = jax.random.split(key)
                x = rad_resample(sub, pool, interior(params, rest, pool), collocation)
                weights[0] = jnp.full_like(weights[0], jnp.mean(weights[0]))
                slices = slices_of(x)
                if "grid" in rest:
                    params, rest = move_grids(params, rest, x)
            params, opt_state, weights, loss, next_rung, min_cw = step(
                params, opt_state, rest, x, weights, slices, rung
            )
            if (i + 1) % eval_every == 0 or i + 1 == steps:
                loss = float(loss)
                if not np.isfinite(loss):
                    raise FloatingPointError(f"PDE training: non-finite loss at step {i + 1}")
                history["step"].append(i + 1)
                history["loss"].append(loss)
                history["l2"].append(error(params, rest))
                if causal:  # the eps this step trained with, and its smallest weight
                    history["causal_eps"].append(causal_eps[int(rung)])
                    history["causal_min_weight"].append(float(min_cw))
                bar.set_postfix(loss=f"{loss:.3e}", l2=f"{history['l2'][-1]:.3e}")
            rung = next_rung
            done, last = i + 1, snapshot()
            bar.update(1)
            if ckpt is not None and done < steps and ckpt.is_due(done):
                ckpt.save(done, last, meta_at(done))
        if ckpt is not None:
            ckpt.save(done, last, meta_at(done), force=True)
    except KeyboardInterrupt:
        if ckpt is not None:  # keep what was trained: the state after the last whole step
            n = min(sum(s <= done for s in history["step"]), *map(len, history.values()))
            meta = meta_at(done) | {"history": {k: v[:n] for k, v in history.items()}}
            ckpt.save_on_interrupt(done, last, meta)
        raise
    finally:
        bar.close()
        if ckpt is not None:
            ckpt.close()

    def u(z) -> np.ndarray:
        return np.asarray(predict(params, rest, jnp.asarray(z, dtype)))

    return PDEResult(
        model,
        {"params": params, **rest},
        u,
        history,
        history["l2"][-1],
        time.perf_counter() - t0 + prior_time,
    )
