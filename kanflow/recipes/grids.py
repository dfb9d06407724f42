"""Training a KAN through a schedule of grid sizes (pykan's grid extension).

For each ``G`` in ``grids``: extend the B-spline grids to ``G`` on the
training inputs (least-squares refit, :func:`kanflow.grid.extend`), then
train ``steps_per_grid`` updates with a fresh optimiser state (L-BFGS by
default). On the first grid, ``restarts`` initialisations are each trained
``restart_steps`` updates and the one with the lowest *training* loss goes on
(small KANs under L-BFGS can settle in a poor basin from some seeds).
Each phase compiles its step once; restarts reuse it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

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
    step_fn = make_train_step(loss_fn, optimizer)
    init = jax.jit(model.init)
    best = None
    for r in range(restarts):
        variables = init(jax.random.key(seed + r), data["x"][:1])
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
    make_opt = optimizer or (lambda: make_optimizer("lbfgs"))
    data = {"x": np.asarray(x), "y": np.asarray(y)}
    t0 = time.perf_counter()
    phases: list[GridPhase] = []
    model = model.clone(grid_size=grids[0])

    def train(model, variables, steps, step_fn=None, opt=None):
        loss_fn = supervised_loss(model)
        opt = opt or make_opt()
        step_fn = step_fn or make_train_step(loss_fn, opt)
        res = fit(
            loss_fn,
            variables["params"],
            data,
            optimizer=opt,
            steps=steps,
            model_state={k: v for k, v in variables.items() if k != "params"},
            quiet=quiet,
            step_fn=step_fn,
            desc=f"G={model.grid_size}",
        )
        return {**variables, "params": res.params}, res.history

    # first grid: best of `restarts` short runs, judged on the training loss only
    best = best_of_restarts(
        model, data, restarts=restarts, steps=restart_steps, seed=seed, optimizer=make_opt()
    )
    variables, hist = best.variables, best.history
    if steps_per_grid > restart_steps:
        rest = steps_per_grid - restart_steps
        variables, more = train(model, variables, rest, best.step_fn, best.optimizer)
        hist = {
            k: hist[k] + [v + (restart_steps if k == "step" else 0) for v in more[k]] for k in more
        }
    for i, g in enumerate(grids):
        if i:
            model, variables = kgrid.extend(model, variables, data["x"], g)
            variables, hist = train(model, variables, steps_per_grid)
        phase = GridPhase(g, model, variables, hist, time.perf_counter() - t0, best.seed)
        phases.append(phase)
        if on_phase is not None:
            on_phase(phase)
    return phases
