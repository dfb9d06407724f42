"""Training a KAN through a schedule of grid sizes (pykan's grid extension).

For each ``G`` in ``grids``: extend the B-spline grids to ``G`` on the
training inputs (least-squares refit, :func:`kanflow.grid.extend`), then
train ``steps_per_grid`` updates with a fresh optimiser state (L-BFGS by
default). On the first grid, ``restarts`` initialisations are each trained
``restart_steps`` updates and the one with the lowest *training* loss goes on
(small KANs under L-BFGS can settle in a poor basin from some seeds).

The whole schedule compiles one train step (and one grid refit per layer
shape): every phase trains the model at the largest grid size, its knots
extended to the right beyond the data and the extra coefficients held at
zero by a mask (so the function, its gradients and the optimiser's path are
those of the smaller grid; the extra basis functions vanish inside the grid
and multiply zero outside it). Each phase's :class:`GridPhase` holds the
model and variables at its own grid size.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import flax
import jax
import numpy as np
import optax

from kanflow import grid as kgrid
from kanflow.train.loop import fit
from kanflow.train.losses import supervised_loss
from kanflow.train.optim import make_optimizer
from kanflow.train.step import make_train_step

__all__ = ["GridPhase", "Restart", "best_of_restarts", "fit_grid_schedule"]


class Restart(NamedTuple):
    """The kept run of :func:`best_of_restarts` and what continues it without recompiling."""

    variables: dict
    history: dict
    seed: int
    step_fn: Callable
    optimizer: optax.GradientTransformation


def best_of_restarts(
    model,
    data: dict[str, np.ndarray],
    *,
    restarts: int,
    steps: int,
    seed: int = 0,
    optimizer: optax.GradientTransformation | None = None,
) -> Restart:
    """Trains ``model`` from seeds ``seed .. seed + restarts - 1`` and keeps the best.

    Each initialisation gets ``steps`` full-batch updates of the MSE on
    ``data = {"x": [n, in], "y": [n, out]}``; the one with the lowest
    *training* loss is kept (no test data is looked at). All runs share one
    compiled step, returned for continuing the kept run.
    """
    if restarts < 1 or steps < 1:
        raise ValueError(f"need restarts >= 1 and steps >= 1, got {restarts}, {steps}")
    optimizer = optimizer or make_optimizer("lbfgs")
    loss_fn = supervised_loss(model)
    init = jax.jit(model.init)
    return _best_run(
        lambda s: init(jax.random.key(s), data["x"][:1]),
        loss_fn,
        make_train_step(loss_fn, optimizer),
        optimizer,
        data,
        restarts,
        steps,
        seed,
    )


def _best_run(init, loss_fn, step_fn, optimizer, data, restarts, steps, seed) -> Restart:
    """:func:`best_of_restarts` for variables ``init(seed)`` and a given loss and step."""
    best = None
    for r in range(restarts):
        variables = init(seed + r)
        res = fit(
            loss_fn,
            variables["params"],
            data,
            optimizer=optimizer,
            steps=steps,
            quiet=True,
            model_state={k: v for k, v in variables.items() if k != "params"},
            step_fn=step_fn,
        )
        if best is None or res.history["loss"][-1] < best.history["loss"][-1]:
            best = Restart(
                {**variables, "params": res.params}, res.history, seed + r, step_fn, optimizer
            )
    return best


@dataclasses.dataclass
class GridPhase:
    """The model after one grid size of the schedule.

    Attributes:
      grid_size: G of this phase.
      model, variables: the trained model and its variables.
      history: the phase's fit history.
      elapsed: seconds since the schedule started (compilation included).
      seed: the initialisation seed that was kept.
    """

    grid_size: int
    model: Any
    variables: dict
    history: dict
    elapsed: float
    seed: int


def fit_grid_schedule(
    model,
    x: np.ndarray,
    y: np.ndarray,
    grids: Sequence[int],
    *,
    steps_per_grid: int = 200,
    optimizer: Callable[[], optax.GradientTransformation] | None = None,
    restarts: int = 1,
    restart_steps: int = 50,
    seed: int = 0,
    quiet: bool = True,
    on_phase: Callable[[GridPhase], None] | None = None,
) -> list[GridPhase]:
    """Trains ``model`` (a B-spline KAN) on ``(x, y)`` through ``grids``.

    Args:
      model: a :class:`kanflow.models.KAN` (its ``grid_size`` is replaced by
        ``grids[0]``).
      x, y: training inputs ``[n, in]`` and targets ``[n, out]`` (full batch).
      grids: grid sizes, e.g. ``(3, 10, 20)``.
      steps_per_grid: updates per grid size.
      optimizer: a factory for a fresh optimiser per phase (default L-BFGS).
      restarts, restart_steps: see the module docstring.
      seed: initialisation seeds are ``seed, seed + 1, ...``.
      quiet: hide progress bars.
      on_phase: called with each finished :class:`GridPhase`.

    Returns:
      One :class:`GridPhase` per grid size.
    """
    if not grids:
        raise ValueError("grids must name at least one grid size")
    if restarts < 1 or not 0 < restart_steps <= steps_per_grid:
        raise ValueError("need restarts >= 1 and 0 < restart_steps <= steps_per_grid")
    if not getattr(model, "space", None) or not model.space.spec.has_grid:
        raise ValueError("fit_grid_schedule needs a KAN with an adaptive grid (basis='bspline')")
    make_opt = optimizer or (lambda: make_optimizer("lbfgs"))
    data = {"x": np.asarray(x), "y": np.asarray(y)}
    t0 = time.perf_counter()
    phases: list[GridPhase] = []
    model = model.clone(grid_size=grids[0])
    # one compiled step for every phase: the model at the largest grid, masked
    largest = model.clone(grid_size=max(grids))
    n_max = largest.space.num_basis()
    loss_fn = _masked(supervised_loss(largest))
    opt = make_opt()
    step_fn = make_train_step(loss_fn, opt)

    def train(padded, steps):
        """Trains padded variables (:func:`_pad_basis`); returns them unpadded."""
        res = fit(
            loss_fn,
            padded["params"],
            data,
            optimizer=opt,
            steps=steps,
            model_state={k: v for k, v in padded.items() if k != "params"},
            quiet=quiet,
            step_fn=step_fn,
            desc=f"G={model.grid_size}",
        )
        return _unpad_basis({**padded, "params": res.params}), res.history

    # first grid: best of `restarts` short runs, judged on the training loss only
    init = jax.jit(model.init)
    best = _best_run(
        lambda s: _pad_basis(init(jax.random.key(s), data["x"][:1]), n_max),
        loss_fn,
        step_fn,
        opt,
        data,
        restarts,
        restart_steps,
        seed,
    )
    variables, hist = _unpad_basis(best.variables), best.history
    if steps_per_grid > restart_steps:
        variables, more = train(best.variables, steps_per_grid - restart_steps)
        hist = {
            k: hist[k] + [v + (restart_steps if k == "step" else 0) for v in more[k]] for k in more
        }
    for i, g in enumerate(grids):
        if i:
            padded = _extend_padded(largest, _pad_basis(variables, n_max), data["x"], g)
            model = model.clone(grid_size=g)
            variables, hist = train(padded, steps_per_grid)
        phase = GridPhase(g, model, variables, hist, time.perf_counter() - t0, best.seed)
        phases.append(phase)
        if on_phase is not None:
            on_phase(phase)
    return phases


_MASK = "coef_mask"  # the model-state collection holding each layer's basis mask [n_max]


def _extend_padded(largest, padded: dict, x: np.ndarray, grid_size: int) -> dict:
    """:func:`kanflow.grid.extend` to ``grid_size`` on padded variables (:func:`_pad_basis`).

    The layer inputs are captured with the largest model and every refit
    solves at the padded size (the padding's basis functions vanish on the
    samples, so least squares gives them zero), so every extension of the
    schedule reuses the same compiled programs; the result is padded again.
    """
    plain = {k: v for k, v in padded.items() if k != _MASK}
    layers = kgrid._grid_layers(largest, plain, x)
    params = flax.traverse_util.flatten_dict(flax.core.unfreeze(padded["params"]))
    grid = flax.traverse_util.flatten_dict(flax.core.unfreeze(padded["grid"]))
    mask = flax.traverse_util.flatten_dict(flax.core.unfreeze(padded[_MASK]))
    for path in sorted(layers):
        knots, coef = grid[path + ("knots",)], params[path + ("coef",)]
        n_max = coef.shape[1]
        order = knots.shape[-1] - n_max - 1
        xin = layers[path].astype(knots.dtype)
        new_knots = np.asarray(_knots_from_samples(xin, grid_size, order))
        n = new_knots.shape[1] - order - 1
        new_knots = _continue_knots(new_knots, n_max - n)
        new_coef = np.array(_refit(xin, knots, coef, new_knots, order))
        new_coef[:, n:] = 0.0  # exactly zero (least squares gives ~0 on the padding)
        params[path + ("coef",)] = new_coef.astype(coef.dtype)
        grid[path + ("knots",)] = new_knots.astype(knots.dtype)
        mask[path] = (np.arange(n_max) < n).astype(np.asarray(mask[path]).dtype)
    unflat = flax.traverse_util.unflatten_dict
    return {**padded, "params": unflat(params), "grid": unflat(grid), _MASK: unflat(mask)}


_knots_from_samples = jax.jit(kgrid.knots_from_samples, static_argnums=(1, 2))
_refit = jax.jit(kgrid.refit_coefficients, static_argnums=(4,))


def _continue_knots(knots: np.ndarray, extra: int) -> np.ndarray:
    """``[in, K] -> [in, K + extra]``: knots continued to the right with the last span."""
    knots = np.asarray(knots)
    span = knots[:, -1:] - knots[:, -2:-1]
    steps = np.arange(1, extra + 1, dtype=knots.dtype)
    return np.concatenate([knots, knots[:, -1:] + span * steps], 1)


def _pad_basis(variables: dict, n_max: int) -> dict:
    """B-spline KAN variables padded to ``n_max`` basis functions per edge.

    Coefficients are zero-padded, knots continue to the right with the last
    span (the original basis functions depend only on their own knots, so they
    are unchanged), and ``variables[_MASK]`` marks the real functions.
    """
    params = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables["params"]))
    grid = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables["grid"]))
    mask = {}
    for path, coef in list(params.items()):
        if path[-1] != "coef":
            continue
        # on the host: small arrays, and no eager op to compile per grid size
        coef = np.asarray(coef)
        n, extra = coef.shape[1], n_max - coef.shape[1]
        grid[path[:-1] + ("knots",)] = _continue_knots(grid[path[:-1] + ("knots",)], extra)
        params[path] = np.pad(coef, ((0, 0), (0, extra), (0, 0)))
        mask[path[:-1]] = (np.arange(n_max) < n).astype(coef.dtype)
    unflat = flax.traverse_util.unflatten_dict
    return {**variables, "params": unflat(params), "grid": unflat(grid), _MASK: unflat(mask)}


def _unpad_basis(variables: dict) -> dict:
    """The inverse of :func:`_pad_basis` (drops the padding and the mask)."""
    params = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables["params"]))
    grid = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables["grid"]))
    mask = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables[_MASK]))
    for layer, m in mask.items():
        n = int(np.sum(np.asarray(m)))
        params[layer + ("coef",)] = np.asarray(params[layer + ("coef",)])[:, :n]
        knots = np.asarray(grid[layer + ("knots",)])
        grid[layer + ("knots",)] = knots[:, : knots.shape[1] - (m.shape[0] - n)]
    unflat = flax.traverse_util.unflatten_dict
    rest = {k: v for k, v in variables.items() if k not in ("params", "grid", _MASK)}
    return {**rest, "params": unflat(params), "grid": unflat(grid)}


def _masked(loss_fn: Callable) -> Callable:
    """``loss_fn`` on padded variables: coefficients times the mask in ``model_state``."""

    def split(params, model_state):
        model_state = dict(model_state)
        mask = flax.traverse_util.flatten_dict(flax.core.unfreeze(model_state.pop(_MASK)))
        flat = flax.traverse_util.flatten_dict(flax.core.unfreeze(params))
        for layer, m in mask.items():
            flat[layer + ("coef",)] = flat[layer + ("coef",)] * m[None, :, None]
        return flax.traverse_util.unflatten_dict(flat), model_state

    def masked(params, model_state, batch, rng):
        params, state = split(params, model_state)
        loss, aux = loss_fn(params, state, batch, rng)
        if "model_state" in aux:
            aux = {**aux, "model_state": {**aux["model_state"], _MASK: model_state[_MASK]}}
        return loss, aux

    check = getattr(loss_fn, "check_batch", None)
    if check is not None:
        masked.check_batch = lambda params, state, batch: check(*split(params, state), batch)
    return masked
