"""Layer-input capture, edge scores and the node-pruning rule."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kanflow as kf
from kanflow.models import kan as kan_models


def test_layer_inputs_and_edge_scores_against_a_manual_pass(x64):
    model = kf.models.KAN((3, 4, 2), basis="rbf", param_dtype=jnp.float64)
    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (16, 3)))
    v = model.init(jax.random.key(0), x)
    inputs = kf.layers.layer_inputs(model, v, x, kf.layers.KANLayer)
    scores = kf.layers.edge_scores(model, v, x, kf.layers.KANLayer)
    assert list(inputs) == [("layer_0",), ("layer_1",)] == list(scores)
    h = np.asarray(x)
    for l in range(2):
        sub = {c: v[c][f"layer_{l}"] for c in v}
        np.testing.assert_allclose(inputs[(f"layer_{l}",)], h, rtol=1e-12)
        edges = np.asarray(model.layer(l).apply(sub, h, per_edge=True))  # [n, in, out]
        np.testing.assert_allclose(scores[(f"layer_{l}",)], np.abs(edges).mean(0), rtol=1e-12)
        h = edges.sum(1)


def test_layer_inputs_accepts_a_predicate_and_rejects_nonsense():
    model = kf.models.ConvNet(10, channels=(2,), conv="kan")
    images = jnp.ones((2, 4, 4, 1))
    v = model.init(jax.random.key(0), images)
    head = kf.layers.layer_inputs(model, v, images, lambda m: m.name == "head")
    assert head[("head",)].shape == (2, 2)
    patches = kf.layers.layer_inputs(model, v, images, kf.layers.KANLayer)
    assert patches[("conv_0", "kan")].shape == (2, 4, 4, 9)
    with pytest.raises(TypeError, match="where must be"):
        kf.layers.layer_inputs(model, v, images, "head")


def numpy_live_nodes(incoming, outgoing, threshold):
    keep = [j for j in range(len(incoming)) if incoming[j] > threshold and outgoing[j] > threshold]
    return keep or [int(np.argmax(np.minimum(incoming, outgoing)))]


def test_live_nodes_needs_both_sides():
    rng = np.random.default_rng(0)
    for _ in range(50):
        incoming, outgoing = rng.uniform(0, 0.02, (2, 9))
        got = kf.layers.live_nodes(incoming, outgoing, 1e-2)
        assert got.tolist() == numpy_live_nodes(incoming, outgoing, 1e-2)
    # live on one side only: dropped, whichever side it is
    incoming = np.array([1.0, 1.0, 0.0, 1.0])
    outgoing = np.array([1.0, 0.0, 1.0, 1.0])
    assert kf.layers.live_nodes(incoming, outgoing, 0.5).tolist() == [0, 3]
    assert kf.layers.live_nodes(np.zeros(3), np.array([0.0, 2.0, 1.0]), 0.5).tolist() == [0]
    with pytest.raises(ValueError, match="equal-length"):
        kf.layers.live_nodes(np.ones(3), np.ones(2), 0.5)
    # a NaN score compares False everywhere and argmax picks it: refused, not pruned on
    with pytest.raises(ValueError, match="edge scores are not finite"):
        kf.layers.live_nodes(np.array([np.nan, 0.5, 1.0]), np.ones(3), 5.0)
    with pytest.raises(ValueError, match="threshold must be finite"):
        kf.layers.live_nodes(np.ones(3), np.ones(3), float("nan"))
    # one NaN sample in the data pruned a whole network to one dead path
    model = kf.models.KAN((2, 4, 1), grid_size=4)
    x = rng.uniform(-1, 1, (64, 2)).astype(np.float32)
    variables = model.init(jax.random.key(0), x)
    x[3, 0] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        kan_models.prune(model, variables, x, node_threshold=1e-2, edge_threshold=3e-2)


def test_capture_accepts_unhashable_apply_arguments():
    import flax.linen as nn

    class Scaled(nn.Module):
        @nn.compact
        def __call__(self, x, scale):
            return kf.layers.KANLayer(2, name="kan")(x * scale)

    model = Scaled()
    x = np.random.default_rng(0).uniform(-1, 1, (5, 3))
    scale = np.array([1.0, 2.0, 3.0])  # an array keyword argument: not hashable
    v = model.init(jax.random.key(0), x, scale=scale)
    got = kf.layers.layer_inputs(model, v, x, kf.layers.KANLayer, scale=scale)
    np.testing.assert_allclose(got[("kan",)], x * scale, rtol=1e-6)
