"""AF-KAN / ReLU-KAN: basis combinations, the layer against a naive reference, errors."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
from jax.test_util import check_grads

import kanflow as kf

NP_ACT = {
    "silu": lambda x: x * scipy.special.expit(x),
    "relu": lambda x: np.maximum(x, 0.0),
    "tanh": np.tanh,
}
NP_COMB = {
    "quad1": lambda a, b: (a * b) ** 2,
    "quad2": lambda a, b: a * b + a**2 + b**2,
    "sum": lambda a, b: a + b,
    "prod": lambda a, b: a * b,
    "sum_prod": lambda a, b: a + b + a * b,
    "cubic1": lambda a, b: (a + b) * (a**2 + b**2),
    "cubic2": lambda a, b: (a * b) ** 3,
}


@pytest.mark.parametrize("combination", sorted(NP_COMB))
@pytest.mark.parametrize("act", ["silu", "relu", "tanh"])
def test_af_kan_basis_matches_closed_form(x64, combination, act):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1.5, 1.5, (7, 3))
    s = np.sort(rng.uniform(-1, 1, 5))
    e = s + rng.uniform(0.2, 1.0, 5)
    got = kf.basis.af_kan(x, s, e, kf.activations.resolve(act), combination)
    f = NP_ACT[act]
    want = NP_COMB[combination](f(x[..., None] - s), f(e - x[..., None]))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12)


def _naive_attention_layer(params, x, act, comb, g, k):
    """Per-example loop over the documented formulas (numpy, float64)."""
    f = NP_ACT[act]
    p = jax.tree.map(np.asarray, params)
    out = []
    for xb in x:
        b = np.array(
            [
                [
                    NP_COMB[comb](f(xi - sc), f(ec - xi))
                    for sc, ec in zip(p["starts"], p["ends"], strict=True)
                ]
                for xi in xb
            ]
        )
        b = (b - b.min()) / (b.max() - b.min())
        z = b @ p["score"]
        t = max(float(p["temperature"]), 1.0)
        a = np.exp(z / t - np.max(z / t))
        a /= a.sum()
        h = a * b.sum(-1)
        h = (h - h.mean()) / np.sqrt(h.var() + 1e-6) * p["norm"]["scale"] + p["norm"]["bias"]
        out.append(f(h) @ p["kernel"])
    return np.stack(out)


@pytest.mark.parametrize("act,comb", [("silu", "quad1"), ("relu", "sum_prod"), ("tanh", "cubic1")])
def test_attention_layer_matches_naive_loop(x64, act, comb):
    layer = kf.layers.AFKANLayer(
        4, activation=act, combination=comb, grid_size=3, order=2, param_dtype=jnp.float64
    )
    x = np.random.default_rng(1).uniform(-0.3, 1.3, (5, 6))
    params = jax.jit(layer.init)(jax.random.key(0), x)["params"]
    # move the trained pieces off their initial values so the check is not degenerate
    keys = iter(jax.random.split(jax.random.key(1), 8))
    params = jax.tree.map(
        lambda v: v + 0.1 * jax.random.normal(next(keys), v.shape, v.dtype), params
    )
    params["temperature"] = jnp.asarray(0.5)  # below 1: the clamp must act
    got = jax.jit(layer.apply)({"params": params}, x)
    np.testing.assert_allclose(
        np.asarray(got), _naive_attention_layer(params, x, act, comb, 3, 2), rtol=1e-9, atol=1e-10
    )


def test_attention_layer_parameter_count_and_initial_grid():
    layer = kf.layers.AFKANLayer(64, grid_size=3, order=3)
    params = jax.jit(layer.init)(jax.random.key(0), jnp.zeros((1, 784)))["params"]
    n = 3 + 3
    assert kf.count_params(params) == 2 * n + n + 1 + 2 * 784 + 784 * 64
    np.testing.assert_allclose(params["starts"], np.arange(-3, 3) / 3, atol=1e-7)
    np.testing.assert_allclose(params["ends"], np.arange(-3, 3) / 3 + 4 / 3, atol=1e-6)
    assert float(params["temperature"]) == pytest.approx(math.sqrt(784))
    model = kf.models.af_kan((784, 64, 10), grid_size=3, order=3)
    total = kf.count_params(jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, 784))))
    assert total == (3 * n + 1 + 2 * 784 + 784 * 64) + (3 * n + 1 + 2 * 64 + 64 * 10)


def test_relu_kan_is_the_special_case(x64):
    layer = kf.layers.relu_kan_layer(3, grid_size=4, order=2, param_dtype=jnp.float64)
    x = np.random.default_rng(2).uniform(0, 1, (6, 5))
    variables = jax.jit(layer.init)(jax.random.key(0), x)
    assert set(variables["params"]) == {"kernel", "bias"}  # fixed grid
    s, e = kf.basis.relu_kan_grid(4, 2, (0.0, 1.0))
    b = kf.basis.relu_kan(x, s, e)  # the registry basis, [6, 5, 6]
    want = b.reshape(6, -1) @ variables["params"]["kernel"] + variables["params"]["bias"]
    np.testing.assert_allclose(jax.jit(layer.apply)(variables, x), want, rtol=1e-12)
    assert float(jnp.max(b)) <= 1.0 + 1e-12  # ReLU-KAN's normalisation: peak 1


def test_sample_norm_is_per_example_and_batch_norm_is_not():
    x = jax.random.uniform(jax.random.key(0), (8, 5))
    for norm, independent in (("sample", True), ("batch", False)):
        layer = kf.layers.AFKANLayer(3, basis_norm=norm)
        v = jax.jit(layer.init)(jax.random.key(1), x)
        full = jax.jit(layer.apply)(v, x)[:2]
        alone = jax.jit(layer.apply)(v, x[:2])
        assert np.allclose(full, alone, atol=1e-6) == independent, norm


def test_gradients_match_finite_differences(x64):
    layer = kf.layers.AFKANLayer(2, grid_size=2, order=1, param_dtype=jnp.float64)
    x = np.random.default_rng(3).uniform(0.05, 0.95, (4, 3))
    params = jax.jit(layer.init)(jax.random.key(0), x)["params"]

    def loss(p, x):
        return jnp.sum(jnp.sin(layer.apply({"params": p}, x)))

    check_grads(loss, (params, x), order=1, modes=["rev"], atol=1e-5, rtol=1e-5)


def test_af_kan_trains_on_digits():
    data = kf.data.load_arrays(kf.data.image_source("digits", "train"))
    x, y = data["image"].reshape(len(data["label"]), -1), data["label"]
    model = kf.models.af_kan((64, 16, 10))
    params = jax.jit(model.init)(jax.random.key(0), x[:1])["params"]
    loss_fn = kf.train.supervised_loss(model, "cross_entropy")
    res = kf.train.fit(
        loss_fn,
        params,
        {"x": x, "y": y},
        optimizer=kf.train.make_optimizer("adamw", 1e-2),
        steps=150,
        batch_size=128,
        quiet=True,
    )
    assert res.history["loss"][-1] < 0.5 * res.history["loss"][0]
    assert res.history["accuracy"][-1] > 0.8


def test_errors():
    with pytest.raises(ValueError, match="unknown combination 'quad3'"):
        kf.layers.AFKANLayer(2, combination="quad3")
    with pytest.raises(ValueError, match="unknown activation 'swishy'"):
        kf.layers.AFKANLayer(2, activation="swishy")
    with pytest.raises(ValueError, match="grid_size must be an int >= 1"):
        kf.layers.AFKANLayer(2, grid_size=0)
    with pytest.raises(ValueError, match="basis_norm must be one of"):
        kf.layers.AFKANLayer(2, basis_norm="l2")
    with pytest.raises(ValueError, match="reduction must be one of"):
        kf.layers.AFKANLayer(2, reduction="conv")
    with pytest.raises(ValueError, match="widths"):
        kf.models.af_kan((4,))
