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
5. **final fit** of the formulas' affine parameters (redone with the inner
   ``(a, b)`` held, :func:`holding_shifts`, for the edges whose ``a x + b`` it
   moved out of their function's domain, where the network's safe form and
   the formula differ), then the network is read as a sympy expression; if
   that formula is not accurate (see 6), its edges whose function is in fact
   a polynomial on their inputs (:func:`kanflow.symbolic.polynomial_swaps`)
   are set to that polynomial and the final fit redone, kept if more accurate;
6. if that formula is not accurate (training RMSE above ``single_node_tol``
   of ``std(y)``), steps 3-5 run again from a network with one hidden node,
   ``f(g_1(x_1) + ... + g_n(x_n))``, started as the best additive model
   (``f`` the identity, the ``g_i`` one least-squares fit) and trained without
   the penalty, and the formula with the lower training RMSE is returned.

The formula is judged on its own, not through the network: its train and test
RMSE come from the sympy expression, lambdified with NumPy, on the training
points and on a held-out split.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from kanflow import grid as kgrid
from kanflow.basis.bspline import bspline
from kanflow.models.kan import KAN, live_hidden_nodes, mask_nodes, prune, with_edge_mask
from kanflow.symbolic import library
from kanflow.symbolic.model import (
    EdgeFit,
    SymbolicKAN,
    _set_edge,
    auto_symbolic,
    formula,
    outside_domain,
    polynomial_swaps,
    tidy,
)
from kanflow.symbolic.sparsity import with_sparsity
from kanflow.train.loop import fit
from kanflow.train.losses import supervised_loss
from kanflow.train.optim import make_optimizer
from kanflow.train.step import make_train_step

__all__ = ["Discovery", "discover", "formula_rmse", "holding_shifts"]


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
      outside_domain: ``(layer, i, j, name)`` of the edges whose formula is not
        defined at some training inputs after the final fit (the network uses the
        function's safe continuation there, see
        :func:`~kanflow.symbolic.outside_domain`); when any are listed, the formula
        differs from the network and its RMSE is ``inf``.
      candidates: ``(widths, formula, train RMSE)`` of every network the search
        finished (the pruned one, and the one-node one when it was tried; see
        ``single_node_tol``); the returned formula is the one with the lowest
        training RMSE.
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
    outside_domain: list[tuple[int, int, int, str]] = dataclasses.field(default_factory=list)
    candidates: list[tuple[tuple[int, ...], Any, float]] = dataclasses.field(default_factory=list)


def holding_shifts(loss_fn, edges: Sequence[tuple[int, int, int]]):
    """``loss_fn`` of a :class:`~kanflow.symbolic.SymbolicKAN` with the inner affine
    ``(a, b)`` of the symbolic edges ``(layer, i, j)`` held where they are (no
    gradient flows to them; ``c`` and ``d`` still train).

    A fit that would move ``a x + b`` of ``sqrt``, ``log``, ``1/x``, ... out of the
    function's domain on the data keeps the shift the parameter search chose, which
    :func:`~kanflow.symbolic.fix_symbolic` keeps inside the domain.
    """
    by_layer: dict[int, list[tuple[int, int]]] = {}
    for l, i, j in edges:
        by_layer.setdefault(int(l), []).append((int(i), int(j)))

    def held_params(params):
        params = dict(params)
        for l, ij in by_layer.items():
            affine = params[f"symbolic_{l}"]
            rows, cols = np.array(ij).T
            hold = np.zeros(affine.shape, bool)
            hold[rows, cols, :2] = True
            params[f"symbolic_{l}"] = jnp.where(hold, jax.lax.stop_gradient(affine), affine)
        return params

    def held_loss(params, model_state, batch, rng):
        return loss_fn(held_params(params), model_state, batch, rng)

    check = getattr(loss_fn, "check_batch", None)
    if check is not None:
        held_loss.check_batch = check
    return held_loss


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


@functools.lru_cache(maxsize=32)
def _compiled_step(model, lamb: float, lamb_entropy: float, held: tuple):
    """The loss, L-BFGS and compiled step of one ``(model, lamb, held)``, kept across
    :func:`discover` calls (a second search on data of the same shape compiles nothing new)."""
    loss_fn = supervised_loss(model)
    if lamb:
        loss_fn = with_sparsity(loss_fn, lamb, lamb_entropy=lamb_entropy)
    if held:
        loss_fn = holding_shifts(loss_fn, held)
    opt = make_optimizer("lbfgs")
    return loss_fn, opt, make_train_step(loss_fn, opt)


@functools.lru_cache(maxsize=32)
def _jitted(model, method: str):
    """``jax.jit(model.init)`` or ``jax.jit(model.apply)``, one per model."""
    return jax.jit(getattr(model, method))


class _Trainer:
    """L-BFGS on the MSE (optionally regularised); one compiled step per model and ``lamb``."""

    def __init__(self, quiet: bool, lamb_entropy: float = 2.0):
        self.quiet = quiet
        self.lamb_entropy = lamb_entropy

    def _step(self, model, lamb, held):
        return _compiled_step(model, float(lamb), float(self.lamb_entropy), held)

    def __call__(self, model, variables, data, steps, lamb=0.0, grid_updates=0, held=()):
        """``steps`` L-BFGS steps; with ``grid_updates``, the grids move to the data that
        many times in the first quarter of the steps (pykan updates them in its first
        50 of 200); ``held``: symbolic edges whose ``(a, b)`` stay (:func:`holding_shifts`)."""
        loss_fn, opt, step_fn = self._step(model, lamb, tuple(sorted(held)))
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
    refine_grids: Sequence[int] = (10,),
    steps: int = 200,
    sparse_steps: int = 400,
    lamb: float = 1e-3,
    lamb_entropy: float = 2.0,
    prune_rounds: int = 3,
    node_threshold: float = 1e-2,
    edge_threshold: float = 3e-2,
    prune_method: str = "attribution",
    lib: Sequence[str] | None = None,
    weight_simple: float = 0.5,
    r2_threshold: float = 0.0,
    single_node_tol: float | None = 1e-4,
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
      grid_size: the B-spline grid of the sparse fit.
      refine_grids: after pruning, the grid is extended to each of these in turn
        and the network fitted ``2 * steps`` steps at each.
      steps: L-BFGS steps of each fit after pruning.
      sparse_steps: L-BFGS steps of the sparse fit (half of them after each
        pruning round that removed a node).
      lamb, lamb_entropy: the sparsity penalty's weight in the sparse fits
        (pykan's 1e-3 of its first example), and its entropy term's weight.
      prune_rounds: at most this many rounds of pruning hidden nodes and
        training sparsely again, until no node dies; then weak edges are masked.
      node_threshold, edge_threshold, prune_method: see :func:`kanflow.models.kan.prune`
        (default: pykan's attribution scores).
      lib, weight_simple, r2_threshold: see :func:`kanflow.symbolic.auto_symbolic`
        (default library: all but ``"0"``, as pruning decides which edges vanish;
        ``weight_simple`` 0.5 rather than pykan's 0.8, so a function one unit
        more complex wins when it halves ``1 - R²``: with 0.8, ``atanh`` loses to
        ``x`` on ``(a + b) / (1 + a b)`` unless the network is accurate to 1e-6).
      single_node_tol: when the formula's training RMSE is above this share
        of ``std(y)`` (or some edge found no formula), a two-layer search
        also tries one hidden node, ``f(g_1(x_1) + ... + g_n(x_n))``, fitted
        from the best additive model without the penalty (whose entropy term favours
        nodes with one input each, so it misses sums inside one function such as
        ``sqrt(1 + a^2 + b^2)``), and returns the formula with the lower
        training RMSE (the held-out split plays no part); before that, each
        network's edges whose function is a polynomial on their inputs
        (:func:`~kanflow.symbolic.polynomial_swaps`) are tried as that
        polynomial, kept if the formula's training RMSE falls. ``None``: never.
      digits: decimal places of the returned formula.
      quiet: hide the progress bars.

    Returns:
      A :class:`Discovery`.
    """
    x, y = _check_xy(x, y)
    n_in = x.shape[1]
    widths = (n_in, 5, 1) if widths is None else tuple(int(w) for w in widths)
    refine_grids = tuple(int(g) for g in refine_grids)
    if widths[0] != n_in or widths[-1] != 1 or len(widths) < 2:
        raise ValueError(f"widths must run from n_in = {n_in} to 1 output, got {widths}")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction}")
    if single_node_tol is not None and not single_node_tol >= 0.0:
        raise ValueError(f"single_node_tol must be >= 0 or None, got {single_node_tol}")
    order = np.random.default_rng(seed).permutation(x.shape[0])
    n_test = max(1, int(round(test_fraction * x.shape[0])))
    test, train = order[:n_test], order[n_test:]
    # the KAN learns the standardised target, so the sparsity penalty weighs the same
    # against the fit whatever the target's scale; the formula is scaled back
    y_mean, y_std = float(np.mean(y[train])), float(np.std(y[train]))
    if not y_std > 0:
        raise ValueError("y is constant on the training points: nothing to discover")
    scale = (y_mean, y_std)
    with jax.enable_x64(True):
        settings = dict(locals())
        return _discover(
            {"x": x[train], "y": (y[train, None] - y_mean) / y_std},
            {"x": x[test], "y": (y[test, None] - y_mean) / y_std},
            scale,
            _Settings(**{k: settings[k] for k in _Settings._fields}),
        )


def _rmse(model, variables, data) -> float:
    pred = np.asarray(_jitted(model, "apply")(variables, data["x"]))
    return float(np.sqrt(np.mean((pred - data["y"]) ** 2)))


class _Settings(NamedTuple):
    widths: tuple[int, ...]
    seed: int
    grid_size: int
    refine_grids: Sequence[int]
    steps: int
    sparse_steps: int
    lamb: float
    lamb_entropy: float
    prune_rounds: int
    node_threshold: float
    edge_threshold: float
    prune_method: str
    lib: Sequence[str] | None
    weight_simple: float
    r2_threshold: float
    single_node_tol: float | None
    digits: int
    quiet: bool


def _discover(train, test, scale, s: _Settings) -> Discovery:
    seconds: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage):
        nonlocal clock
        now = time.perf_counter()
        seconds[stage] = now - clock
        clock = now

    trainer = _Trainer(s.quiet, s.lamb_entropy)
    model, variables = _start(s.widths, s.grid_size, s.seed, train["x"])
    model, variables = trainer(model, variables, train, s.sparse_steps, s.lamb, grid_updates=5)
    lap("sparse_fit")
    alive = list(s.widths[1:-1])
    for _ in range(s.prune_rounds):  # switch dead nodes off and train on, until none dies
        keep = live_hidden_nodes(
            model, variables, train["x"], threshold=s.node_threshold, method=s.prune_method
        )
        if [k.size for k in keep] == alive:
            break
        alive = [k.size for k in keep]
        variables = mask_nodes(model, variables, keep)
        model, variables = trainer(
            model, variables, train, s.sparse_steps // 2, s.lamb, grid_updates=2
        )
    model, variables = prune(
        model,
        variables,
        train["x"],
        node_threshold=s.node_threshold,
        edge_threshold=s.edge_threshold,
        method=s.prune_method,
    )
    lap("prune")
    found = _finish(model, variables, train, test, scale, s, trainer, lap, "")
    candidates = [(found.widths, found.formula, found.train_rmse)]
    single = (s.widths[0], 1, 1)
    if (
        s.single_node_tol is not None
        and len(s.widths) == 3
        and found.widths != single
        and not _accurate(found, scale, s)  # NaN (unfitted) retries too
    ):
        # f(g_1(x_1) + ... + g_n(x_n)) from one node, fitted without the penalty
        model, variables = _additive_start(train, s.grid_size, s.seed)
        model, variables = trainer(model, variables, train, s.sparse_steps, grid_updates=5)
        lap("single_node_fit")
        other = _finish(model, variables, train, test, scale, s, trainer, lap, "single_node_")
        candidates.append((other.widths, other.formula, other.train_rmse))
        if other.train_rmse < found.train_rmse or np.isnan(found.train_rmse):
            found = other
    found.seconds = seconds
    found.candidates = candidates
    return found


def _start(widths, grid_size: int, seed: int, x) -> tuple[KAN, dict]:
    """A float64 B-spline KAN and its variables, with edge masks from the start (one
    compiled step for the masked and unmasked network)."""
    model = KAN(widths, grid_size=grid_size, param_dtype=jnp.float64)
    variables = _jitted(model, "init")(jax.random.key(seed), jnp.asarray(x[:1]))
    ones = [np.ones((widths[l], widths[l + 1])) for l in range(len(widths) - 1)]
    return model, with_edge_mask(variables, ones)


def _additive_start(data, grid_size: int, seed: int) -> tuple[KAN, dict]:
    """A ``[n, 1, 1]`` KAN that starts as the best additive model: its node is
    ``sum_i g_i(x_i)`` with each ``g_i`` (B-splines on data-fitted knots, plus
    the KAN's residual ``silu``) from one linear least-squares fit to ``y``, and its output edge is
    the identity on the node's range. From random starts a single node rarely
    leaves the poor local minima of ``y = f(sum_i g_i(x_i))``; from here the
    fit only has to bend ``f``."""
    x, y = np.asarray(data["x"]), np.asarray(data["y"])[:, 0]
    n = x.shape[1]
    model, variables = _start((n, 1, 1), grid_size, seed, x)
    model, variables = kgrid.update(model, variables, x)
    params = jax.tree.map(np.array, variables["params"])
    grids = jax.tree.map(np.array, variables["grid"])
    basis = np.asarray(bspline(jnp.asarray(x), grids["layer_0"]["knots"], model.order))
    base = np.asarray(model.base_activation(jnp.asarray(x)))  # the residual branch b(x)
    design = np.concatenate([basis.reshape(len(x), -1), base], axis=1)
    w = np.linalg.lstsq(design, y, rcond=None)[0]
    c = basis.shape[2]
    first, second = params["layer_0"], params["layer_1"]
    first["coef"][..., 0] = w[: n * c].reshape(n, c)
    first["scale_sp"][:] = 1.0
    first["scale_base"][:, 0] = w[n * c :]
    h = design @ w  # the node's values [N]
    knots = np.asarray(kgrid.knots_from_samples(jnp.asarray(h[:, None]), grid_size, model.order))
    basis = np.asarray(bspline(jnp.asarray(h[:, None]), jnp.asarray(knots), model.order))[:, 0]
    grids["layer_1"]["knots"] = knots
    second["coef"][0, :, 0] = np.linalg.lstsq(basis, h, rcond=None)[0]  # the identity
    second["scale_sp"][:] = 1.0
    second["scale_base"][:] = 0.0
    return model, {**variables, "params": params, "grid": grids}


def _finish(model, variables, train, test, scale, s: _Settings, trainer, lap, prefix) -> Discovery:
    """Refine, fit, snap every edge to a formula, final fit, read the formula; when the
    formula is inaccurate, its near-polynomial edges are tried as polynomials."""
    for g in s.refine_grids:
        model, variables = kgrid.extend(model, variables, train["x"], g)
        model, variables = trainer(model, variables, train, 2 * s.steps)
    network_test = _rmse(model, variables, test) * scale[1]
    lap(prefix + "refine_fit")
    lib = s.lib
    if lib is None:  # pruning already removed what is not needed: no edge snaps to 0
        lib = tuple(n for n in library.names() if n != "0")
    model, variables, report = auto_symbolic(
        model,
        variables,
        train["x"],
        lib=lib,
        weight_simple=s.weight_simple,
        r2_threshold=s.r2_threshold,
    )
    lap(prefix + "auto_symbolic")
    found = _final_fit(model, variables, report, train, test, scale, s, trainer)
    lap(prefix + "final_fit")
    if report and not _accurate(found, scale, s):
        swaps = polynomial_swaps(found.model, found.variables, train["x"], s.weight_simple)
        if swaps:
            model, variables = found.model, found.variables
            edges = {(e.layer, e.i, e.j): e for e in report}
            for e in swaps:
                model, variables, *_ = _set_edge(
                    model, variables, e.layer, e.i, e.j, e.name, e.params
                )
                edges[e.layer, e.i, e.j] = e
            other = _final_fit(
                model, variables, list(edges.values()), train, test, scale, s, trainer
            )
            if other.train_rmse < found.train_rmse:
                found = other
            lap(prefix + "polynomial_edges")
    found.network_test_rmse = network_test
    return found


def _accurate(found: Discovery, scale, s: _Settings) -> bool:
    """The formula's training RMSE is within ``single_node_tol`` of ``std(y)`` (``False``
    for a NaN RMSE: some edge unfitted); with ``single_node_tol=None``, always ``True``."""
    return s.single_node_tol is None or found.train_rmse <= s.single_node_tol * scale[1]


def _final_fit(model, variables, report, train, test, scale, s: _Settings, trainer) -> Discovery:
    """Final fit of the snapped network (redone with shifts held for edges it moves out
    of their domain), and its formula judged on the training and held-out points."""
    snapped, held = variables, set()
    while True:  # a fit that moves a x + b out of f's domain is redone with those shifts held
        fitted = trainer(model, snapped, train, s.steps, held=held)[1]
        outside = outside_domain(model, fitted, train["x"])
        if not outside or held.issuperset(e[:3] for e in outside):
            break
        held |= {e[:3] for e in outside}
    variables = fitted
    y_mean, y_std = scale
    unfitted = [e for e in report if not e.name]
    if unfitted:
        expr = exact = None
        train_rmse = test_rmse = float("nan")
    else:
        exact = y_mean + y_std * formula(model, variables, digits=None)[0]
        import sympy  # noqa: PLC0415

        names = sympy.symbols(f"x_1:{train['x'].shape[1] + 1}")
        expr = tidy(exact, s.digits, at=dict(zip(names, train["x"].T, strict=True)))
        train_rmse = formula_rmse(expr, train["x"], y_mean + y_std * train["y"][:, 0])
        test_rmse = formula_rmse(expr, test["x"], y_mean + y_std * test["y"][:, 0])
    return Discovery(
        formula=expr,
        exact_formula=exact,
        widths=tuple(model.widths),
        train_rmse=train_rmse,
        test_rmse=test_rmse,
        network_test_rmse=float("nan"),
        edges=[e for e in report if e.name],
        unfitted=unfitted,
        model=model,
        variables=variables,
        seconds={},
        outside_domain=outside,
    )
