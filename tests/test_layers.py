"""KANLayer, KAN, MLP: against naive per-edge loops, shapes, errors, NNX bridge."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.interpolate
from flax import nnx

import kanflow as kf


def silu(x):
    return x / (1 + np.exp(-x))


def naive_bspline_layer(x, params, knots, order):
    """y_j = sum_i scale_base_ij silu(x_i) + scale_sp_ij * spline_ij(x_i), one edge at a time."""
    coef, sb, ssp = (np.asarray(params[k]) for k in ("coef", "scale_base", "scale_sp"))
    n_in, _, n_out = coef.shape
    y = np.zeros((x.shape[0], n_out))
    for i in range(n_in):
        for j in range(n_out):
            spline = scipy.interpolate.BSpline(
                np.asarray(knots[i]), coef[i, :, j], order, extrapolate=False
            )
            y[:, j] += sb[i, j] * silu(x[:, i]) + ssp[i, j] * np.nan_to_num(spline(x[:, i]))
    return y


@pytest.mark.parametrize("grid_size,order", [(5, 3), (3, 1), (8, 2)])
def test_kan_layer_matches_naive_loop(x64, grid_size, order):
    layer = kf.layers.KANLayer(4, grid_size=grid_size, order=order, param_dtype=jnp.float64)
    x = np.random.default_rng(0).uniform(-0.99, 0.99, (16, 3))
    variables = layer.init(jax.random.key(1), jnp.asarray(x))
    # give every parameter a random value so nothing hides behind its initialiser
    keys = iter(jax.random.split(jax.random.key(2), 8))
    params = jax.tree.map(
        lambda p: jax.random.normal(next(keys), p.shape, p.dtype), variables["params"]
    )
    y = layer.apply({"params": params, "grid": variables["grid"]}, jnp.asarray(x))
    ref = naive_bspline_layer(x, params, variables["grid"]["knots"], order)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("basis", ["chebyshev", "fourier", "rbf", "relu_kan", "morlet", "gram"])
def test_kan_layer_other_bases_match_naive_loop(x64, basis):
    layer = kf.layers.KANLayer(2, basis=basis, grid_size=4, order=3, param_dtype=jnp.float64)
    x = jnp.asarray(np.random.default_rng(3).uniform(-1, 1, (5, 3)))
    variables = layer.init(jax.random.key(0), x)
    p = variables["params"]
    spec = kf.basis.get(basis)
    y = np.asarray(layer.apply(variables, x))
    ref = np.zeros_like(y)
    for b in range(5):
        for i in range(3):
            feats = np.asarray(spec.evaluate(x[b, i], None, 4, 3, (-1.0, 1.0)))  # [n]
            for j in range(2):
                phi = p["scale_base"][i, j] * silu(np.asarray(x[b, i]))
                phi += p["scale_sp"][i, j] * feats @ np.asarray(p["coef"][i, :, j])
                ref[b, j] += phi
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)


def test_kan_param_count_matches_pykan_formula():
    # pykan [2, 5, 1], G = 5, k = 3: per edge G + k coefficients + scale_base + scale_sp
    model = kf.models.KAN((2, 5, 1), grid_size=5, order=3)
    variables = model.init(jax.random.key(0), jnp.zeros((1, 2)))
    assert kf.count_params(variables["params"]) == (2 * 5 + 5 * 1) * (5 + 3 + 2)
    assert variables["grid"]["layer_0"]["knots"].shape == (2, 5 + 2 * 3 + 1)


def test_kan_leading_axes_and_jit():
    model = kf.models.KAN((3, 4, 2), basis="chebyshev")
    x = jnp.ones((2, 5, 3))
    variables = model.init(jax.random.key(0), x)
    y = jax.jit(model.apply)(variables, x)
    assert y.shape == (2, 5, 2)
    np.testing.assert_allclose(y[0, 0], model.apply(variables, x[0, 0]), rtol=1e-6)


def test_mlp_and_width_for_params():
    model = kf.models.MLP((2, 7, 7, 1))
    variables = model.init(jax.random.key(0), jnp.zeros((1, 2)))
    assert kf.count_params(variables) == (2 * 7 + 7) + (7 * 7 + 7) + (7 + 1)
    assert kf.models.MLP.width_for_params(2, 1, 2, 85) == 7
    # the parameter count grows with the width, so the closest width beats both neighbours
    # (the search stopped at width 4095: 3.3e6 parameters when 1e7 were asked for)
    rng = np.random.default_rng(0)
    for _ in range(200):
        n_in, n_out, depth = (int(v) for v in rng.integers(1, (900, 20, 4)))
        target = int(rng.integers(1, 10**7))
        w = kf.models.MLP.width_for_params(n_in, n_out, depth, target)
        gap = lambda v, n_in=n_in, n_out=n_out, d=depth, t=target: abs(
            (n_in + 1) * v + (d - 1) * (v + 1) * v + (v + 1) * n_out - t
        )
        assert gap(w) <= gap(w + 1) and (w == 1 or gap(w) < gap(w - 1))
    for bad in (dict(depth=0), dict(target=0)):
        with pytest.raises(ValueError, match="must be an int >= 1"):
            kf.models.MLP.width_for_params(
                **{"n_in": 2, "n_out": 1, "depth": 2, "target": 85, **bad}
            )


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="known bases"):
        kf.layers.KANLayer(3, basis="nope")
    with pytest.raises(ValueError, match="grid_size"):
        kf.layers.KANLayer(3, grid_size=0)
    with pytest.raises(ValueError, match="order"):
        kf.models.KAN((2, 1), order=-1)
    with pytest.raises(ValueError, match="grid_range"):
        kf.layers.KANLayer(3, grid_range=(1.0, -1.0))
    with pytest.raises(ValueError, match="widths"):
        kf.models.KAN((2,))
    model = kf.models.KAN((2, 3, 1))
    variables = model.init(jax.random.key(0), jnp.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"KAN expects inputs \[\.\.\., 2\]"):
        model.apply(variables, jnp.zeros((4, 3)))
    layer = kf.layers.KANLayer(3)
    lv = layer.init(jax.random.key(0), jnp.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"expects inputs \[\.\.\., 2\]"):
        layer.apply(lv, jnp.zeros((4, 5)))
    with pytest.raises(ValueError, match="'grid' collection"):
        layer.apply({"params": lv["params"]}, jnp.zeros((4, 2)))


def test_nnx_bridge_runs_and_trains():
    linen_model = kf.models.KAN((2, 4, 1))
    model = nnx.bridge.ToNNX(linen_model, rngs=nnx.Rngs(0))
    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (32, 2)))
    target = jnp.sin(x[:, :1] * 3)
    nnx.bridge.lazy_init(model, x)
    state = nnx.state(model)
    variables = {
        "params": {
            l: {k: state[l][k].value for k in ("coef", "scale_base", "scale_sp")}
            for l in ("layer_0", "layer_1")
        },
        "grid": {l: {"knots": state[l]["knots"].value} for l in ("layer_0", "layer_1")},
    }
    np.testing.assert_allclose(model(x), linen_model.apply(variables, x), rtol=1e-6)

    optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)  # knots are not Params

    @nnx.jit
    def step(model, optimizer):
        loss, grads = nnx.value_and_grad(lambda m: jnp.mean((m(x) - target) ** 2))(model)
        optimizer.update(model, grads)
        return loss

    losses = [float(step(model, optimizer)) for _ in range(30)]
    assert losses[-1] < 0.5 * losses[0]
    np.testing.assert_array_equal(
        nnx.state(model)["layer_0"]["knots"].value, variables["grid"]["layer_0"]["knots"]
    )


def test_flax_linen_composition():
    """KANLayer drops into an ordinary linen model."""

    class Net(nn.Module):
        @nn.compact
        def __call__(self, x):
            return kf.layers.KANLayer(2, basis="rbf")(nn.Dense(3)(x))

    variables = Net().init(jax.random.key(0), jnp.zeros((1, 5)))
    assert Net().apply(variables, jnp.ones((4, 5))).shape == (4, 2)


def test_kan_layer_inside_a_users_linen_model_and_its_grid_update(x64):
    # the README's example: a KANLayer where a Dense would stand, knots moved by kf.grid.update
    class Head(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.Dense(6, param_dtype=jnp.float64)(x)
            x = nn.LayerNorm(param_dtype=jnp.float64)(x)
            return kf.layers.KANLayer(3, grid_size=5, param_dtype=jnp.float64)(x)

    model = Head()
    x = jnp.asarray(np.random.default_rng(0).normal(size=(64, 4)))
    v = model.init(jax.random.key(0), x)
    assert set(v) == {"params", "grid"} and v["grid"]["KANLayer_0"]["knots"].shape == (6, 12)
    same, moved = kf.grid.update(model, v, x)
    assert same is model
    knots = moved["grid"]["KANLayer_0"]["knots"]
    hidden = nn.LayerNorm(param_dtype=jnp.float64).apply(
        {"params": v["params"]["LayerNorm_0"]},
        nn.Dense(6, param_dtype=jnp.float64).apply({"params": v["params"]["Dense_0"]}, x),
    )
    np.testing.assert_allclose(knots[:, 3], hidden.min(0), rtol=1e-10)  # onto the layer's inputs
    y, y_moved = model.apply(v, x), model.apply(moved, x)
    assert float(jnp.sqrt(jnp.mean((y - y_moved) ** 2)) / jnp.std(y)) < 0.05
