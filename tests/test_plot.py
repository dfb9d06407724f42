"""Plots: the plotted edge functions are the layer's, and figures are written."""

import jax
import jax.numpy as jnp
import numpy as np

import kanflow as kf


def test_edge_functions_sum_to_layer_output(tmp_path):
    model = kf.models.KAN((3, 2, 1))
    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (64, 3)), jnp.float32)
    variables = jax.jit(model.init)(jax.random.key(0), x)
    curves = kf.plot.edge_functions(model, variables, x, num=17)
    assert [phi.shape for _, phi in curves] == [(17, 3, 2), (17, 2, 1)]
    t, phi = curves[0]
    # each row t[p] is itself an input vector: its edges must sum to the layer output
    sub = {c: v["layer_0"] for c, v in variables.items()}
    np.testing.assert_allclose(phi.sum(1), model.layer(0).apply(sub, t), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(t[0], x.min(0), rtol=1e-6)
    np.testing.assert_allclose(t[-1], x.max(0), rtol=1e-6)
    fig = kf.plot.plot_activations(model, variables, x, path=tmp_path / "act.png")
    kf.plot.close(fig)
    assert (tmp_path / "act.png").stat().st_size > 0
    fig = kf.plot.plot_history({"a": {"step": [0, 1], "loss": [1.0, 0.5]}}, path=tmp_path / "h.png")
    kf.plot.close(fig)
    assert (tmp_path / "h.png").stat().st_size > 0
