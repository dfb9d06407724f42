"""KANConv / SKANConv against naive loops; ConvNet (CNN, ConvKAN, S-ConvKAN)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kanflow as kf


def _pads(padding, size, k, s):
    if padding == "VALID":
        return (0, 0)
    if padding == "SAME":
        total = max((math.ceil(size / s) - 1) * s + k - size, 0)
        return (total // 2, total - total // 2)
    return padding


def _naive_conv(edge_layer, params, x, k, s, padding):
    """Loops over output pixels; the patch is ordered (channel, row, column)."""
    b, h, w, c = x.shape
    pads = [_pads(padding if isinstance(padding, str) else padding[d], (h, w)[d], k, s[d])
            for d in range(2)]  # fmt: skip
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)))
    ho = (xp.shape[1] - k) // s[0] + 1
    wo = (xp.shape[2] - k) // s[1] + 1
    out = None
    for i in range(ho):
        for j in range(wo):
            patch = xp[:, i * s[0] : i * s[0] + k, j * s[1] : j * s[1] + k, :]  # [b, k, k, c]
            vec = np.transpose(patch, (0, 3, 1, 2)).reshape(b, -1)
            y = np.asarray(edge_layer.apply({"params": params}, vec))
            if out is None:
                out = np.zeros((b, ho, wo, y.shape[-1]))
            out[:, i, j] = y
    return out


CASES = [("SAME", (1, 1)), ("VALID", (2, 1)), (((1, 0), (0, 2)), (2, 2)), ("SAME", (2, 3))]


@pytest.mark.parametrize("padding,strides", CASES)
def test_kan_conv_matches_naive_loop(x64, padding, strides):
    x = np.random.default_rng(0).uniform(-1, 1, (2, 5, 6, 2))
    conv = kf.layers.KANConv(3, 3, strides, padding, basis="chebyshev", order=3,
                             param_dtype=jnp.float64)  # fmt: skip
    v = jax.jit(conv.init)(jax.random.key(0), x)
    got = jax.jit(conv.apply)(v, x)
    edge = kf.layers.KANLayer(3, "chebyshev", order=3, param_dtype=jnp.float64)
    want = _naive_conv(edge, v["params"]["kan"], x, 3, strides, padding)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_skan_conv_matches_naive_loop(x64):
    pool = (kf.layers.Space("chebyshev", 1, 2), kf.layers.Space("rbf", 4, 0))
    x = np.random.default_rng(1).uniform(-1, 1, (2, 4, 4, 2))
    conv = kf.layers.SKANConv(3, 2, 1, "VALID", spaces=pool, param_dtype=jnp.float64)
    v = jax.jit(conv.init)(jax.random.key(0), x)
    p = jax.tree.map(lambda a: a + 0.1, v["params"])  # non-uniform selection weights too
    got = jax.jit(conv.apply)({"params": p}, x)
    edge = kf.layers.SKANLayer(3, pool, param_dtype=jnp.float64)
    np.testing.assert_allclose(got, _naive_conv(edge, p["skan"], x, 2, (1, 1), "VALID"),
                               rtol=1e-10, atol=1e-12)  # fmt: skip


@pytest.mark.parametrize("conv", ["cnn", "kan", "skan"])
def test_convnets_learn_digits(conv):
    train = kf.data.image_source("digits", "train")
    test = kf.data.image_source("digits", "test")
    spaces = ("bspline", "chebyshev", "rbf")
    model = kf.models.ConvNet(10, channels=(8, 16), conv=conv, spaces=spaces)
    res = kf.train.train_classifier(model, train, test, kf.train.make_optimizer("adam", 1e-2),
                                    epochs=12, batch_size=64, quiet=True)  # fmt: skip
    assert res.test_accuracy > 0.6, (conv, res.test_accuracy)
    if conv == "skan":
        selected, v = kf.models.select_conv(model, res.variables)
        assert all(len(s) == c for s, c in zip(selected.selections, (8, 16), strict=True))
        assert not any("select_logits" in p["skan"] for k, p in v["params"].items()
                       if k.startswith("conv_"))  # fmt: skip
        acc = kf.train.evaluate_accuracy(selected, v, test)
        assert acc > 0.3  # selection keeps a working network before fine-tuning


def test_conv_errors():
    conv = kf.layers.KANConv(4, 3)
    with pytest.raises(ValueError, match="expects images \\[batch, H, W, channels\\]"):
        conv.init(jax.random.key(0), jnp.zeros((8, 8, 1)))
    v = jax.jit(conv.init)(jax.random.key(0), jnp.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match="built for 1 input channels"):
        conv.apply(v, jnp.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match="padding must be"):
        kf.layers.KANConv(4, 3, padding="FULL").init(jax.random.key(0), jnp.zeros((1, 8, 8, 1)))
    with pytest.raises(ValueError, match="conv must be one of"):
        kf.models.ConvNet(10, conv="transformer")
