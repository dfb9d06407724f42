"""Sparsity regularisation, edge masks and pruning of plain KANs, against numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kanflow as kf
from kanflow.models import kan as kan_ops
from kanflow.symbolic import sparsity


def np_penalty(scales, lamb_l1, lamb_entropy):
    """pykan's ``reg`` written with loops, on [in, out] matrices."""
    total = 0.0
    for s in scales:
        n_in, n_out = s.shape
        l1 = s.sum()
        h_in = 0.0
        for j in range(n_out):  # per output node, over its inputs
            p = s[:, j] / (s[:, j].sum() + 1)
            h_in += -(p * np.log2(p + 1e-4)).sum()
        h_out = 0.0
        for i in range(n_in):  # per input node, over its outputs
            p = s[i] / (s[i].sum() + 1)
            h_out += -(p * np.log2(p + 1e-4)).sum()
        total += lamb_l1 * l1 + lamb_entropy * (h_in / n_out + h_out / n_in)
    return total


def test_penalty_matches_numpy_on_random_scales(x64):
    rng = np.random.default_rng(0)
    scales = [rng.exponential(0.3, (3, 5)), rng.exponential(0.1, (5, 2))]
    got = sparsity.sparsity_penalty([jnp.asarray(s) for s in scales], 0.7, 2.0)
    assert float(got) == pytest.approx(np_penalty(scales, 0.7, 2.0), rel=1e-12)


def test_coefficient_penalty_matches_numpy(x64):
    c = np.random.default_rng(1).normal(size=(3, 6, 4))  # [in, n, out]
    got = sparsity.coefficient_penalty([jnp.asarray(c)], 0.5, 0.25)
    want = 0.5 * np.abs(c).mean(axis=2).sum() + 0.25 * np.abs(np.diff(c, axis=1)).mean(2).sum()
    assert float(got) == pytest.approx(want, rel=1e-12)


def test_edge_scale_metrics(x64):
    rng = np.random.default_rng(2)
    x, e = rng.normal(size=(50, 3)), rng.normal(size=(50, 3, 2))
    got = sparsity.edge_scale(jnp.asarray(x), jnp.asarray(e), "std")
    np.testing.assert_allclose(got, e.std(0) / (x.std(0)[:, None] + 0.1), rtol=1e-12)
    np.testing.assert_allclose(sparsity.edge_scale(x, e, "mean_abs"), np.abs(e).mean(0))
    with pytest.raises(ValueError, match="metric"):
        sparsity.edge_scale(x, e, "max")


def small_kan(widths=(2, 4, 1), seed=0, **kw):
    model = kf.models.KAN(widths, grid_size=5, param_dtype=jnp.float64, **kw)
    return model, model.init(jax.random.key(seed), jnp.zeros((1, widths[0])))


def test_with_sparsity_adds_the_penalty_of_the_same_forward_pass(x64):
    model, v = small_kan((2, 3, 2), use_bias=True)
    rng = np.random.default_rng(3)
    batch = {"x": rng.uniform(-1, 1, (64, 2)), "y": rng.normal(size=(64, 2))}
    base = kf.train.supervised_loss(model)
    reg_loss = sparsity.with_sparsity(base, 0.01, lamb_entropy=1.5, lamb_coefdiff=0.1)
    state = {"grid": v["grid"]}
    loss, aux = jax.jit(reg_loss)(v["params"], state, batch, None)
    plain, _ = jax.jit(base)(v["params"], state, batch, None)
    stats = kan_ops.layer_edges(model, v, batch["x"])
    scales = [e.std(0) / (h.std(0)[:, None] + 0.1) for h, e in stats]
    coefs = [np.asarray(v["params"][f"layer_{l}"]["coef"]) for l in range(2)]
    want = np_penalty(scales, 1.0, 1.5) + sum(
        0.1 * np.abs(np.diff(c, axis=1)).mean(2).sum() for c in coefs
    )
    assert float(aux["reg"]) == pytest.approx(want, rel=1e-9)
    assert float(loss) == pytest.approx(float(plain) + 0.01 * want, rel=1e-10)
    grads = jax.jit(jax.grad(lambda p: reg_loss(p, state, batch, None)[0]))(v["params"])
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in jax.tree.leaves(grads))
    with pytest.raises(ValueError, match="lamb must be >= 0"):
        sparsity.with_sparsity(base, -1.0)


def layer0_edges(model, v, x):
    edges = jax.jit(lambda v, x: model.layer(0).apply(v, x, per_edge=True))
    return edges({c: t["layer_0"] for c, t in v.items()}, x)


def test_edge_mask_removes_exactly_the_masked_edges(x64):
    model, v = small_kan((3, 2), use_bias=True)
    v = jax.tree.map(lambda a: a, v)
    v["params"]["layer_0"]["bias"] = jnp.array([0.3, -0.2])
    x = np.random.default_rng(4).uniform(-1, 1, (20, 3))
    edges = np.asarray(layer0_edges(model, v, x))
    mask = np.array([[1, 0], [1, 1], [0, 1]], float)
    masked = kan_ops.with_edge_mask(v, [mask])
    want = (edges - np.array([0.3, -0.2]) / 3) * mask  # the edges without their bias share
    want = want.sum(1) + np.array([0.3, -0.2])
    np.testing.assert_allclose(jax.jit(model.apply)(masked, x), want, rtol=1e-12)
    per_edge = layer0_edges(model, masked, x)
    np.testing.assert_allclose(np.asarray(per_edge).sum(1), want, rtol=1e-12)
    g = jax.jit(jax.grad(lambda p: model.apply({**masked, "params": p}, x).sum()))(masked["params"])
    assert np.all(np.asarray(g["layer_0"]["coef"])[0, :, 1] == 0)  # a masked edge learns nothing
    assert np.all(np.asarray(g["layer_0"]["scale_base"])[2, 0] == 0)
    bad = kan_ops.with_edge_mask(v, [np.ones((2, 3))])
    with pytest.raises(ValueError, match=r"mask.*\[in, out\] = \[3, 2\]"):
        jax.jit(model.apply)(bad, x)


def kill(v, layer, inputs=None, outputs=None, edge=None):
    """Zero the edges of ``layer`` from ``inputs``, into ``outputs``, or one ``edge``."""
    p = {k: dict(t) for k, t in v["params"].items()}
    lv = p[f"layer_{layer}"]
    for name in ("coef", "scale_base", "scale_sp"):
        a = np.array(lv[name])
        if inputs is not None:
            a[inputs] = 0
        if outputs is not None:
            a[..., outputs] = 0
        if edge is not None:
            a[edge[0], ..., edge[1]] = 0
        lv[name] = jnp.asarray(a)
    return {**v, "params": p}


def np_keep(scores_in, scores_out, th):
    keep = [j for j in range(len(scores_in)) if scores_in[j] > th and scores_out[j] > th]
    return keep or [int(np.argmax(np.minimum(scores_in, scores_out)))]


def test_prune_keeps_nodes_live_on_both_sides_only(x64):
    model, v = small_kan((2, 5, 1))
    v = kill(v, 0, outputs=[1])  # node 1: dead incoming, live outgoing
    v = kill(v, 1, inputs=[3])  # node 3: live incoming, dead outgoing
    x = np.random.default_rng(5).uniform(-1, 1, (200, 2))
    stats = kan_ops.layer_edges(model, v, x)
    s0, s1 = (np.abs(e).mean(0) for _, e in stats)
    keep = np_keep(s0.max(0), s1.max(1), 1e-3)
    assert keep == [0, 2, 4]  # OR in place of AND would keep 1 and 3 as well
    pruned, pv = kan_ops.prune(model, v, x, node_threshold=1e-3, edge_threshold=None)
    assert pruned.widths == (2, 3, 1)
    # the function loses exactly the removed nodes' outgoing edges
    want = np.asarray(jax.jit(model.apply)(v, x))[:, 0] - stats[1][1][:, [1, 3], 0].sum(1)
    np.testing.assert_allclose(np.asarray(jax.jit(pruned.apply)(pv, x))[:, 0], want, rtol=1e-10)


def test_edge_pruning_masks_weak_edges(x64):
    model, v = small_kan((2, 3, 1))
    x = np.random.default_rng(6).uniform(-1, 1, (100, 2))
    v = kill(v, 0, edge=(1, 0))  # edge (1 -> 0) of layer 0 is zero
    pruned, pv = kan_ops.prune(model, v, x, node_threshold=0.0, edge_threshold=1e-3)
    assert pruned.widths == model.widths
    masks = [np.asarray(pv["mask"][f"layer_{l}"]["edges"]) for l in range(2)]
    scores = [np.abs(e).mean(0) for _, e in kan_ops.layer_edges(model, v, x)]
    for m, s in zip(masks, scores, strict=True):
        np.testing.assert_array_equal(m, (s > 1e-3).astype(float))
    assert masks[0][1, 0] == 0


def naive_attribution(edge_std, out_std):
    n_out = out_std[-1].shape[0]
    node_q = [[1.0 if k == j else 0.0 for j in range(n_out)] for k in range(n_out)]
    all_nodes, all_edges = [np.mean(node_q, 0)], []
    for l in reversed(range(len(edge_std))):
        n_in, n_o = edge_std[l].shape
        e = np.zeros((n_out, n_in, n_o))
        for k in range(n_out):
            for i in range(n_in):
                for j in range(n_o):
                    e[k, i, j] = edge_std[l][i, j] * node_q[k][j] / (out_std[l][j] + 1e-4)
        node_q = [[e[k, i].sum() for i in range(n_in)] for k in range(n_out)]
        all_edges.insert(0, e.mean(0))
        all_nodes.insert(0, np.mean(node_q, 0))
    return all_nodes, all_edges


def test_attribution_matches_a_naive_loop():
    rng = np.random.default_rng(7)
    edge_std = [rng.exponential(size=(3, 4)), rng.exponential(size=(4, 2))]
    out_std = [rng.exponential(size=4), rng.exponential(size=2)]
    nodes, edges = kan_ops.attribution_scores(edge_std, out_std)
    want_nodes, want_edges = naive_attribution(edge_std, out_std)
    for a, b in zip(nodes + edges, want_nodes + want_edges, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_prune_by_attribution_and_prune_inputs(x64):
    model, v = small_kan((3, 4, 1))
    v = kill(v, 0, inputs=[1])  # input 1 feeds nothing
    v = kill(v, 1, inputs=[2])  # hidden node 2 reaches nothing
    x = np.random.default_rng(8).uniform(-1, 1, (200, 3))
    pruned, pv = kan_ops.prune(model, v, x, method="attribution", edge_threshold=None)
    assert pruned.widths == (3, 3, 1)
    np.testing.assert_allclose(jax.jit(pruned.apply)(pv, x), jax.jit(model.apply)(v, x), rtol=1e-10)
    smaller, sv, kept = kan_ops.prune_inputs(pruned, pv, x)
    assert kept.tolist() == [0, 2] and smaller.widths == (2, 3, 1)
    np.testing.assert_allclose(
        jax.jit(smaller.apply)(sv, x[:, kept]), jax.jit(model.apply)(v, x), rtol=1e-10
    )
    with pytest.raises(ValueError, match="method"):
        kan_ops.prune(model, v, x, method="weights")
