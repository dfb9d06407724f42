"""Learnable activations against their closed forms; Dice/EvoNorm train vs inference."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special

import kanflow as kf

sig = scipy.special.expit


def _init(module, x, **kw):
    return jax.jit(functools.partial(module.init, **kw))(jax.random.key(0), x)


def _perturb(params, scale=0.3, seed=1):
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.key(seed), len(leaves))
    return jax.tree.unflatten(
        tree,
        [
            v + scale * jax.random.normal(k, v.shape, v.dtype)
            for v, k in zip(leaves, keys, strict=True)
        ],
    )


def test_crrelu_closed_form(x64):
    x = np.random.default_rng(0).normal(size=(6, 5)) * 2
    m = kf.activations.CRReLU()
    params = _perturb(_init(m, x)["params"])
    eps = float(params["eps"])
    got = jax.jit(m.apply)({"params": params}, x)
    np.testing.assert_allclose(got, np.maximum(x, 0) + eps * x * np.exp(-(x**2) / 2), rtol=1e-12)
    assert float(_init(m, x)["params"]["eps"]) == pytest.approx(0.01)


@pytest.mark.parametrize("per_feature", [False, True])
def test_series_activation_closed_form(x64, per_feature):
    x = np.random.default_rng(1).normal(size=(4, 3))
    m = kf.activations.SeriesActivation(n=4, activation="silu", per_feature=per_feature)
    p0 = _init(m, x)["params"]
    np.testing.assert_allclose(np.asarray(p0["b"]).reshape(4, -1)[:, 0], np.linspace(-1, 1, 4))
    params = _perturb(p0)
    a, b = np.asarray(params["a"]), np.asarray(params["b"])
    if not per_feature:
        a, b = a[:, None], b[:, None]
    want = sum(a[i] * (x + b[i]) * sig(x + b[i]) for i in range(4))
    np.testing.assert_allclose(jax.jit(m.apply)({"params": params}, x), want, rtol=1e-12)


def test_dice_train_uses_batch_stats_and_inference_running_averages(x64):
    rng = np.random.default_rng(2)
    x = rng.normal(2.0, 3.0, size=(64, 5))
    m = kf.activations.Dice(momentum=0.9)
    v = _init(m, x, train=True)
    params = _perturb(v["params"])
    alpha = np.asarray(params["alpha"])
    y, upd = jax.jit(functools.partial(m.apply, train=True, mutable=["batch_stats"]))(
        {"params": params, "batch_stats": v["batch_stats"]}, x
    )
    mean, var = x.mean(0), x.var(0)
    p = sig((x - mean) / np.sqrt(var + 1e-8))
    np.testing.assert_allclose(y, p * x + (1 - p) * alpha * x, rtol=1e-10)
    np.testing.assert_allclose(upd["batch_stats"]["mean"], 0.1 * mean, rtol=1e-10)
    np.testing.assert_allclose(upd["batch_stats"]["var"], 0.9 + 0.1 * var, rtol=1e-10)
    # inference: the running averages, not the batch
    stats = {"mean": np.full(5, 0.5), "var": np.full(5, 4.0)}
    y_inf = jax.jit(functools.partial(m.apply, train=False))(
        {"params": params, "batch_stats": stats}, x
    )
    p = sig((x - 0.5) / np.sqrt(4.0 + 1e-8))
    np.testing.assert_allclose(y_inf, p * x + (1 - p) * alpha * x, rtol=1e-10)
    with pytest.raises(ValueError, match="mutable=\\['batch_stats'\\]"):
        m.apply({"params": params, "batch_stats": stats}, x, train=True)
    with pytest.raises(ValueError, match=r"rank >= 2\), got shape \(5,\)"):  # variance 0
        m.apply({"params": params, "batch_stats": stats}, x[0], train=False)
    with pytest.raises(ValueError, match="needs train=True"):
        m.apply({"params": params, "batch_stats": stats}, x)


@pytest.mark.parametrize("shape", [(16, 6), (4, 5, 6), (3, 4, 4, 6)])
def test_evonorm_b0_closed_form_train_and_inference(x64, shape):
    x = np.random.default_rng(3).normal(1.0, 2.0, size=shape)
    m = kf.activations.EvoNormB0(momentum=0.5)
    v = _init(m, x, train=True)
    params = _perturb(v["params"])
    g, bt, vv = (np.asarray(params[k]) for k in ("gamma", "beta", "v"))
    y, upd = jax.jit(functools.partial(m.apply, train=True, mutable=["batch_stats"]))(
        {"params": params, "batch_stats": v["batch_stats"]}, x
    )
    var_b = x.reshape(-1, 6).var(0)
    middle = tuple(range(1, x.ndim - 1))
    var_i = x.var(axis=middle, keepdims=True) if middle else 0.0
    den = np.maximum(np.sqrt(var_b + 1e-5), vv * x + np.sqrt(var_i + 1e-5))
    np.testing.assert_allclose(y, x / den * g + bt, rtol=1e-10)
    np.testing.assert_allclose(upd["batch_stats"]["var"], 0.5 + 0.5 * var_b, rtol=1e-10)
    running = {"var": np.full(6, 2.5)}
    y_inf = jax.jit(functools.partial(m.apply, train=False))(
        {"params": params, "batch_stats": running}, x
    )
    den = np.maximum(np.sqrt(2.5 + 1e-5), vv * x + np.sqrt(var_i + 1e-5))
    np.testing.assert_allclose(y_inf, x / den * g + bt, rtol=1e-10)
    assert not np.allclose(y, y_inf)


@pytest.mark.parametrize("shape,groups", [((5, 8), 2), ((3, 4, 4, 6), 3), ((2, 7, 4), 1)])
def test_evonorm_s0_closed_form(x64, shape, groups):
    x = np.random.default_rng(4).normal(size=shape)
    m = kf.activations.EvoNormS0(groups=groups)
    params = _perturb(_init(m, x)["params"])
    g, bt, vv = (np.asarray(params[k]) for k in ("gamma", "beta", "v"))
    c = shape[-1]
    # per sample and group: variance over the middle axes and the group's channels
    want = np.empty_like(x)
    for i in range(shape[0]):
        for j in range(groups):
            sl = (i, ..., slice(j * c // groups, (j + 1) * c // groups))
            xs = x[sl]
            want[sl] = xs * sig(vv[sl[2]] * xs) / np.sqrt(xs.var() + 1e-5)
    want = want * g + bt
    np.testing.assert_allclose(jax.jit(m.apply)({"params": params}, x), want, rtol=1e-10)
    with pytest.raises(ValueError, match="dividing the channel count"):
        _init(kf.activations.EvoNormS0(groups=5), x)


def test_topk_keeps_the_k_largest_per_row():
    x = jax.random.normal(jax.random.key(0), (7, 10))
    y = np.asarray(jax.jit(kf.activations.TopK(3).apply)({}, x))
    xs = np.asarray(x)
    for row, out in zip(xs, y, strict=True):
        keep = np.argsort(row)[-3:]
        np.testing.assert_array_equal(out[keep], row[keep])
        assert np.count_nonzero(out) == 3
    with pytest.raises(ValueError, match="k must be an int in \\[1, 10\\]"):
        kf.activations.TopK(11).apply({}, x)


def test_activation_density_matches_a_direct_count():
    model = kf.models.MLP((6, 32, 32, 3), activation="relu")
    x = jax.random.normal(jax.random.key(0), (50, 6))
    v = jax.jit(model.init)(jax.random.key(1), x)
    dens = kf.activations.activation_density(model, v, [x[:20], x[20:]])
    assert list(dens) == ["act_0", "act_1"]
    p = v["params"]
    h0 = np.maximum(x @ p["dense_0"]["kernel"] + p["dense_0"]["bias"], 0)
    h1 = np.maximum(h0 @ p["dense_1"]["kernel"] + p["dense_1"]["bias"], 0)
    assert dens["act_0"] == pytest.approx(np.count_nonzero(h0) / h0.size)
    assert dens["act_1"] == pytest.approx(np.count_nonzero(h1) / h1.size)
    topk = kf.models.MLP((6, 32, 3), activation=functools.partial(kf.activations.TopK, k=4))
    v = jax.jit(topk.init)(jax.random.key(1), x)
    assert kf.activations.activation_density(topk, v, [x])["act_0"] == pytest.approx(4 / 32)


def test_activation_density_counts_every_call_and_only_activations():
    import flax.linen as nn

    class Twice(nn.Module):  # one activation module called on two inputs
        @nn.compact
        def __call__(self, x):
            act = kf.activations.Activation(jax.nn.relu, name="act")
            return act(x) + act(jnp.abs(x) + 1.0)

    x = jax.random.normal(jax.random.key(0), (100, 4))
    dens = kf.activations.activation_density(Twice(), {}, [x])
    assert dens == {"act": pytest.approx((np.count_nonzero(x > 0) + x.size) / (2 * x.size))}
    # a ViT's sown attention weights are not an activation's outputs
    vit = kf.models.ViT(3, image_size=8, patch_size=4, width=8, depth=2, num_heads=2, mlp_ratio=2)
    img = jax.random.normal(jax.random.key(1), (2, 8, 8, 1))
    v = jax.jit(vit.init)(jax.random.key(2), img)
    keys = list(kf.activations.activation_density(vit, v, [img]))
    assert keys and not [k for k in keys if "attn" in k], keys


@pytest.mark.parametrize(
    "activation",
    [
        "gelu",
        kf.activations.CRReLU,
        functools.partial(kf.activations.SeriesActivation, n=3),
        kf.activations.Dice,
        kf.activations.EvoNormB0,
        functools.partial(kf.activations.EvoNormS0, groups=4),
    ],
)
def test_every_activation_trains_inside_an_mlp(activation):
    data = kf.data.load_arrays(kf.data.image_source("digits", "train"))
    x, y = data["image"].reshape(len(data["label"]), -1), data["label"]
    model = kf.models.MLP((64, 32, 10), activation=activation)
    v = jax.jit(functools.partial(model.init, train=True))(jax.random.key(0), x[:8])
    params, state = v["params"], {k: w for k, w in v.items() if k != "params"}
    loss_fn = kf.train.supervised_loss(model, "cross_entropy", apply_kwargs={"train": True})
    res = kf.train.fit(
        loss_fn,
        params,
        {"x": x, "y": y},
        model_state=state,
        optimizer=kf.train.make_optimizer("adam", 3e-3),
        steps=100,
        batch_size=128,
        quiet=True,
    )
    assert res.history["accuracy"][-1] > 0.8
    if "batch_stats" in state:  # running statistics moved during training
        moved = jax.tree.map(
            lambda a, b: float(jnp.max(jnp.abs(a - b))),
            state["batch_stats"],
            res.state.model_state["batch_stats"],
        )
        assert max(jax.tree.leaves(moved)) > 1e-3


def test_the_layers_param_dtype_reaches_learnable_activations():
    x = jnp.ones((2, 3))
    for act, want in (
        (kf.activations.CRReLU, jnp.bfloat16),  # was float32 beside bfloat16 Dense kernels
        (functools.partial(kf.activations.CRReLU, param_dtype=jnp.float32), jnp.float32),
    ):
        model = kf.models.MLP((3, 4, 1), activation=act, param_dtype=jnp.bfloat16)
        params = model.init(jax.random.key(0), x)["params"]
        assert params["act_0"]["eps"].dtype == want
        assert params["dense_0"]["kernel"].dtype == jnp.bfloat16


def test_named_and_build_errors():
    with pytest.raises(ValueError, match="unknown activation 'rellu'"):
        kf.activations.resolve("rellu")
    with pytest.raises(ValueError, match="each layer needs its own instance"):
        jax.jit(kf.models.MLP((3, 4, 1), activation=kf.activations.CRReLU()).init)(
            jax.random.key(0), jnp.zeros((1, 3))
        )


def test_evonorm_b0_running_variance_over_steps(x64):
    # an asymmetric momentum over several steps: swapping m and 1 - m would show
    m = kf.activations.EvoNormB0(momentum=0.8)
    rng = np.random.default_rng(4)
    batches = [rng.normal(0.0, s, size=(32, 3)) for s in (1.0, 2.0, 0.5)]
    v = _init(m, batches[0], train=True)
    step = jax.jit(functools.partial(m.apply, train=True, mutable=["batch_stats"]))
    running = np.ones(3)
    stats = v["batch_stats"]
    for x in batches:
        _, upd = step({"params": v["params"], "batch_stats": stats}, x)
        stats = upd["batch_stats"]
        running = 0.8 * running + 0.2 * x.var(0)
    np.testing.assert_allclose(stats["var"], running, rtol=1e-12)
