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
    pads = [
        _pads(padding if isinstance(padding, str) else padding[d], (h, w)[d], k, s[d])
        for d in range(2)
    ]
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
    conv = kf.layers.KANConv(
        3, 3, strides, padding, basis="chebyshev", order=3, param_dtype=jnp.float64
    )
    v = jax.jit(conv.init)(jax.random.key(0), x)
    got = jax.jit(conv.apply)(v, x)
    edge = kf.layers.KANLayer(3, basis="chebyshev", order=3, param_dtype=jnp.float64)
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
    np.testing.assert_allclose(
        got, _naive_conv(edge, p["skan"], x, 2, (1, 1), "VALID"), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("conv", ["cnn", "kan"])
def test_convnets_learn_digits(conv):
    train = kf.data.image_source("digits", "train")
    test = kf.data.image_source("digits", "test")
    model = kf.models.ConvNet(10, channels=(8, 16), conv=conv)
    res = kf.recipes.train_classifier(
        model,
        train,
        test,
        kf.train.make_optimizer("adam", 1e-2),
        epochs=12,
        batch_size=64,
        quiet=True,
    )
    assert res.test_accuracy > 0.6, (conv, res.test_accuracy)


def test_sconvkan_schedule_refuses_bad_starts():
    train = kf.data.image_source("digits", "train")
    model = kf.models.ConvNet(10, channels=(4,), conv="skan", spaces=("bspline", "chebyshev"))
    selected = model.clone(selections=((0, 1, 0, 1),))
    with pytest.raises(ValueError, match="mixing S-ConvKAN"):
        kf.recipes.fit_sconvkan(selected, train, train)
    with pytest.raises(ValueError, match="epochs must be three ints"):
        kf.recipes.fit_sconvkan(model, train, train, epochs=(0, 1, 1))


@pytest.mark.slow  # the default suite runs the schedule end to end in test_experiments.py
def test_sconvkan_schedule_learns_digits():
    train = kf.data.image_source("digits", "train")
    test = kf.data.image_source("digits", "test")
    model = kf.models.ConvNet(10, channels=(4, 8), conv="skan", spaces=("bspline", "chebyshev"))
    phases = kf.recipes.fit_sconvkan(
        model, train, test, epochs=(6, 2, 2), prune_threshold=0.05, quiet=True
    )
    assert [p.stage for p in phases] == ["mixed", "selective", "pruned"]
    mixed, selected, pruned = phases
    assert all(len(s) == c for s, c in zip(selected.model.selections, (4, 8), strict=True))
    params = selected.result.variables["params"]
    assert not any("select_logits" in params[f"conv_{i}"]["skan"] for i in range(2))
    assert selected.result.params < mixed.result.params  # unselected spaces dropped
    assert pruned.result.params <= selected.result.params
    assert all(c <= c0 for c, c0 in zip(pruned.model.channels, (4, 8), strict=True))
    accs = [p.result.test_accuracy for p in phases]
    assert accs[-1] > 0.45 and accs[-1] > accs[0], accs  # chance: 0.1
    with pytest.raises(ValueError, match="mixing S-ConvKAN"):
        kf.recipes.fit_sconvkan(selected.model, train, test)
    with pytest.raises(ValueError, match="epochs must be three ints"):
        kf.recipes.fit_sconvkan(model, train, test, epochs=(0, 1, 1))


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
    for k in (0, -1):  # a ZeroDivisionError / TypeError before
        with pytest.raises(ValueError, match="kernel_size must be an int >= 1"):
            kf.models.ConvNet(10, kernel_size=k)


def _zero_node(layer, params, j):
    """Zeroes every edge into node ``j`` of a selected SKANLayer's params."""
    for s, nodes in layer.groups().items():
        if j in nodes:
            col = list(nodes).index(j)
            params[f"coef_{s}"] = params[f"coef_{s}"].at[..., col].set(0.0)
    params["scale_base"] = params["scale_base"].at[:, j].set(0.0)  # scale_sp may stay


def test_prune_conv_drops_dead_channels_without_changing_the_function(x64):
    pool = ("chebyshev", "rbf", "relu_kan")
    model = kf.models.ConvNet(
        3, channels=(4, 5), conv="skan", spaces=pool, norm=False, param_dtype=jnp.float64
    )
    x = np.random.default_rng(0).uniform(0, 1, (6, 6, 6, 2))
    v = jax.jit(model.init)(jax.random.key(0), x)
    logits = jax.random.normal(jax.random.key(1), (3, 4))
    v["params"]["conv_0"]["skan"]["select_logits"] = logits  # a mixed selection
    model, v = kf.models.select_conv(model, v)
    assert len(set(model.selections[0])) > 1
    p = jax.tree.map(lambda a: a, v["params"])
    layer0 = kf.layers.SKANLayer(4, pool, model.selections[0])
    layer1 = kf.layers.SKANLayer(5, pool, model.selections[1])
    _zero_node(layer0, p["conv_0"]["skan"], 1)  # channel 1 of block 0: nothing in ...
    for k, a in p["conv_1"]["skan"].items():  # ... and nothing out (its 9 patch rows)
        p["conv_1"]["skan"][k] = a.at[9:18].set(0.0)
    _zero_node(layer1, p["conv_1"]["skan"], 3)  # channel 3 of block 1: nothing in ...
    p["head"]["kernel"] = p["head"]["kernel"].at[3].set(0.0)  # ... and nothing to the head
    v = {"params": p}
    pruned, pv = kf.models.prune_conv(model, v, x, threshold=1e-9)
    assert pruned.channels == (3, 4)
    assert pruned.selections[0] == tuple(model.selections[0][j] for j in (0, 2, 3))
    np.testing.assert_allclose(
        jax.jit(pruned.apply)(pv, x), jax.jit(model.apply)(v, x), rtol=1e-10, atol=1e-12
    )
    # per edge: n_s coefficients + scale_sp + scale_base (in * 9 edges into a channel)
    removed = kf.count_params(v["params"]) - kf.count_params(pv["params"])
    n = {s: kf.layers.skan.resolve_spaces((s,))[0].num_basis() for s in pool}
    sel0, sel1 = model.selections
    want = 2 * 9 * (n[pool[sel0[1]]] + 2)  # block 0 channel 1
    want += 9 * sum(n[pool[sel1[o]]] + 2 for o in range(5))  # its rows in block 1
    want += (4 - 1) * 9 * (n[pool[sel1[3]]] + 2) + 3  # block 1 channel 3 (3 kept inputs) + head
    assert removed == want
    # a threshold nothing falls under keeps every channel
    same, sv = kf.models.prune_conv(model, v, x, threshold=-1.0)
    assert same.channels == (4, 5)
    with pytest.raises(ValueError, match="selected S-ConvKAN"):
        kf.models.prune_conv(kf.models.ConvNet(3, conv="skan", spaces=pool), v, x)
