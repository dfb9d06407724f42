"""Grid update and extension preserve the network function on the samples."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kanflow as kf


def random_kan(widths, seed=0, grid_size=5, scale=20.0):
    model = kf.models.KAN(widths, grid_size=grid_size, param_dtype=jnp.float64)
    x = jnp.asarray(np.random.default_rng(seed).uniform(-1, 1, (400, widths[0])))
    variables = model.init(jax.random.key(seed), x)
    # scale > 1: larger-than-init coefficients, so the splines are far from flat
    params = jax.tree.map(lambda p: p * scale, variables["params"])
    return model, {"params": params, "grid": variables["grid"]}, x


def test_knots_from_samples_quantiles_and_extension(x64):
    x = jnp.asarray(np.random.default_rng(0).normal(size=(1001, 2)))
    knots = kf.grid.knots_from_samples(x, 4, 3, grid_eps=0.0)
    assert knots.shape == (2, 4 + 2 * 3 + 1)
    # with grid_eps = 0 the interior grid points are the 0, 25, 50, 75, 100 % quantiles
    np.testing.assert_allclose(
        knots[:, 3:-3], np.quantile(np.asarray(x), [0, 0.25, 0.5, 0.75, 1], axis=0).T
    )
    steps = np.diff(np.asarray(knots), axis=1)
    h = (np.ptp(np.asarray(x), axis=0) / 4)[:, None]
    np.testing.assert_allclose(steps[:, :3], np.broadcast_to(h, (2, 3)))
    np.testing.assert_allclose(steps[:, -3:], np.broadcast_to(h, (2, 3)))
    kf.grid.check_knots(knots)


def test_knots_margin_widens_the_uniform_grid_as_jaxkan(x64):
    x = np.random.default_rng(1).normal(size=(500, 3))
    lo, hi, m, g, k = x.min(0), x.max(0), 0.2, 5, 3
    knots = lambda eps, margin=m: np.asarray(
        kf.grid.knots_from_samples(jnp.asarray(x), g, k, grid_eps=eps, margin=margin)
    )
    # all uniform: one uniform knot vector from lo - m - k h to hi + m + k h
    h = (hi - lo + 2 * m) / g
    want = (lo - m)[:, None] + h[:, None] * np.arange(-k, g + k + 1)
    np.testing.assert_allclose(knots(1.0), want, rtol=1e-12)
    # no uniform share: the margin changes nothing
    np.testing.assert_allclose(knots(0.0), knots(0.0, 0.0), rtol=1e-12)
    # in between: the grid mixes linearly, and the extension steps are its mean step
    mixed = knots(0.3)
    inner = slice(k, -k)
    np.testing.assert_allclose(
        mixed[:, inner], 0.3 * knots(1.0)[:, inner] + 0.7 * knots(0.0)[:, inner]
    )
    step = ((mixed[:, -k - 1] - mixed[:, k]) / g)[:, None]
    np.testing.assert_allclose(np.diff(mixed[:, : k + 1]), np.broadcast_to(step, (3, k)))
    np.testing.assert_allclose(np.diff(mixed[:, -k - 1 :]), np.broadcast_to(step, (3, k)))
    with pytest.raises(ValueError, match="margin must be >= 0"):
        knots(0.3, -0.1)


def test_extension_on_fixed_range_is_exact(x64):
    # refining a uniform grid by 2 nests the spline spaces: exact up to round-off
    model, variables, x = random_kan((3, 4, 2))
    y = model.apply(variables, x)
    new_model, new_vars = kf.grid.extend(model, variables, x, 10, grid_range=(-1.0, 1.0))
    assert new_model.grid_size == 10
    assert new_vars["params"]["layer_0"]["coef"].shape == (3, 13, 4)
    # the hidden layer's inputs leave [-1, 1]: only layer 0 nests exactly, so check it alone
    layer = kf.layers.KANLayer(4, grid_size=10, param_dtype=jnp.float64)
    old_layer = kf.layers.KANLayer(4, grid_size=5, param_dtype=jnp.float64)
    sub = lambda v: {c: v[c]["layer_0"] for c in ("params", "grid")}
    np.testing.assert_allclose(
        layer.apply(sub(new_vars), x), old_layer.apply(sub(variables), x), atol=1e-10
    )
    assert np.all(np.isfinite(new_model.apply(new_vars, x)))
    assert y.shape == (400, 2)


@pytest.mark.parametrize("grid_size,tol", [(None, 1e-2), (10, 2e-3), (20, 2e-4)])
def test_update_from_samples_preserves_function(x64, grid_size, tol):
    # at init scale the hidden activations stay inside the old grid, where the old
    # splines are smooth; a finer new grid then re-approximates them ever better
    model, variables, x = random_kan((2, 5, 1), scale=1.0)
    y = model.apply(variables, x)
    new_model, new_vars = kf.grid.update(model, variables, x, grid_size=grid_size)
    y_new = new_model.apply(new_vars, x)
    rel = float(jnp.sqrt(jnp.mean((y_new - y) ** 2)) / jnp.std(y))
    # the grid moves onto the samples' range, so the old spline is re-approximated, not nested
    assert rel < tol, rel
    knots = new_vars["grid"]["layer_0"]["knots"]
    np.testing.assert_allclose(knots[:, 3], x.min(0), rtol=1e-12)  # grid_eps mix keeps min/max
    np.testing.assert_allclose(knots[:, -4], x.max(0), rtol=1e-12)


def test_grid_errors():
    model = kf.models.KAN((2, 1), basis="chebyshev")
    variables = model.init(jax.random.key(0), jnp.zeros((1, 2)))
    with pytest.raises(ValueError, match="'grid' collection"):
        kf.grid.update(model, variables, jnp.zeros((4, 2)))
    with pytest.raises(ValueError, match="non-decreasing"):
        kf.grid.check_knots(jnp.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match="samples x"):
        kf.grid.knots_from_samples(jnp.zeros(5), 3, 3)
    model = kf.models.KAN((2, 1))
    variables = model.init(jax.random.key(0), jnp.zeros((1, 2)))
    with pytest.raises(ValueError, match="finite"):
        kf.grid.update(model, variables, jnp.full((4, 2), jnp.nan))
    x = np.random.default_rng(0).uniform(-1, 1, (16, 2))
    for bad in (np.nan, np.inf):  # one bad sample among good ones
        with pytest.raises(ValueError, match="samples x must be finite"):
            kf.grid.knots_from_samples(np.where(np.arange(16)[:, None] == 3, bad, x), 3, 3)
    for g, k, match in ((0, 3, "grid_size must be an int >= 1"), (3, -1, "order must be")):
        with pytest.raises(ValueError, match=match):
            kf.grid.knots_from_samples(x, g, k)
    for ridge in (-1.0, np.nan):  # not silently the plain least squares
        with pytest.raises(ValueError, match="ridge must be >= 0"):
            kf.grid.update(model, variables, x, ridge=ridge)


def test_knots_from_integer_samples_are_those_of_the_same_floats():
    x = np.arange(11)[:, None] * np.array([1, 3])  # [11, 2] ints
    for kw in (dict(grid_eps=1.0), dict(grid_eps=0.3), dict(grid_range=(-1, 1))):
        got = kf.grid.knots_from_samples(x, 5, 3, **kw)
        assert jnp.issubdtype(got.dtype, jnp.floating)
        want = kf.grid.knots_from_samples(x.astype(np.float32), 5, 3, **kw)
        np.testing.assert_array_equal(got, want)
    # uniform on [0, 10]: steps of 2, three on each side
    uniform = kf.grid.knots_from_samples(x, 5, 3, grid_eps=1.0)
    np.testing.assert_allclose(uniform[0], np.arange(-6, 17, 2))
