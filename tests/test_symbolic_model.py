"""Symbolic KANs: the symbolic branch, fixing edges and formulas, against numpy and sympy."""

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy

import kanflow as kf
from kanflow.models import kan as kan_ops
from kanflow.symbolic import model as sm
from kanflow.symbolic.discover import _compiled_step, discover

NUMPY = {"sin": np.sin, "x^2": np.square, "exp": np.exp, "tanh": np.tanh, "x": lambda u: u}


def kan(widths=(2, 3, 1), seed=0, **kw):
    model = kf.models.KAN(widths, grid_size=5, param_dtype=jnp.float64, **kw)
    return model, model.init(jax.random.key(seed), jnp.zeros((1, widths[0])))


def test_numeric_symbolic_kan_is_the_kan(x64):
    model, v = kan(use_bias=True)
    sym, sv = sm.to_symbolic(model, v)
    x = np.random.default_rng(0).uniform(-1, 1, (30, 2))
    np.testing.assert_allclose(jax.jit(sym.apply)(sv, x), jax.jit(model.apply)(v, x), rtol=1e-12)
    assert sv["params"]["symbolic_0"].shape == (2, 3, 4)


def random_symbolic(seed=1, all_symbolic=False):
    """A [2, 3, 1] symbolic KAN with random affine parameters and chosen functions."""
    model, v = kan((2, 3, 1), seed)
    funcs = [
        [["sin", "", "x^2"], ["tanh", "exp", ""]],
        [["x"], ["sin"], ["" if not all_symbolic else "tanh"]],
    ]
    if all_symbolic:
        funcs[0] = [["sin", "tanh", "x^2"], ["tanh", "exp", "x"]]
    sym, sv = sm.to_symbolic(model, v)
    sym = sym.clone(functions=tuple(tuple(tuple(r) for r in layer) for layer in funcs))
    rng = np.random.default_rng(seed)
    params = dict(sv["params"])
    params["symbolic_0"] = rng.uniform(-1, 1, (2, 3, 4))
    params["symbolic_1"] = rng.uniform(-1, 1, (3, 1, 4))
    return model, v, sym, {**sv, "params": params}, funcs


def test_symbolic_branch_matches_numpy(x64):
    model, v, sym, sv, funcs = random_symbolic()
    x = np.random.default_rng(2).uniform(-1, 1, (40, 2))
    h = x
    for l in range(2):
        lv = {c: t[f"layer_{l}"] for c, t in v.items()}
        layer = model.layer(l)
        edges = jax.jit(lambda lv, h, layer=layer: layer.apply(lv, h, per_edge=True))
        numeric = np.asarray(edges(lv, h))  # [N, in, out]
        aff = np.asarray(sv["params"][f"symbolic_{l}"])
        out = np.zeros((len(h), aff.shape[1]))
        for i in range(aff.shape[0]):
            for j in range(aff.shape[1]):
                name = funcs[l][i][j]
                if name:
                    a, b, c, d = aff[i, j]
                    out[:, j] += c * NUMPY[name](a * h[:, i] + b) + d
                else:
                    out[:, j] += numeric[:, i, j]
        h = out
    np.testing.assert_allclose(jax.jit(sym.apply)(sv, x), h, rtol=1e-10, atol=1e-12)


def test_formula_round_trip(x64):
    *_, sym, sv, _ = random_symbolic(3, all_symbolic=True)
    expr = sm.formula(sym, sv, digits=None)[0]
    fn = sympy.lambdify(sympy.symbols("x_1:3"), expr, "numpy")
    x = np.random.default_rng(4).uniform(-1, 1, (100, 2))
    np.testing.assert_allclose(
        fn(x[:, 0], x[:, 1]), np.asarray(jax.jit(sym.apply)(sv, x))[:, 0], atol=1e-10
    )
    # masked (pruned) edges are absent from the formula and from the network alike
    masked = kan_ops.with_edge_mask(sv, [np.array([[1, 0, 1], [1, 1, 0]]), np.ones((3, 1))])
    fn = sympy.lambdify(sympy.symbols("x_1:3"), sm.formula(sym, masked, digits=None)[0], "numpy")
    np.testing.assert_allclose(
        fn(x[:, 0], x[:, 1]), np.asarray(jax.jit(sym.apply)(masked, x))[:, 0], atol=1e-10
    )
    _, phi = sm.edge_values_on(sym, masked, x)[0]
    assert np.all(phi[:, 0, 1] == 0) and np.all(phi[:, 1, 2] == 0)  # pruned formula edges
    assert sm.formula(sym, sv, symbols=["u", "v"])[0].free_symbols == set(sympy.symbols("u v"))


def test_formula_refuses_numeric_edges(x64):
    *_, sym, sv, _ = random_symbolic(5)
    with pytest.raises(ValueError, match=r"still numeric.*\(0, 0, 1\)"):
        sm.formula(sym, sv)


def test_fix_symbolic_fits_the_edge_data(x64):
    model, v = kan((2, 2, 1), seed=6)
    x = np.random.default_rng(7).uniform(-1, 1, (200, 2))
    (h, phi), _ = kan_ops.layer_edges(model, v, x)
    sym, sv, r2 = sm.fix_symbolic(model, v, x, 0, 1, 0, "x")
    assert r2 == pytest.approx(np.corrcoef(h[:, 1], phi[:, 1, 0])[0, 1] ** 2, rel=1e-9)
    slope, intercept = np.polyfit(h[:, 1], phi[:, 1, 0], 1)
    np.testing.assert_allclose(
        sv["params"]["symbolic_0"][1, 0], [1, 0, slope, intercept], rtol=1e-8
    )
    assert sym.functions[0][1][0] == "x" and sym.symbolic_mask(0).sum() == 1
    top = sm.suggest_symbolic(model, v, x, 0, 1, 0, topk=3)
    assert len(top) == 3 and top[0].loss <= top[1].loss <= top[2].loss


def test_polynomial_swaps_finds_functions_used_as_polynomials(x64):
    # [2, 2, 1]: 100 cos(0.1 u) is a parabola on |u| <= 1 (to ~1e-8), 3 sin(0.05 u + 0.2)
    # nearly a line, cos(3 u) and exp(2 u) are not polynomials; x^2 is one already
    model, v = kan((2, 2, 1), seed=10)
    sym, sv = sm.to_symbolic(model, v)
    funcs = ((("cos", "cos"), ("sin", "x^2")), (("exp",), ("x",)))
    sym = sym.clone(functions=funcs)
    affine = np.zeros((2, 2, 4))
    affine[0, 0] = 0.1, 0.0, 100.0, -100.0
    affine[0, 1] = 3.0, 0.0, 1.0, 0.0
    affine[1, 0] = 0.05, 0.2, 3.0, 0.0
    affine[1, 1] = 1.0, 0.0, 1.0, 0.0
    outer = np.array([[[2.0, 0.0, 1.0, 0.0]], [[1.0, 0.0, 1.0, 0.0]]])
    sv = {**sv, "params": {**sv["params"], "symbolic_0": affine, "symbolic_1": outer}}
    x = np.random.default_rng(11).uniform(-1, 1, (300, 2))
    swaps = sm.polynomial_swaps(sym, sv, x)
    assert [(e.layer, e.i, e.j, e.name) for e in swaps] == [(0, 0, 0, "x^2"), (0, 1, 0, "x")]
    for e, want in zip(
        swaps, (100 * np.cos(0.1 * x[:, 0]) - 100, 3 * np.sin(0.05 * x[:, 1] + 0.2)), strict=True
    ):
        a, b, c, d = e.params
        u = x[:, e.i]
        got = c * (a * u + b) ** {"x": 1, "x^2": 2}[e.name] + d
        r2 = 1 - np.sum((got - want) ** 2) / np.sum((want - want.mean()) ** 2)
        assert r2 > 1 - 1e-5 and e.r2 == pytest.approx(r2, abs=1e-9)
    assert sm.polynomial_swaps(sym, sv, x, min_r2=1 - 1e-12) == []


def test_fixing_bad_edges_fails_clearly(x64):
    model, v = kan((2, 2, 1), seed=8)
    x = np.random.default_rng(9).uniform(-1, 1, (50, 2))
    with pytest.raises(ValueError, match="unknown symbolic function"):
        sm.fix_symbolic(model, v, x, 0, 0, 0, "cosh")
    with pytest.raises(ValueError, match="does not exist"):
        sm.fix_symbolic(model, v, x, 0, 2, 0, "sin")
    with pytest.raises(ValueError, match=r"x must be samples \[N >= 1, 2\]"):
        sm.fix_symbolic(model, v, np.zeros((0, 2)), 0, 0, 0, "sin")
    pruned = kan_ops.with_edge_mask(v, [np.array([[1, 0], [1, 1]]), np.ones((2, 1))])
    with pytest.raises(ValueError, match="is pruned"):
        sm.fix_symbolic(model, pruned, x, 0, 0, 1, "sin")
    with pytest.raises(ValueError, match="outside its domain"):
        sm.fix_symbolic(model, v, x, 0, 0, 0, "log", a_range=(1, 2), b_range=(-9, -5))


def test_tidy_merges_and_rounds():
    x, y = sympy.symbols("x_1 x_2")
    expr = (
        2.0
        * sympy.exp(0.49999999 * (2.0000001 * y**2 + 2.0 * sympy.sin(3.14159265 * x)) - 0.693147)
        + 1e-7
    )
    assert sm.tidy(expr, 4) == sympy.exp(y**2 + sympy.sin(sympy.Float(3.1416) * x))
    # a node's scale inside a root merges with the outer edge's: sqrt(1 + a^2 + b^2)
    root = 3.7164 * sympy.sqrt(0.072403 * x**2 + 0.072403 * y**2 + 0.072403)
    assert sm.tidy(root, 4) == sympy.sqrt(x**2 + y**2 + 1)
    # and a node's scale in a denominator: 1 / (2 + cos a + b^2)
    inverse = 0.9572 / (0.9572 * y**2 + 0.9572 * sympy.cos(x) + 1.9144)
    assert sm.tidy(inverse, 4) == 1 / (y**2 + sympy.cos(x) + 2)
    # and out of a log: log(1 + a^2 + b^2)
    log = sympy.log(1.69970 * x**2 + 1.69970 * y**2 + 1.69970) - 0.530452  # log 1.6997 = 0.5304518
    assert sm.tidy(log, 4) == sympy.log(x**2 + y**2 + 1)
    # a split exp(k + u) whose exp(k) rounds to 0 would lose the variables: kept whole
    steep = 0.5 * sympy.exp(0.6 * (105.78 * sympy.cos(0.1776 * x) - 96.89 - 1.66 * y**2))
    kept = sm.tidy(steep, 4)
    assert kept.free_symbols == {x, y}
    f, g = (sympy.lambdify((x, y), e, "numpy") for e in (steep, kept))
    z = np.random.default_rng(5).uniform(-1, 1, (2, 50))
    np.testing.assert_allclose(g(*z), f(*z), rtol=1e-3)
    # trig shifts that print as multiples of pi/2 are exact; others stay
    u = x**2 + sympy.exp(y)
    assert sm.tidy(sympy.cos(u - 1.57079), 4) == sympy.sin(u)
    assert sm.tidy(2 * sympy.sin(u + 3.14159), 4) == -2 * sympy.sin(u)
    assert sm.tidy(sympy.sin(u - 4.71239), 4) == sympy.cos(u)
    assert sm.tidy(sympy.cos(u - 1.5701), 4) == sympy.cos(u - sympy.Float(1.5701))
    # pulling constants out of fractional powers keeps the function (numpy, random points)
    messy = (
        2.5 * (0.3 * x - 1.7 * y + 4.1) ** 1.5
        + 0.2 / sympy.sqrt(-0.6 * x + 2.2)
        + 0.7 / (0.4 * x**2 - 0.9 * y - 1.6) ** 2
        + 0.3 * sympy.log(2.1 * x**2 + 0.5 * y + 3.3)
        + x * y
    )
    pulled = sm._pull_constants(messy)
    assert pulled != messy
    z = np.random.default_rng(3).uniform(-1, 1, (2, 50))
    f, g = (sympy.lambdify((x, y), e, "numpy") for e in (messy, pulled))
    np.testing.assert_allclose(g(*z), f(*z), rtol=1e-12)


def test_tidy_keeps_a_formula_that_rounding_would_move_where_it_is_used():
    x, y = sympy.symbols("x_1 x_2")
    bump = x + sympy.exp(-((x - 6.0) ** 2))  # expanded: 2.3e-16 exp(-x^2 + 12 x): rounds to 0
    at = {x: np.linspace(0, 8, 81)}
    for e in (bump, 2.0 * bump):
        kept = sm.tidy(e, 4, at=at)
        assert kept.has(sympy.exp)
        f, g = (sympy.lambdify(x, v, "numpy")(at[x]) for v in (e, kept))
        np.testing.assert_allclose(g, f, rtol=0, atol=1e-3 * np.abs(f).max())
    # formula() checks on the first layer's grid by default: a Gaussian edge centred at 3
    # (1.2341e-4 exp(-x^2 + 6 x) once expanded, whose factor rounds to 0.0001, 19 % off)
    model = kf.models.KAN((2, 1), grid_size=3)
    v = model.init(jax.random.key(0), jnp.zeros((1, 2)))
    sm_model, sv, _ = kf.symbolic.fix_symbolic(model, v, None, 0, 0, 0, "x", fit=False)
    sm_model, sv, _ = kf.symbolic.fix_symbolic(sm_model, sv, None, 0, 1, 0, "gaussian", fit=False)
    affine = np.array(sv["params"]["symbolic_0"])
    affine[1, 0] = [1.0, -3.0, 1.0, 0.0]
    sv = {**sv, "params": {**sv["params"], "symbolic_0": affine}}
    z = np.random.default_rng(0).uniform(2, 4, (50, 2))
    net = np.asarray(sm_model.apply(sv, jnp.asarray(z, jnp.float32)))[:, 0]
    expr = kf.symbolic.formula(sm_model, sv)[0]
    got = np.broadcast_to(sympy.lambdify((x, y), expr, "numpy")(*z.T), net.shape)
    np.testing.assert_allclose(got, net, rtol=1e-3, atol=1e-3)
    with pytest.raises(ValueError, match=r"at must be inputs \[n, 2\]"):
        kf.symbolic.formula(sm_model, sv, at=np.zeros((4, 3)))


def test_discover_rejects_bad_input():
    x = np.random.default_rng(12).uniform(-1, 1, (50, 2))
    with pytest.raises(ValueError, match=r"y must be \[N\] or \[N, 1\] with N = 50"):
        discover(x, np.zeros(49))
    with pytest.raises(ValueError, match="y is constant"):
        discover(x, np.ones(50))
    with pytest.raises(ValueError, match="widths must run from n_in = 2 to 1 output"):
        discover(x, x[:, 0], widths=(3, 5, 1))
    with pytest.raises(ValueError, match="finite"):
        discover(x, np.r_[x[:49, 0], np.nan])
    with pytest.raises(ValueError, match="single_node_tol"):
        discover(x, x[:, 0], single_node_tol=-1.0)


def test_plot_draws_formulas_and_pruned_edges(x64, tmp_path):
    *_, sym, sv, _ = random_symbolic(10)
    masked = kan_ops.with_edge_mask(sv, [np.array([[1, 1, 1], [1, 1, 0]]), np.ones((3, 1))])
    x = np.random.default_rng(11).uniform(-1, 1, (64, 2))
    fig = sm.plot(sym, masked, x, path=tmp_path / "net.png")
    insets = [a for a in fig.axes if a.get_label().startswith("edge ")]
    assert len(insets) == 8  # 9 edges, one pruned
    texts = {t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))}
    assert {"sin", "x^2", "tanh", "exp", "x"} <= texts
    # an inset shows the edge as the network computes it
    h, phi = sm.edge_values_on(sym, masked, x)[0]
    a, b, c, d = np.asarray(masked["params"]["symbolic_0"])[0, 0]
    line = next(a_ for a_ in insets if a_.get_label() == "edge 0 0 0").lines[0]
    t, v = line.get_data()
    np.testing.assert_allclose(v, c * np.sin(a * np.asarray(t) + b) + d, rtol=1e-9)
    assert (tmp_path / "net.png").stat().st_size > 1000
    kf.plot.close(fig)


def test_outside_domain_finds_formulas_used_outside_their_domain(x64):
    # u = x_1 + sqrt(a x_2 + b), y = log(a' u + b') on [-1, 1]^2: sqrt is defined everywhere
    # for (1, 2) and not for (1, 0.5), where the network's safe sqrt (odd continuation) and
    # the printed formula disagree
    model, v = kan((2, 1, 1))
    sym, sv = sm.fix_symbolic(model, v, None, 0, 0, 0, "x", fit=False)[:2]
    sym, sv = sm.fix_symbolic(sym, sv, None, 0, 1, 0, "sqrt", fit=False)[:2]
    sym, sv = sm.fix_symbolic(sym, sv, None, 1, 0, 0, "log", fit=False)[:2]
    x = np.random.default_rng(4).uniform(-1, 1, (200, 2))

    def with_affine(sqrt, log):
        new = {l: np.array(sv["params"][f"symbolic_{l}"]) for l in (0, 1)}
        new[0][1, 0], new[1][0, 0] = sqrt, log
        return {**sv, "params": {**sv["params"], **{f"symbolic_{l}": new[l] for l in (0, 1)}}}

    fine = with_affine((1.0, 2.0, 1.0, 0.0), (1.0, 50.0, 1.0, 0.0))
    bad = with_affine((1.0, 0.5, 1.0, 0.0), (1.0, 50.0, 1.0, 0.0))
    both = with_affine((1.0, 0.5, 1.0, 0.0), (-1.0, -50.0, 1.0, 0.0))
    assert sm.outside_domain(sym, fine, x) == []
    assert sm.outside_domain(sym, bad, x) == [(0, 1, 0, "sqrt")]
    assert sm.outside_domain(sym, both, x) == [(0, 1, 0, "sqrt"), (1, 0, 0, "log")]
    # where it reports nothing the formula is the network; where it reports, the network stays
    # finite (safe forms) and the formula does not
    x1, x2 = sympy.symbols("x_1 x_2")
    for variables, finite in ((fine, True), (bad, False)):
        expr = sm.formula(sym, variables, digits=None)[0]
        with np.errstate(all="ignore"):
            values = sympy.lambdify((x1, x2), expr, "numpy")(x[:, 0], x[:, 1])
        net = np.asarray(jax.jit(sym.apply)(variables, x))[:, 0]
        assert np.all(np.isfinite(net)) and np.all(np.isfinite(values)) == finite
        if finite:
            np.testing.assert_allclose(values, net, rtol=1e-10)


def test_holding_shifts_stops_the_gradient_of_held_shifts_only(x64):
    # the same loss, its gradient zero on (a, b) of the held edges and unchanged elsewhere
    model, v = kan((2, 2, 1))
    sym, sv = sm.fix_symbolic(model, v, None, 0, 0, 1, "sqrt", fit=False)[:2]
    sym, sv = sm.fix_symbolic(sym, sv, None, 1, 1, 0, "sin", fit=False)[:2]
    x = np.random.default_rng(2).uniform(0.5, 1, (40, 2))
    batch = {"x": x, "y": np.sin(x[:, :1]) + x[:, 1:]}
    loss_fn = kf.train.supervised_loss(sym)
    held = kf.symbolic.holding_shifts(loss_fn, [(0, 0, 1), (1, 1, 0)])
    params, state = sv["params"], {k: w for k, w in sv.items() if k != "params"}
    grad = lambda f: jax.grad(lambda p: f(p, state, batch, None)[0])(params)
    plain, got = grad(loss_fn), grad(held)
    assert np.all(np.asarray(plain["symbolic_0"])[0, 1, :2] != 0)
    assert np.all(np.asarray(plain["symbolic_1"])[1, 0, :2] != 0)
    assert held(params, state, batch, None)[0] == loss_fn(params, state, batch, None)[0]
    expect = {l: np.array(plain[f"symbolic_{l}"]) for l in (0, 1)}
    expect[0][0, 1, :2] = 0.0
    expect[1][1, 0, :2] = 0.0
    for l in (0, 1):
        assert np.abs(expect[l]).sum() > 0
        np.testing.assert_array_equal(got[f"symbolic_{l}"], expect[l])
    others = [k for k in params if not k.startswith("symbolic")]
    for k in others:
        jax.tree.map(np.testing.assert_array_equal, got[k], plain[k])
    assert held.check_batch is loss_fn.check_batch


def test_discover_tries_one_node_when_the_formula_is_inaccurate(monkeypatch):
    # a few steps only: the formulas are poor, so tol=0 always tries [2, 1, 1] beside the pruned
    # network, and the one returned has the lower training RMSE; tol=None never tries it.
    # Every non-polynomial edge counts as a polynomial here (min_r2=-inf), so each network
    # is also fitted with polynomial edges, kept only where that formula is more accurate.
    d = importlib.import_module("kanflow.symbolic.discover")  # the module, not the function
    fits, real_fit, real_swaps = [], d._final_fit, d.polynomial_swaps
    monkeypatch.setattr(d, "_final_fit", lambda *a: fits.append(real_fit(*a)) or fits[-1])
    monkeypatch.setattr(d, "polynomial_swaps", lambda *a: real_swaps(*a, min_r2=-np.inf))
    x = np.random.default_rng(0).uniform(-1, 1, (120, 2))
    y = np.sqrt(3 + np.sin(np.pi * x[:, 0]) + x[:, 1])
    kw = dict(sparse_steps=12, steps=6, refine_grids=(), prune_rounds=1, lib=("x", "x^2", "sin"))
    both = discover(x, y, single_node_tol=0.0, **kw)
    assert [c[0] for c in both.candidates][1:] == [(2, 1, 1)]
    assert both.candidates[0][0] != (2, 1, 1)
    best = min(both.candidates, key=lambda c: c[2])
    assert both.widths == best[0] and both.train_rmse == best[2]
    assert {"single_node_final_fit", "polynomial_edges"} <= set(both.seconds)
    assert len(fits) == 4  # per network: as snapped, then with polynomial edges
    for k, (_, _, rmse) in enumerate(both.candidates):
        assert rmse == min(fits[2 * k].train_rmse, fits[2 * k + 1].train_rmse)
    polys = {"x", "x^2", "x^3", "x^4"}
    assert all(e.name in polys for e in fits[1].edges) and fits[1].widths == fits[0].widths
    compiled = _compiled_step.cache_info().misses
    one = discover(x, y, single_node_tol=None, **kw)  # the same networks: no new train step
    assert _compiled_step.cache_info().misses == compiled
    assert len(one.candidates) == 1 and "single_node_fit" not in one.seconds
    assert len(fits) == 5 and one.candidates[0][1] == fits[0].formula
