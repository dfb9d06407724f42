"""Properties that hold for every input (hypothesis draws the inputs)."""

import hypothesis.extra.numpy as hnp
import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import kanflow as kf

SETTINGS = settings(max_examples=30, deadline=None, derandomize=True)


@st.composite
def knots_and_order(draw):
    """A degree and random gaps between knots, enough of them for a non-empty interior."""
    order = draw(st.integers(0, 4))
    n_gaps = draw(st.integers(2 * order + 1, 2 * order + 6))
    gaps = draw(hnp.arrays(np.float64, n_gaps, elements=st.floats(0.05, 2.0)))
    return order, gaps


@SETTINGS
@given(
    drawn=knots_and_order(),
    u=hnp.arrays(np.float64, 16, elements=st.floats(0.0, 0.999)),
)
def test_bspline_partition_of_unity_and_nonnegativity_on_random_knots(drawn, u):
    order, gaps = drawn
    with jax.enable_x64(True):
        knots = np.concatenate([[-1.0], -1.0 + np.cumsum(gaps)])
        # inside [t_k, t_{K-k-1}) the degree-k bases sum to one
        lo, hi = knots[order], knots[len(knots) - order - 1]
        x = lo + u * (hi - lo)
        b = np.asarray(kf.basis.bspline(jnp.asarray(x), jnp.asarray(knots), order))
        assert b.shape == (16, len(knots) - order - 1)
        assert np.all(b >= -1e-12)
        np.testing.assert_allclose(b.sum(-1), 1.0, rtol=1e-10)


@settings(max_examples=6, deadline=None, derandomize=True)
@given(
    grid_size=st.integers(1, 6),
    order=st.integers(1, 3),
    factor=st.integers(2, 3),
    seed=st.integers(0, 2**16),
)
def test_refining_a_uniform_grid_nests_the_spline_space(grid_size, order, factor, seed):
    # a spline on G intervals is exactly a spline on factor * G intervals of the same range
    with jax.enable_x64(True):
        rng = np.random.default_rng(seed)
        x = jnp.asarray(rng.uniform(-1, 1, (200, 1)))
        knots = kf.basis.uniform_knots(grid_size, order)[None]
        new_knots = kf.basis.uniform_knots(factor * grid_size, order)[None]
        coef = jnp.asarray(rng.normal(size=(1, grid_size + order, 2)))
        new_coef = kf.grid.refit_coefficients(x, knots, coef, new_knots, order)
        old = jnp.einsum("nic,ico->no", kf.basis.bspline(x, knots, order), coef)
        new = jnp.einsum("nic,ico->no", kf.basis.bspline(x, new_knots, order), new_coef)
        np.testing.assert_allclose(new, old, atol=1e-9)


@settings(max_examples=8, deadline=None, derandomize=True)
@given(
    basis=st.sampled_from(kf.basis.names()),
    n_in=st.integers(1, 4),
    n_out=st.integers(1, 3),
    use_bias=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_a_kan_layer_is_the_sum_of_its_edge_functions(basis, n_in, n_out, use_bias, seed):
    layer = kf.layers.KANLayer(n_out, basis=basis, grid_size=3, order=2, use_bias=use_bias)
    x = jnp.asarray(np.random.default_rng(seed).uniform(-1, 1, (7, n_in)), jnp.float32)
    v = layer.init(jax.random.key(seed), x)
    edges = layer.apply(v, x, per_edge=True)
    assert edges.shape == (7, n_in, n_out)
    np.testing.assert_allclose(edges.sum(1), layer.apply(v, x), rtol=2e-5, atol=2e-6)
