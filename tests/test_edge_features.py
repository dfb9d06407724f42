"""The layers' fast feature path (one derivative rule for every basis) against plain autodiff.

References: each basis's own ``evaluate`` differentiated by JAX without the
custom rule, a KAN layer written as the per-edge sum it defines, and central
finite differences for second derivatives. All in float64.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kanflow as kf

G, K, R = 5, 3, (-1.0, 1.0)


def adaptive_knots(n_in, seed):
    """Non-uniform per-input knots, as a grid update leaves them."""
    x = np.random.default_rng(seed).normal(0.0, 0.5, (64, n_in))
    return kf.grid.knots_from_samples(jnp.asarray(x), G, K, 0.02, R)


def grid_for(spec, n_in, uniform=True):
    if not spec.has_grid:
        return None
    return spec.init_grid(n_in, G, K, R) if uniform else adaptive_knots(n_in, 7)


def reference(spec, x, grid, base):
    """``[..., n (+1), in]`` straight from ``evaluate``, differentiated by plain autodiff."""
    value = jnp.swapaxes(spec.evaluate(x, grid, G, K, R), -1, -2)
    if base is None:
        return value
    return jnp.concatenate([value, base(x)[..., None, :]], axis=-2)


CASES = [(name, True) for name in kf.basis.names()]
CASES += [(name, False) for name in kf.basis.names() if kf.basis.get(name).has_grid]


@pytest.mark.parametrize("name,uniform", CASES)
def test_edge_features_values_and_derivatives_match_plain_autodiff(x64, name, uniform):
    spec = kf.basis.get(name)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(-1.2, 1.2, (6, 3)))  # some points beyond the grid
    grid = grid_for(spec, 3, uniform)
    w = jnp.asarray(rng.normal(size=(spec.num_basis(G, K) + 1, 3)))  # a random readout

    def fast(x):
        return kf.basis.edge_features(spec, x, grid, G, K, R, nn.silu)

    def plain(x):
        return reference(spec, x, grid, nn.silu)

    np.testing.assert_allclose(fast(x), plain(x), atol=1e-13)
    # first derivatives, forward and reverse, of every feature
    tangent = jnp.asarray(rng.normal(size=x.shape))
    np.testing.assert_allclose(
        jax.jvp(fast, (x,), (tangent,))[1], jax.jvp(plain, (x,), (tangent,))[1], atol=1e-10
    )
    scalar = lambda f: lambda x: jnp.sum(f(x) * w)
    np.testing.assert_allclose(jax.grad(scalar(fast))(x), jax.grad(scalar(plain))(x), atol=1e-10)
    # second derivative of a weighted feature sum in each x, against central differences
    per_point = lambda f: lambda x: jnp.sum(f(x) * w, axis=-2)  # [..., in]
    d1 = lambda x: jax.jvp(per_point(fast), (x,), (jnp.ones_like(x),))[1]
    d2 = jax.jvp(d1, (x,), (jnp.ones_like(x),))[1]
    h = 1e-5
    fd = (d1(x + h) - d1(x - h)) / (2 * h)
    # finite differences are off next to a kink (spline knots, ReLU-KAN bump ends)
    far = np.min(np.abs(np.asarray(x)[..., None] - np.linspace(-3, 3, 241)), axis=-1) > 1e-3
    np.testing.assert_allclose(np.asarray(d2)[far], np.asarray(fd)[far], rtol=1e-5, atol=1e-5)


def test_edge_features_knot_gradient_falls_back_to_autodiff(x64):
    spec = kf.basis.get("bspline")
    x = jnp.asarray(np.random.default_rng(1).uniform(-0.9, 0.9, (5, 2)))
    knots = adaptive_knots(2, 3)
    f = lambda t: jnp.sum(kf.basis.edge_features(spec, x, t, G, K, R) ** 2)
    g = lambda t: jnp.sum(reference(spec, x, t, None) ** 2)
    np.testing.assert_allclose(jax.grad(f)(knots), jax.grad(g)(knots), atol=1e-10)


def per_edge_layer(params, knots, x, basis):
    """The KAN layer as the sum it defines, ``sum_i scale_base b + scale_sp sum_c coef B_c``."""
    spec = kf.basis.get(basis)
    feats = spec.evaluate(x, knots, G, K, R)  # [batch, in, n]
    spline = jnp.einsum("bic,ico,io->bo", feats, params["coef"], params["scale_sp"])
    return spline + nn.silu(x) @ params["scale_base"] + params["bias"]


@pytest.mark.parametrize(
    "basis,uniform", [("bspline", True), ("bspline", False), ("chebyshev", True), ("rbf", True)]
)
def test_kan_layer_gradients_and_second_derivatives_match_the_per_edge_sum(x64, basis, uniform):
    layer = kf.layers.KANLayer(3, basis=basis, use_bias=True, param_dtype=jnp.float64)
    rng = np.random.default_rng(2)
    x = jnp.asarray(rng.uniform(-0.95, 0.95, (8, 4)))
    variables = layer.init(jax.random.key(0), x)
    keys = iter(jax.random.split(jax.random.key(1), 8))
    params = jax.tree.map(
        lambda p: jax.random.normal(next(keys), p.shape, p.dtype), variables["params"]
    )
    knots = None
    if "grid" in variables:
        knots = variables["grid"]["knots"] if uniform else adaptive_knots(4, 5)
        variables = {**variables, "grid": {"knots": knots}}
    fast = lambda p, x: layer.apply({**variables, "params": p}, x)
    plain = lambda p, x: per_edge_layer(p, knots, x, basis)
    np.testing.assert_allclose(fast(params, x), plain(params, x), rtol=1e-12, atol=1e-12)

    loss = lambda f: lambda p, x: jnp.sum(jnp.sin(f(p, x)))
    g_fast = jax.grad(loss(fast), argnums=(0, 1))(params, x)
    g_plain = jax.grad(loss(plain), argnums=(0, 1))(params, x)
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-10), g_fast, g_plain)

    # d^2 y / dx_0^2 through the layer (what a PINN residual takes)
    def d1(x0):
        xs = x.at[:, 0].set(x0)
        return jax.jvp(lambda v: fast(params, x.at[:, 0].set(v)), (xs[:, 0],), (jnp.ones(8),))[1]

    x0 = x[:, 0]
    d2 = jax.jvp(d1, (x0,), (jnp.ones(8),))[1]
    h = 1e-5
    np.testing.assert_allclose(d2, (d1(x0 + h) - d1(x0 - h)) / (2 * h), rtol=1e-5, atol=1e-5)
