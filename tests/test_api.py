"""Public API that no other test exercises, each against an independent reference."""

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import kanflow as kf
from kanflow.basis import registry


def test_register_a_custom_basis_and_overwrite_it(x64):
    def monomials(x, grid, g, k, r):  # x^0 .. x^k
        return x[..., None] ** jnp.arange(k + 1, dtype=x.dtype)

    spec = registry.BasisSpec("test_monomials", lambda g, k: k + 1, monomials, description="x^j")
    try:
        registry.register(spec)
        assert "test_monomials" in kf.basis.names()
        with pytest.raises(ValueError, match="already registered"):
            registry.register(spec)
        layer = kf.layers.KANLayer(2, basis="test_monomials", order=2, base_activation=None)
        x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (5, 3)))
        v = layer.init(jax.random.key(0), x)
        p = v["params"]
        # y_j = sum_i scale_sp_ij sum_c coef_icj x_i^c
        want = np.einsum(
            "nic,ico->no",
            np.asarray(x)[..., None] ** np.arange(3),
            p["coef"] * p["scale_sp"][:, None],
        )
        np.testing.assert_allclose(layer.apply(v, x), want, rtol=1e-12)
        doubled = registry.BasisSpec(
            "test_monomials", lambda g, k: k + 1, lambda *a: 2 * monomials(*a)
        )
        registry.register(doubled, overwrite=True)
        np.testing.assert_allclose(layer.apply(v, x), 2 * want, rtol=1e-12)
    finally:
        registry._REGISTRY.pop("test_monomials", None)


def test_kan_layer_bias_is_added_once_per_output_and_split_over_edges(x64):
    layer = kf.layers.KANLayer(3, basis="rbf", use_bias=True, param_dtype=jnp.float64)
    no_bias = kf.layers.KANLayer(3, basis="rbf", param_dtype=jnp.float64)
    x = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (4, 2)))
    v = layer.init(jax.random.key(0), x)
    v = {"params": {**v["params"], "bias": jnp.array([0.5, -1.0, 2.0])}}
    plain = {"params": {k: a for k, a in v["params"].items() if k != "bias"}}
    np.testing.assert_allclose(
        layer.apply(v, x), no_bias.apply(plain, x) + np.array([0.5, -1.0, 2.0]), rtol=1e-12
    )
    np.testing.assert_allclose(layer.apply(v, x, per_edge=True).sum(1), layer.apply(v, x))


def test_refit_coefficients_with_ridge_solves_the_regularised_normal_equations(x64):
    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.uniform(-1, 1, (30, 2)))
    knots = jnp.tile(kf.basis.uniform_knots(3, 3), (2, 1))
    new_knots = jnp.tile(kf.basis.uniform_knots(6, 3), (2, 1))
    coef = jnp.asarray(rng.normal(size=(2, 6, 4)))
    got = kf.grid.refit_coefficients(x, knots, coef, new_knots, 3, ridge=0.1)
    for i in range(2):  # per input: (A^T A + ridge I) c = A^T y
        a = np.asarray(kf.basis.bspline(x[:, i], new_knots[i], 3))
        y = np.asarray(kf.basis.bspline(x[:, i], knots[i], 3)) @ np.asarray(coef[i])
        want = np.linalg.solve(a.T @ a + 0.1 * np.eye(a.shape[1]), a.T @ y)
        np.testing.assert_allclose(got[i], want, rtol=1e-9, atol=1e-12)


def test_vit_resize_inputs_equals_resizing_first():
    model = kf.models.ViT(10, image_size=8, patch_size=4, width=8, depth=1, num_heads=2)
    resizing = model.clone(resize_inputs=True)
    small = jax.random.uniform(jax.random.key(0), (2, 4, 4, 1))
    v = model.init(jax.random.key(1), jnp.zeros((1, 8, 8, 1)))
    big = jax.image.resize(small, (2, 8, 8, 1), "bilinear")
    np.testing.assert_allclose(resizing.apply(v, small), model.apply(v, big), rtol=1e-6)
    with pytest.raises(ValueError, match="ViT expects images"):
        model.apply(v, small)


def test_array_batches_cover_each_epoch_once_and_repeat_by_seed():
    data = {"x": np.arange(10), "y": np.arange(10) * 2}
    fn = kf.train.array_batches(data, 3, seed=1)
    epoch = np.concatenate([fn(s)["x"] for s in range(3)])  # 3 batches, the tail of 1 dropped
    assert len(set(epoch.tolist())) == 9
    assert all(np.array_equal(fn(s)["y"], 2 * fn(s)["x"]) for s in range(6))
    assert np.array_equal(fn(4)["x"], kf.train.array_batches(data, 3, seed=1)(4)["x"])
    assert not np.array_equal(fn(0)["x"], kf.train.array_batches(data, 3, seed=2)(0)["x"])
    np.testing.assert_array_equal(kf.train.array_batches(data, None)(7)["x"], data["x"])
    np.testing.assert_array_equal(kf.train.array_batches(data, 50)(3)["x"], data["x"])
    with pytest.raises(ValueError, match="same leading size"):
        kf.train.array_batches({"x": np.zeros(3), "y": np.zeros(4)}, 2)


def test_create_state_and_replicate():
    params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
    tx = optax.adam(1e-2)
    state = kf.train.create_state(params, tx, {"grid": {"k": jnp.arange(3.0)}}, seed=3)
    assert int(state.step) == 0 and state.model_state["grid"]["k"].shape == (3,)
    np.testing.assert_array_equal(state.params["w"], params["w"])
    assert state.params["w"] is not params["w"]  # fresh buffers: the step may donate them
    assert jax.tree.structure(state.opt_state) == jax.tree.structure(tx.init(params))
    mesh = kf.train.data_mesh()
    rep = kf.train.replicate(state, mesh)
    assert rep.params["w"].sharding.is_fully_replicated
    assert len(rep.params["w"].sharding.device_set) == jax.device_count()
    np.testing.assert_array_equal(rep.params["w"], params["w"])


def test_reference_wavefunction_on_a_smooth_potential_is_an_eigenvector():
    # harmonic well: -psi'' + V psi = E psi checked by finite differences of the returned psi
    pot = kf.pinn.Potential(lambda x: 1e4 * (x - 0.5) ** 2, name="harmonic")
    x = np.linspace(0, 1, 2001)
    e = kf.pinn.reference_energies(pot, 2)
    for n in range(2):
        psi = kf.pinn.reference_wavefunction(pot, n, x)
        assert abs(np.trapezoid(psi**2, x) - 1) < 1e-6  # normalised
        h = x[1] - x[0]
        d2 = (psi[2:] - 2 * psi[1:-1] + psi[:-2]) / h**2
        residual = -d2 + (np.asarray(pot(x[1:-1])) - e[n]) * psi[1:-1]
        assert np.max(np.abs(residual)) < 1e-2 * e[n], n
    # harmonic-oscillator levels E_n = (2n + 1) sqrt(1e4): the walls are 5 widths away
    np.testing.assert_allclose(e, [100.0, 300.0], rtol=1e-3)


def test_activations_build_names_functions_and_classes():
    x = jnp.linspace(-2, 2, 9)

    class Net(nn.Module):
        act: object

        @nn.compact
        def __call__(self, x):
            return kf.activations.apply(kf.activations.build(self.act, name="a"), x, False)

    for act, want in [("relu", jax.nn.relu(x)), (jnp.tanh, jnp.tanh(x))]:
        net = Net(act)
        np.testing.assert_allclose(net.apply(net.init(jax.random.key(0), x), x), want)
    crrelu = Net(kf.activations.CRReLU)
    v = crrelu.init(jax.random.key(0), x)
    assert "eps" in v["params"]["a"]
    series = Net(functools.partial(kf.activations.SeriesActivation, n=3))
    assert series.init(jax.random.key(0), x)["params"]["a"]
    with pytest.raises(ValueError, match="as its class or a functools.partial"):
        Net(kf.activations.CRReLU()).init(jax.random.key(0), x)
