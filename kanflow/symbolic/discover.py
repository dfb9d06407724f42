"""One call for the whole KAN scientist's loop: data in, a formula out.

The recipe is pykan's (arXiv 2404.19756 §2.5, and pykan's "hello KAN"
example), in float64:

1. **sparse fit**: a B-spline KAN trained with L-BFGS and the sparsity penalty
   (:func:`kanflow.symbolic.with_sparsity`), its grids moved to the data
   between rounds of steps;
2. **prune** hidden nodes whose attribution score is below the threshold:
   switched off (masked) and trained sparsely again, in rounds, until no
   node dies; then removed, and weak edges masked (:func:`kanflow.models.kan.prune`);
3. **refine** the grids (extension to a finer grid) and **fit**;
4. **auto_symbolic**: every edge snapped to its best library function
   (:func:`kanflow.symbolic.auto_symbolic`);
5. **final fit** of the formulas' affine parameters, then the network is read
   as a sympy expression.

The formula is judged on its own, not through the network: its train and test
RMSE come from the sympy expression, lambdified with NumPy, on the training
points and on a held-out split.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from kanflow import grid as kgrid
from kanflow.models.kan import KAN, live_hidden_nodes, mask_nodes, prune, with_edge_mask
from kanflow.symbolic.model import EdgeFit, SymbolicKAN, auto_symbolic, formula
from kanflow.symbolic.sparsity import with_sparsity
from kanflow.train.loop import fit
from kanflow.train.losses import supervised_loss
from kanflow.train.optim import make_optimizer
from kanflow.train.step import make_train_step

__all__ = ["Discovery", "discover", "formula_rmse"]


@dataclasses.dataclass
class Discovery:
    """What :func:`discover` found.

    Attributes:
      formula: sympy expression in ``x_1 .. x_n`` (rounded to ``digits``).
      exact_formula: the same without rounding (the network's own function).
      widths: the network's widths after pruning.
      train_rmse, test_rmse: RMSE of ``formula`` (lambdified, NumPy) on the
        training points and on the held-out split.
      network_test_rmse: the trained numeric KAN's test RMSE just before
        ``auto_symbolic`` (what the formula replaced).
      edges: one :class:`~kanflow.symbolic.EdgeFit` per edge snapped.
      unfitted: the edges whose best fit had R² below ``r2_threshold`` (left
        numeric; then ``formula`` is ``None``).
      model, variables: the final :class:`~kanflow.symbolic.SymbolicKAN`.
      seconds: wall time per stage.
    """

    formula: Any
    exact_formula: Any
    widths: tuple[int, ...]
    train_rmse: float
    test_rmse: float
    network_test_rmse: float
    edges: list[EdgeFit]
    unfitted: list[EdgeFit]
    model: SymbolicKAN
    variables: dict
    seconds: dict[str, float]


def formula_rmse(expr, x: np.ndarray, y: np.ndarray) -> float:
    """RMSE of a sympy expression in ``x_1 .. x_n`` on ``x [N, n]`` against ``y [N]``
    (NumPy ``lambdify``; ``inf`` if it is not finite somewhere)."""
    import sympy  # noqa: PLC0415

    n = x.shape[1]
    fn = sympy.lambdify(sympy.symbols(f"x_1:{n + 1}"), expr, "numpy")
    with np.errstate(all="ignore"):
        pred = np.broadcast_to(np.asarray(fn(*x.T), dtype=np.float64), y.shape)
    if not np.all(np.isfinite(pred)):
        return float("inf")
    return float(np.sqrt(np.mean((pred - y) ** 2)))


def _check_xy(x, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.ndim != 2 or x.shape[0] < 10:
        raise ValueError(f"x must be samples [N >= 10, n_in], got shape {x.shape}")
    if y.shape not in ((x.shape[0],), (x.shape[0], 1)):
        raise ValueError(f"y must be [N] or [N, 1] with N = {x.shape[0]}, got shape {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError("x and y must be finite")
    return x, y.reshape(-1)


class _Trainer:
    """L-BFGS on the MSE (optionally regularised); one compiled step per model and ``lamb``."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.steps: dict = {}

    def _step(self, model, lamb):
        if (model, lamb) not in self.steps:
            loss_fn = supervised_loss(model)
            if lamb:
                loss_fn = with_sparsity(loss_fn, lamb)
            opt = make_optimizer("lbfgs")
            self.steps[model, lamb] = loss_fn, opt, make_train_step(loss_fn, opt)
        return self.steps[model, lamb]

    def __call__(self, model, variables, data, steps, lamb=0.0, grid_updates=0):
        """``steps`` L-BFGS steps; with ``grid_updates``, the grids move to the data that
        many times in the first quarter of the steps (pykan updates them in its first
        50 of 200)."""
        loss_fn, opt, step_fn = self._step(model, lamb)
        early = steps // 4 if grid_updates else 0
        chunks = [early // grid_updates] * grid_updates if grid_updates else []
        chunks.append(steps - sum(chunks))
        for r, n in enumerate(chunks):
            if r < grid_updates:
                model, variables = kgrid.update(model, variables, data["x"])
            if n <= 0:
                continue
            res = fit(
                loss_fn,
                variables["params"],
                data,
                optimizer=opt,
                steps=n,
                model_state={k: v for k, v in variables.items() if k != "params"},
                quiet=self.quiet,
                step_fn=step_fn,
                divergence=None,
            )
            variables = {**variables, "params": res.params}
        return model, variables


def discover(
    x,
    y,
    widths: Sequence[int] | None = None,
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    grid_size: int = 3,
    refine_grid: int = 10,
    steps: int = 50,
    sparse_steps: int = 200,
    lamb: float = 1e-2,
    prune_rounds: int = 3,
    node_threshold: float = 1e-2,
    edge_threshold: float = 3e-2,
    prune_method: str = "attribution",
    lib: Sequence[str] | None = None,
    weight_simple: float = 0.8,
    r2_threshold: float = 0.0,
    digits: int = 4,
    quiet: bool = True,
) -> Discovery:
    """Finds a closed-form ``y = f(x)`` with a KAN: sparse fit, prune, refine, fit,
    snap every edge to a formula, final fit (see the module docstring).

    Args:
      x: inputs ``[N, n_in]`` (NumPy or JAX).
      y: targets ``[N]`` or ``[N, 1]``.
      widths: the KAN before pruning (default ``(n_in, 5, 1)``); the last width is 1.
      seed: the split and the initialisation.
      test_fraction: the held-out share of the points (the formula's test RMSE).
      grid_size, refine_grid: B-spline grid before and after refinement.
      steps: L-BFGS steps of each fit after pruning.
      sparse_steps: L-BFGS steps of the sparse fit (half of them after each
        pruning round that removed a node).
      lamb: the sparsity penalty's weight in the sparse fits.
      prune_rounds: at most this many rounds of pruning hidden nodes and
        training sparsely again, until no node dies; then weak edges are masked.
      node_threshold, edge_threshold, prune_method: see :func:`kanflow.models.kan.prune`
        (default: pykan's attribution scores).
      lib, weight_simple, r2_threshold: see :func:`kanflow.symbolic.auto_symbolic`.
      digits: decimal places of the returned formula.
      quiet: hide the progress bars.

    Returns:
      A :class:`Discovery`.
    """
    x, y = _check_xy(x, y)
    n_in = x.shape[1]
    widths = (n_in, 5, 1) if widths is None else tuple(int(w) for w in widths)
    if widths[0] != n_in or widths[-1] != 1 or len(widths) < 2:
        raise ValueError(f"widths must run from n_in = {n_in} to 1 output, got {widths}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    order = np.random.default_rng(seed).permutation(x.shape[0])
    n_test = max(1, int(round(test_fraction * x.shape[0])))
    test, train = order[:n_test], order[n_test:]
    with jax.enable_x64(True):
        return _discover(
            {"x": x[train], "y": y[train, None]},
            {"x": x[test], "y": y[test, None]},
            widths,
            seed,
            grid_size,
            refine_grid,
            steps,
            sparse_steps,
            lamb,
            prune_rounds,
            node_threshold,
            edge_threshold,
            prune_method,
            lib,
            weight_simple,
            r2_threshold,
            digits,
            quiet,
        )


def _rmse(model, variables, data) -> float:
    pred = np.asarray(jax.jit(model.apply)(variables, data["x"]))
    return float(np.sqrt(np.mean((pred - data["y"]) ** 2)))


def _discover(
    train,
    test,
    widths,
    seed,
    grid_size,
    refine_grid,
    steps,
    sparse_steps,
    lamb,
    prune_rounds,
    node_threshold,
    edge_threshold,
    prune_method,
    lib,
    weight_simple,
    r2_threshold,
    digits,
    quiet,
):
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage):
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = now - clock
        clock = now

    trainer = _Trainer(quiet)
    model = KAN(widths, grid_size=grid_size, param_dtype=jnp.float64)
    variables = jax.jit(model.init)(jax.random.key(seed), jnp.asarray(train["x"][:1]))
    ones = [np.ones((widths[l], widths[l + 1])) for l in range(len(widths) - 1)]
    variables = with_edge_mask(variables, ones)  # masks from the start: one compiled step
    model, variables = trainer(model, variables, train, sparse_steps, lamb=lamb, grid_updates=5)
    lap("sparse_fit")
    alive = list(widths[1:-1])
    for _ in range(prune_rounds):  # switch dead nodes off and train on, until none dies
        keep = live_hidden_nodes(
            model, variables, train["x"], threshold=node_threshold, method=prune_method
        )
        if [k.size for k in keep] == alive:
            break
        alive = [k.size for k in keep]
        variables = mask_nodes(model, variables, keep)
        model, variables = trainer(
            model, variables, train, sparse_steps // 2, lamb=lamb, grid_updates=2
        )
    model, variables = prune(
        model,
        variables,
        train["x"],
        node_threshold=node_threshold,
        edge_threshold=edge_threshold,
        method=prune_method,
    )
    lap("prune")
    model, variables = kgrid.extend(model, variables, train["x"], refine_grid)
    model, variables = trainer(model, variables, train, 2 * steps)
    network_test = _rmse(model, variables, test)
    lap("refine_fit")
    model, variables, report = auto_symbolic(
        model,
        variables,
        train["x"],
        lib=lib,
        weight_simple=weight_simple,
        r2_threshold=r2_threshold,
    )
    lap("auto_symbolic")
    model, variables = trainer(model, variables, train, steps)
    lap("final_fit")
    unfitted = [e for e in report if not e.name]
    if unfitted:
        expr = exact = None
        train_rmse = test_rmse = float("nan")
    else:
        exact = formula(model, variables, digits=None)[0]
        expr = formula(model, variables, digits=digits)[0]
        train_rmse = formula_rmse(expr, train["x"], train["y"][:, 0])
        test_rmse = formula_rmse(expr, test["x"], test["y"][:, 0])
    lap("formula")
    return Discovery(
        formula=expr,
        exact_formula=exact,
        widths=tuple(model.widths),
        train_rmse=train_rmse,
        test_rmse=test_rmse,
        network_test_rmse=network_test,
        edges=[e for e in report if e.name],
        unfitted=unfitted,
        model=model,
        variables=variables,
        seconds=seconds,
    )
