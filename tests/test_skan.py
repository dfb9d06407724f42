"""S-KAN: the mixed layer against a naive reference, selection, pruning, the schedule."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special

import kanflow as kf
from kanflow.models import skan

POOL = (kf.layers.Space("chebyshev", 1, 3), kf.layers.Space("rbf", 5, 0))


def _feats_np(x):
    """Independent evaluation of POOL: Chebyshev T_0..3(tanh x), Gaussians on 5 centres."""
    cheb = np.polynomial.chebyshev.chebvander(np.tanh(x), 3)  # [..., in, 4]
    c = np.linspace(-1, 1, 5)
    rbf = np.exp(-(((x[..., None] - c) / 0.5) ** 2))
    return [cheb, rbf]


def _silu(x):
    return x * scipy.special.expit(x)


def _perturbed_init(module, x, seed=1):
    p = jax.jit(module.init)(jax.random.key(0), x)["params"]
    leaves, tree = jax.tree.flatten(p)
    keys = jax.random.split(jax.random.key(seed), len(leaves))
    return jax.tree.unflatten(
        tree,
        [
            v + 0.3 * jax.random.normal(k, v.shape, v.dtype)
            for v, k in zip(leaves, keys, strict=True)
        ],
    )


def test_mixed_layer_matches_naive_sum(x64):
    layer = kf.layers.SKANLayer(4, spaces=POOL, use_bias=True, param_dtype=jnp.float64)
    x = np.random.default_rng(0).uniform(-1, 1, (6, 3))
    p = _perturbed_init(layer, x)
    w = scipy.special.softmax(np.asarray(p["select_logits"]), axis=0)
    feats = _feats_np(x)
    sp = np.asarray(p["scale_sp"])
    want = _silu(x) @ np.asarray(p["scale_base"]) + np.asarray(p["bias"])
    for s in range(2):
        want = want + w[s] * np.einsum("bic,ico,io->bo", feats[s], np.asarray(p[f"coef_{s}"]), sp)
    got = jax.jit(layer.apply)({"params": p}, x)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    edges = jax.jit(lambda p, x: layer.apply(p, x, per_edge=True))({"params": p}, x)
    np.testing.assert_allclose(edges.sum(-2), want, rtol=1e-10, atol=1e-12)


def test_selection_keeps_the_dominant_term_and_drops_the_rest(x64):
    layer = kf.layers.SKANLayer(5, spaces=POOL, param_dtype=jnp.float64)
    x = np.random.default_rng(1).uniform(-1, 1, (7, 3))
    p = _perturbed_init(layer, x)
    p["select_logits"] = p["select_logits"] * 10  # decisive weights
    new_layer, new_p = kf.layers.select_spaces(layer, p)
    w = scipy.special.softmax(np.asarray(p["select_logits"]), axis=0)
    sel = np.argmax(w, axis=0)
    assert new_layer.selection == tuple(int(s) for s in sel)
    assert "select_logits" not in new_p
    feats = _feats_np(x)
    sp = np.asarray(p["scale_sp"])
    want = _silu(x) @ np.asarray(p["scale_base"])
    for j, s in enumerate(sel):
        coef = np.asarray(p[f"coef_{s}"])[..., j] * sp[:, j, None]
        want[:, j] += w[s, j] * np.einsum("bic,ic->b", feats[s], coef)
    np.testing.assert_allclose(jax.jit(new_layer.apply)({"params": new_p}, x), want, rtol=1e-10)
    # a selected node costs what a one-basis KANLayer node costs, and computes the same function
    n = {0: 4, 1: 5}
    assert kf.count_params(new_p) == sum(3 * (n[int(s)] + 2) for s in sel)
    j = 0
    s = int(sel[j])
    space = POOL[s]
    kan = kf.layers.KANLayer(
        1,
        basis=space.basis,
        grid_size=space.grid_size,
        order=space.order,
        param_dtype=jnp.float64,
    )
    col = slice(j, j + 1)
    kp = {
        "coef": np.asarray(p[f"coef_{s}"])[..., col] * w[s, j],
        "scale_sp": sp[:, col],
        "scale_base": np.asarray(p["scale_base"])[:, col],
    }
    np.testing.assert_allclose(jax.jit(kan.apply)({"params": kp}, x)[:, 0], want[:, j], rtol=1e-10)


def test_keep_nodes_and_inputs_restrict_a_selected_layer(x64):
    layer = kf.layers.SKANLayer(5, spaces=POOL, selection=(1, 0, 1, 1, 0), param_dtype=jnp.float64)
    x = np.random.default_rng(2).uniform(-1, 1, (7, 3))
    p = _perturbed_init(layer, x)
    full = np.asarray(jax.jit(layer.apply)({"params": p}, x))
    keep = [3, 0, 2]  # out of order, space 0 kept only through node 0
    small, sp = kf.layers.keep_nodes(layer, p, keep)
    assert small.selection == (1, 1, 1) and "coef_0" not in sp
    np.testing.assert_allclose(jax.jit(small.apply)({"params": sp}, x), full[:, keep], rtol=1e-12)
    same, sub = kf.layers.keep_inputs(layer, p, [2, 0])  # edges from inputs 1 dropped
    want = jax.jit(layer.apply)({"params": p}, x * np.array([1.0, 0.0, 1.0]))
    want = want - jax.jit(layer.apply)({"params": p}, np.zeros((1, 3)))  # every phi_i(0)
    got = jax.jit(layer.apply)({"params": sub}, x[:, [2, 0]])
    got = got - jax.jit(layer.apply)({"params": sub}, np.zeros((1, 2)))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="keep must list node indices"):
        kf.layers.keep_nodes(layer, p, [5])
    for bad in ([True, False, True, False, False], [0.9, 2.2]):  # read as [1, 0, 1, ...], [0, 2]
        with pytest.raises(ValueError, match="keep must list integer node indices"):
            kf.layers.keep_nodes(layer, p, bad)
    with pytest.raises(ValueError, match="selected layer"):
        kf.layers.keep_nodes(kf.layers.SKANLayer(5, spaces=POOL), p, [0])


def test_prune_drops_dead_hidden_nodes_without_changing_the_function(x64):
    model = kf.models.SKAN((2, 4, 1), spaces=POOL, param_dtype=jnp.float64)
    x = np.random.default_rng(2).uniform(-1, 1, (50, 2))
    v = jax.jit(model.init)(jax.random.key(0), x)
    model, v = skan.select(model, v)
    p = jax.tree.map(np.array, v["params"])
    dead = 2  # silence hidden node 2: no incoming, no outgoing edge
    for key in p["layer_0"]:
        if key.startswith("coef_"):
            s = int(key.split("_")[1])
            cols = np.flatnonzero(np.asarray(model.selections[0]) == s)
            p["layer_0"][key][..., cols == dead] = 0.0
    p["layer_0"]["scale_base"][:, dead] = 0.0
    for key in p["layer_1"]:
        if key.startswith("coef_"):
            p["layer_1"][key][dead] = 0.0
    p["layer_1"]["scale_base"][dead] = 0.0
    v = {"params": p}
    pruned, pv = skan.prune(model, v, x, threshold=1e-8)
    assert pruned.widths == (2, 3, 1)
    np.testing.assert_allclose(
        jax.jit(pruned.apply)(pv, x), jax.jit(model.apply)(v, x), rtol=1e-10, atol=1e-12
    )
    assert len(skan.chosen_spaces(pruned)[0]) == 3


def test_fit_skan_runs_three_stages_and_fits():
    x = np.linspace(-1, 1, 256, dtype=np.float32)[:, None]
    y = np.sin(np.pi * x) + 0.3 * x**2
    model = kf.models.SKAN((1, 3, 1))
    phases = kf.recipes.fit_skan(model, x, y, steps=(300, 200, 100), learning_rate=2e-2, quiet=True)
    assert [p.stage for p in phases] == ["mixed", "selective", "pruned"]
    final = phases[-1]
    rmse = float(jnp.sqrt(jnp.mean((final.model.apply(final.variables, x) - y) ** 2)))
    assert rmse < 0.05
    labels = skan.chosen_spaces(final.model)
    assert len(labels) == 2 and all(isinstance(s, str) for s in labels[0])


def test_skan_errors():
    with pytest.raises(ValueError, match="the pool is empty"):
        kf.layers.SKANLayer(3, spaces=())
    with pytest.raises(ValueError, match="unknown basis 'splinez'"):
        kf.layers.SKANLayer(3, spaces=("bspline", "splinez"))
    with pytest.raises(ValueError, match="selection must give a space index"):
        kf.layers.SKANLayer(2, spaces=POOL, selection=(0, 5))
    with pytest.raises(ValueError, match="integer space indices"):  # was truncated to (0, 1)
        kf.layers.SKANLayer(2, spaces=POOL, selection=(0.5, 1.7))
    with pytest.raises(ValueError, match="not selected its spaces"):
        skan.chosen_spaces(kf.models.SKAN((2, 2, 1)))


def test_selection_entropy_against_numpy():
    rng = np.random.default_rng(0)
    logits = {
        "layer_0": {"select_logits": rng.normal(size=(4, 3)) * 3},
        "layer_1": {"select_logits": rng.normal(size=(4, 2)), "coef_0": np.zeros(1)},
    }
    ref = []
    for p in logits.values():
        w = scipy.special.softmax(p["select_logits"], axis=0)
        ref.extend(-(w * np.log(w)).sum(0) / np.log(4))
    got = skan.selection_entropy({"params": logits})
    np.testing.assert_allclose(got, np.mean(ref), rtol=1e-5)
    uniform = {"params": {"l": {"select_logits": np.zeros((12, 5))}}}
    np.testing.assert_allclose(skan.selection_entropy(uniform), 1.0, rtol=1e-6)
    decided = {"params": {"l": {"select_logits": np.eye(12)[:, :5] * 200}}}
    assert skan.selection_entropy(decided) < 1e-6
    with pytest.raises(ValueError, match="mixing"):
        skan.selection_entropy({"params": {"l": {"coef_0": np.zeros(1)}}})


def test_fit_skan_selection_lr_scale_speeds_up_only_the_logits():
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(-1, 1, (64, 2)), jnp.float32)
    y = jnp.sin(2 * x[:, :1]) + x[:, 1:] ** 2
    model = kf.models.SKAN((2, 3, 1), spaces=("bspline", "chebyshev"))
    first = {}
    for scale in (1.0, 10.0):
        phases = kf.recipes.fit_skan(
            model, x, y, steps=(1, 1, 0), learning_rate=1e-3, selection_lr_scale=scale, quiet=True
        )
        first[scale] = phases[0].variables["params"]["layer_0"]
    # Adam's first step moves every parameter by about its learning rate: the logits
    # (zero at init) by 10x as much, the coefficients alike in both runs
    move = {s: np.abs(np.asarray(p["select_logits"])).max() for s, p in first.items()}
    np.testing.assert_allclose(move[10.0] / move[1.0], 10.0, rtol=1e-3)
    np.testing.assert_allclose(first[10.0]["coef_0"], first[1.0]["coef_0"], rtol=1e-6)
    with pytest.raises(ValueError, match="selection_lr_scale"):
        kf.recipes.fit_skan(model, x, y, steps=(1, 1, 0), selection_lr_scale=0.0)


def test_temperature_divides_the_selection_logits(x64):
    layer = kf.layers.SKANLayer(4, spaces=POOL, param_dtype=jnp.float64)
    x = np.random.default_rng(2).uniform(-1, 1, (6, 3))
    p = _perturbed_init(layer, x)
    cold = {"params": p, "selection": {"temperature": jnp.asarray(0.25)}}
    sharp = {"params": {**p, "select_logits": p["select_logits"] * 4}}
    np.testing.assert_allclose(layer.apply(cold, x), layer.apply(sharp, x), rtol=1e-12)
    # selection folds the weights at the temperature they were trained at
    a = kf.layers.select_spaces(layer, p, temperature=0.25)
    b = kf.layers.select_spaces(layer, sharp["params"])
    assert a[0].selection == b[0].selection
    for k in a[1]:
        np.testing.assert_allclose(a[1][k], b[1][k], rtol=1e-12)
    for t in (0.0, -1.0):  # NaN weights; the smallest logit's space
        with pytest.raises(ValueError, match="temperature must be > 0"):
            kf.layers.select_spaces(layer, p, temperature=t)


def test_fit_skan_anneals_the_temperature_in_one_run():
    rng = np.random.default_rng(1)
    x = jnp.asarray(rng.uniform(-1, 1, (64, 2)), jnp.float32)
    y = jnp.sin(2 * x[:, :1]) + x[:, 1:] ** 2
    model = kf.models.SKAN((2, 3, 1), spaces=("bspline", "chebyshev"))
    phases = kf.recipes.fit_skan(
        model, x, y, steps=(12, 2, 0), final_temperature=0.1, temperature_rounds=4, quiet=True
    )
    mixed = phases[0]
    assert [float(mixed.variables["selection"][f"layer_{l}"]["temperature"]) for l in (0, 1)] == (
        pytest.approx([0.1, 0.1])
    )
    steps = mixed.history["step"]
    assert steps == sorted(set(steps)) and steps[-1] == 11  # one continued run, 12 steps
    # the report uses the final temperature: entropy at T = 0.1 of the trained logits
    logits = [np.asarray(mixed.variables["params"][f"layer_{l}"]["select_logits"]) for l in (0, 1)]
    ref = [
        -(w * np.log(w)).sum(0) / np.log(2)
        for w in (scipy.special.softmax(z / 0.1, 0) for z in logits)
    ]
    np.testing.assert_allclose(
        skan.selection_entropy(mixed.variables), np.mean(np.concatenate(ref)), rtol=1e-4
    )
    # one round (one step, or temperature_rounds=1) trains and selects at the final temperature
    for kw in (dict(steps=(1, 1, 0)), dict(steps=(3, 1, 0), temperature_rounds=1)):
        one = kf.recipes.fit_skan(model, x, y, final_temperature=0.1, quiet=True, **kw)[0]
        temps = [float(one.variables["selection"][f"layer_{l}"]["temperature"]) for l in (0, 1)]
        assert temps == pytest.approx([0.1, 0.1]), kw
    with pytest.raises(ValueError, match="final_temperature"):
        kf.recipes.fit_skan(model, x, y, steps=(1, 1, 0), final_temperature=0.0)


def test_selection_entropy_penalty_is_added_to_the_mixed_loss():
    from kanflow.recipes import skan as recipe

    rng = np.random.default_rng(3)
    x = jnp.asarray(rng.uniform(-1, 1, (32, 2)), jnp.float32)
    y = jnp.cos(x[:, :1]) * x[:, 1:]
    model = kf.models.SKAN((2, 3, 1), spaces=("bspline", "chebyshev", "rbf"))
    params = _perturbed_init(model, x)
    batch = {"x": x, "y": y}
    plain, *_ = recipe._stage_step(model, "mse", 5, 1e-2, 1.0, 0.0)
    penalised, *_ = recipe._stage_step(model, "mse", 5, 1e-2, 1.0, 0.7)
    base, _ = plain(params, {}, batch, None)
    value, aux = penalised(params, {}, batch, None)
    h = skan.selection_entropy({"params": params})
    assert float(aux["selection_entropy"]) == pytest.approx(h, rel=1e-5)
    assert float(value) == pytest.approx(float(base) + 0.7 * h, rel=1e-5)
    with pytest.raises(ValueError, match="selection_entropy"):
        kf.recipes.fit_skan(model, x, y, steps=(1, 1, 0), selection_entropy=-1.0)


def _coef_design(layer, p, x, s, j):
    """``[n, in * c]``: node ``j``'s output as a linear map of its ``coef_s`` (by jacfwd)."""
    col = int(np.flatnonzero(np.flatnonzero(np.asarray(layer.selection) == s) == j)[0])
    apply = lambda c: layer.apply({"params": {**p, f"coef_{s}": c}}, x)[:, j]
    jac = jax.jacfwd(apply)(jnp.asarray(p[f"coef_{s}"]))  # [n, in, c, cols]
    return np.asarray(jac[..., col]).reshape(x.shape[0], -1), col


def test_refit_selected_solves_the_ridge_problem(x64):
    layer = kf.layers.SKANLayer(4, spaces=POOL, selection=(1, 0, 1, 0), param_dtype=jnp.float64)
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (40, 3))
    p = _perturbed_init(layer, x)
    target = rng.normal(size=(40, 4))
    ridge = 0.05
    got = kf.layers.refit_selected(layer, p, x, target, ridge)
    base = np.asarray(layer.apply({"params": p}, x))
    for j, s in enumerate(layer.selection):
        a, col = _coef_design(layer, p, x, s, j)  # in coefficient units (scale_sp inside)
        c0 = np.asarray(p[f"coef_{s}"])[..., col].reshape(-1)
        # the penalty is on u = scale_sp * coef: in coefficient units a diagonal weight
        sp = np.repeat(np.asarray(p["scale_sp"])[:, j], POOL[s].num_basis())
        feats = a / sp  # the design in u
        lam = ridge * np.trace(feats.T @ feats) / feats.shape[1]
        r = target[:, j] - (base[:, j] - a @ c0)  # what the spline term must produce
        lhs = np.vstack([a, np.sqrt(lam) * np.diag(sp)])
        rhs = np.concatenate([r, np.sqrt(lam) * sp * c0])
        want = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
        np.testing.assert_allclose(
            np.asarray(got[f"coef_{s}"])[..., col].reshape(-1), want, rtol=1e-8, atol=1e-10
        )
    # a target the kept spaces can express is reproduced (tiny ridge)
    true = _perturbed_init(layer, x, seed=7)
    reach = np.asarray(
        layer.apply({"params": {**p, "coef_0": true["coef_0"], "coef_1": true["coef_1"]}}, x)
    )
    fitted = kf.layers.refit_selected(layer, p, x, reach, 1e-12)
    np.testing.assert_allclose(layer.apply({"params": fitted}, x), reach, atol=1e-7)
    with pytest.raises(ValueError, match="target \\[n, 4\\]"):
        kf.layers.refit_selected(layer, p, x, target[:, :2])
    with pytest.raises(ValueError, match="ridge must be > 0"):
        kf.layers.refit_selected(layer, p, x, target, 0.0)


def test_select_by_projection_keeps_the_function_better_than_folding(x64):
    model = kf.models.SKAN((2, 4, 1), spaces=POOL, param_dtype=jnp.float64)
    x = np.random.default_rng(4).uniform(-1, 1, (200, 2))
    v = {"params": _perturbed_init(model, x)}  # undecided weights: both spaces carry output
    mixed = np.asarray(model.apply(v, x))
    folded_model, folded = skan.select(model, v)
    proj_model, proj = skan.select(model, v, x)
    assert proj_model.selections == folded_model.selections
    err_fold = np.sqrt(np.mean((np.asarray(folded_model.apply(folded, x)) - mixed) ** 2))
    err_proj = np.sqrt(np.mean((np.asarray(proj_model.apply(proj, x)) - mixed) ** 2))
    assert err_proj < 0.5 * err_fold
    # decisive weights: the dropped spaces carry nothing, projection changes nothing
    for l in ("layer_0", "layer_1"):
        z = np.asarray(v["params"][l]["select_logits"])
        v["params"][l]["select_logits"] = np.where(z == z.max(0), 60.0, -60.0)
    (_, folded), (_, proj) = skan.select(model, v), skan.select(model, v, x)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-9), folded, proj)


def test_prune_down_to_a_parameter_budget_keeps_the_strongest_nodes(x64):
    model = kf.models.SKAN((2, 6, 1), spaces=POOL, param_dtype=jnp.float64)
    x = np.random.default_rng(5).uniform(-1, 1, (100, 2))
    model, v = skan.select(model, {"params": _perturbed_init(model, x)})
    scores = kf.layers.edge_scores(model, v, x, kf.layers.SKANLayer)
    strength = np.minimum(scores[("layer_0",)].max(0), scores[("layer_1",)].max(1))
    order = np.argsort(-strength)  # strongest first
    full = kf.count_params(v["params"])
    budget = full - 15  # at least one node must go
    pruned, pv = skan.prune(model, v, x, threshold=0.0, max_params=budget)
    k = pruned.widths[1]
    assert kf.count_params(pv["params"]) <= budget and 1 <= k < 6
    kept = sorted(order[:k].tolist())
    want_model, want_v = skan.prune(model, v, x, threshold=0.0)
    sub, sp = kf.layers.keep_nodes(want_model.layer(0), want_v["params"]["layer_0"], kept)
    assert pruned.selections[0] == sub.selection
    np.testing.assert_allclose(pv["params"]["layer_0"]["scale_base"], sp["scale_base"])
    # one more node (the next strongest) would have been over the budget
    _, bigger = kf.layers.keep_nodes(model.layer(0), v["params"]["layer_0"], sorted(order[: k + 1]))
    more = kf.count_params(bigger) + kf.count_params(
        kf.layers.keep_inputs(model.layer(1), v["params"]["layer_1"], sorted(order[: k + 1]))[1]
    )
    assert more > budget
    with pytest.raises(ValueError, match="max_params must be"):
        skan.prune(model, v, x, max_params=0)
    # two hidden layers: the one node dropped is the weakest of both layers
    deep = kf.models.SKAN((2, 3, 3, 1), spaces=POOL, param_dtype=jnp.float64)
    deep, dv = skan.select(deep, {"params": _perturbed_init(deep, x)})
    sc = kf.layers.edge_scores(deep, dv, x, kf.layers.SKANLayer)
    strengths = [
        np.minimum(sc[(f"layer_{l - 1}",)].max(0), sc[(f"layer_{l}",)].max(1)) for l in (1, 2)
    ]
    weakest_layer = 1 + int(np.argmin([st.min() for st in strengths]))
    pruned, _ = skan.prune(deep, dv, x, threshold=0.0, max_params=kf.count_params(dv) - 1)
    want = [2, 3, 3, 1]
    want[weakest_layer] = 2
    assert list(pruned.widths) == want


# --- input selection: each input's value is expanded in one space for all its edges


def _input_layer_np(p, x, selection=None):
    """Naive input-selecting layer: ``sum_i silu(x_i) sb_ij + sp_ij sum_s w_si coef^s_i: B^s(x_i)``
    (mixing: softmax weights; selected: each input's own space, coefficients per group)."""
    feats = _feats_np(x)
    sp = np.asarray(p["scale_sp"])
    y = _silu(x) @ np.asarray(p["scale_base"]) + np.asarray(p.get("bias", 0.0))
    if selection is None:
        w = scipy.special.softmax(np.asarray(p["select_logits"]), axis=0)  # [S, in]
        for s in range(len(feats)):
            coef = np.asarray(p[f"coef_{s}"])
            y = y + np.einsum("bic,ico,io,i->bo", feats[s], coef, sp, w[s])
        return y
    rank = {}  # position of input i inside its space's group
    for i, s in enumerate(selection):
        rank[i] = sum(1 for t in selection[:i] if t == s)
    for i, s in enumerate(selection):
        coef = np.asarray(p[f"coef_{s}"])[rank[i]]  # [c, out]
        y = y + np.einsum("bc,co,o->bo", feats[s][:, i], coef, sp[i])
    return y


def test_input_selecting_layer_matches_naive_sums(x64):
    layer = kf.layers.SKANLayer(
        4, spaces=POOL, selects="input", use_bias=True, param_dtype=jnp.float64
    )
    x = np.random.default_rng(5).uniform(-1, 1, (6, 5))
    p = _perturbed_init(layer, x)
    assert p["select_logits"].shape == (2, 5)  # one weight per space per input
    want = _input_layer_np(p, x)
    np.testing.assert_allclose(jax.jit(layer.apply)({"params": p}, x), want, rtol=1e-10)
    p["select_logits"] = p["select_logits"] * 10  # decisive, but both spaces still carry some
    new_layer, new_p = kf.layers.select_spaces(layer, p)
    w = scipy.special.softmax(np.asarray(p["select_logits"]), axis=0)
    sel = tuple(int(s) for s in np.argmax(w, axis=0))
    assert new_layer.selection == sel and new_layer.selects == "input"
    assert "select_logits" not in new_p
    # the kept term of each input's edges, with its weight folded in
    feats, sp = _feats_np(x), np.asarray(p["scale_sp"])
    kept = _silu(x) @ np.asarray(p["scale_base"]) + np.asarray(p["bias"])
    for i, s in enumerate(sel):
        coef = np.asarray(p[f"coef_{s}"])[i] * w[s, i]
        kept = kept + np.einsum("bc,co,o->bo", feats[s][:, i], coef, sp[i])
    got = jax.jit(new_layer.apply)({"params": new_p}, x)
    np.testing.assert_allclose(got, kept, rtol=1e-10)
    np.testing.assert_allclose(_input_layer_np(new_p, x, sel), kept, rtol=1e-10)
    edges = jax.jit(lambda v, x: new_layer.apply(v, x, per_edge=True))({"params": new_p}, x)
    assert edges.shape == (6, 5, 4)
    np.testing.assert_allclose(edges.sum(-2), kept, rtol=1e-10)
    # an input costs its own space's coefficients only
    n = {0: 4, 1: 5}
    assert kf.count_params(new_p) == sum(4 * n[s] for s in sel) + 2 * 5 * 4 + 4
    # gradients of the selected layer against the naive form (x and every parameter)
    loss = lambda v, x: jnp.sum(jnp.sin(new_layer.apply(v, x)))  # noqa: E731
    gp, gx = jax.jit(jax.grad(loss, argnums=(0, 1)))({"params": new_p}, x)
    eps = 1e-6
    for key in ("coef_0", "scale_sp"):
        d = np.zeros_like(np.asarray(new_p[key]))
        d.flat[1] = eps
        plus = {**new_p, key: new_p[key] + d}
        minus = {**new_p, key: new_p[key] - d}
        fd = (
            np.sum(np.sin(_input_layer_np(plus, x, sel)))
            - np.sum(np.sin(_input_layer_np(minus, x, sel)))
        ) / (2 * eps)
        np.testing.assert_allclose(np.asarray(gp["params"][key]).flat[1], fd, rtol=1e-6)
    dx = np.zeros_like(x)
    dx[2, 3] = eps
    fd = (
        np.sum(np.sin(_input_layer_np(new_p, x + dx, sel)))
        - np.sum(np.sin(_input_layer_np(new_p, x - dx, sel)))
    ) / (2 * eps)
    np.testing.assert_allclose(np.asarray(gx)[2, 3], fd, rtol=1e-6)
    with pytest.raises(ValueError, match="selects per input: its selection has 5 entries"):
        new_layer.apply({"params": new_p}, x[:, :4])
    with pytest.raises(ValueError, match="selects must be 'output' or 'input'"):
        kf.layers.SKANLayer(4, spaces=POOL, selects="edge")


def test_keep_nodes_and_inputs_restrict_an_input_selected_layer(x64):
    sel = (1, 0, 1, 1, 0)
    layer = kf.layers.SKANLayer(3, spaces=POOL, selection=sel, selects="input")
    layer = layer.clone(param_dtype=jnp.float64)
    x = np.random.default_rng(6).uniform(-1, 1, (7, 5))
    p = _perturbed_init(layer, x)
    full = np.asarray(jax.jit(layer.apply)({"params": p}, x))
    small, sp = kf.layers.keep_nodes(layer, p, [2, 0])
    assert small.selection == sel and small.features == 2
    np.testing.assert_allclose(jax.jit(small.apply)({"params": sp}, x), full[:, [2, 0]], rtol=1e-12)
    rows = [3, 0, 2]  # out of order; space 0 kept only through input 0
    sub, subp = kf.layers.keep_inputs(layer, p, rows)
    assert sub.selection == (1, 1, 1) and "coef_0" not in subp
    # the kept inputs' edges are unchanged: compare per edge
    edges = jax.jit(lambda v, x: layer.apply(v, x, per_edge=True))({"params": p}, x)
    got = jax.jit(lambda v, x: sub.apply(v, x, per_edge=True))({"params": subp}, x[:, rows])
    np.testing.assert_allclose(got, np.asarray(edges)[:, rows], rtol=1e-12)
    with pytest.raises(ValueError, match="rows must list input indices in \\[0, 5\\)"):
        kf.layers.keep_inputs(layer, p, [5])


def test_refit_selected_input_layer_solves_one_ridge_problem(x64):
    layer = kf.layers.SKANLayer(
        2, spaces=POOL, selection=(1, 0, 1), selects="input", param_dtype=jnp.float64
    )
    rng = np.random.default_rng(8)
    x = rng.uniform(-1, 1, (40, 3))
    p = _perturbed_init(layer, x)
    target = rng.normal(size=(40, 2))
    ridge = 0.05
    got = kf.layers.refit_selected(layer, p, x, target, ridge)
    feats = _feats_np(x)
    spv = np.asarray(p["scale_sp"])
    base = _silu(x) @ np.asarray(p["scale_base"])
    # design in u = scale_sp * coef, columns (input 1 in space 0), (inputs 0, 2 in space 1)
    blocks = [(0, [1]), (1, [0, 2])]
    a = np.concatenate([feats[s][:, i].reshape(40, -1) for s, i in blocks], axis=1)
    lam = ridge * np.trace(a.T @ a) / a.shape[1]
    for j in range(2):
        u0 = np.concatenate(
            [
                (np.asarray(p[f"coef_{s}"])[..., j] * spv[i, j][:, None]).reshape(-1)
                for s, i in blocks
            ]
        )
        lhs = np.vstack([a, np.sqrt(lam) * np.eye(a.shape[1])])
        rhs = np.concatenate([target[:, j] - base[:, j], np.sqrt(lam) * u0])
        u = np.linalg.lstsq(lhs, rhs, rcond=None)[0]
        want = np.concatenate(
            [
                (np.asarray(got[f"coef_{s}"])[..., j] * spv[i, j][:, None]).reshape(-1)
                for s, i in blocks
            ]
        )
        np.testing.assert_allclose(want, u, rtol=1e-8, atol=1e-10)


def test_input_selecting_skan_selects_prunes_and_fits(x64):
    model = kf.models.SKAN((2, 4, 1), spaces=POOL, selects="input", param_dtype=jnp.float64)
    x = np.random.default_rng(9).uniform(-1, 1, (200, 2))
    v = {"params": _perturbed_init(model, x)}
    mixed = np.asarray(model.apply(v, x))
    folded_model, folded = skan.select(model, v)
    proj_model, proj = skan.select(model, v, x)
    assert [len(s) for s in proj_model.selections] == [2, 4]  # one space per input of a layer
    err_fold = np.sqrt(np.mean((np.asarray(folded_model.apply(folded, x)) - mixed) ** 2))
    err_proj = np.sqrt(np.mean((np.asarray(proj_model.apply(proj, x)) - mixed) ** 2))
    assert err_proj < 0.5 * err_fold
    # hidden node 1 dead on its outgoing side only: AND rule drops it, the function stays
    p = jax.tree.map(np.array, proj["params"])
    for key in p["layer_1"]:
        if key.startswith("coef_"):
            s = int(key.split("_")[1])
            rows = np.flatnonzero(np.asarray(proj_model.selections[1]) == s)
            p["layer_1"][key][rows == 1] = 0.0
    p["layer_1"]["scale_base"][1] = 0.0
    v = {"params": p}
    pruned, pv = skan.prune(proj_model, v, x, threshold=1e-8)
    assert pruned.widths == (2, 3, 1)
    keep = [0, 2, 3]
    assert pruned.selections[1] == tuple(proj_model.selections[1][k] for k in keep)
    np.testing.assert_allclose(
        jax.jit(pruned.apply)(pv, x), jax.jit(proj_model.apply)(v, x), rtol=1e-10, atol=1e-12
    )
    xs = np.linspace(-1, 1, 128, dtype=np.float32)[:, None]
    phases = kf.recipes.fit_skan(
        kf.models.SKAN((1, 3, 1), selects="input"),
        xs,
        np.sin(np.pi * xs),
        steps=(200, 100, 50),
        learning_rate=2e-2,
        quiet=True,
    )
    final = phases[-1]
    assert final.model.selects == "input" and len(final.model.selections[0]) == 1
    rmse = float(
        jnp.sqrt(jnp.mean((final.model.apply(final.variables, xs) - np.sin(np.pi * xs)) ** 2))
    )
    assert rmse < 0.1


@pytest.mark.parametrize("base", [kf.layers.SKANLayer.base_activation, None])
def test_layer_output_is_the_sum_of_its_edges_in_every_form(x64, base):
    """The matmul forms (base branch folded in as a plane) against the per-edge einsum."""
    x = np.random.default_rng(10).uniform(-1, 1, (6, 5))
    forms = [
        dict(selects="output"),
        dict(selects="input"),
        dict(selects="output", selection=(1, 0, 1, 1)),
        dict(selects="input", selection=(1, 0, 1, 1, 0)),
    ]
    for form in forms:
        layer = kf.layers.SKANLayer(
            4, spaces=POOL, base_activation=base, use_bias=True, param_dtype=jnp.float64, **form
        )
        p = _perturbed_init(layer, x)
        assert ("scale_base" in p) == (base is not None)
        y = jax.jit(layer.apply)({"params": p}, x)
        edges = layer.apply({"params": p}, x, per_edge=True)
        np.testing.assert_allclose(y, edges.sum(-2), rtol=1e-10, atol=1e-12, err_msg=str(form))
