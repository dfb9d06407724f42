"""Kolmogorov-Arnold attention: the row operators against naive per-row loops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.special
from jax.test_util import check_grads

import kanflow as kf


def _naive_fourier(scores, coef, w):
    b, h, nq, n = scores.shape
    out = np.zeros_like(scores)
    for bi in range(b):
        for hi in range(h):
            for q in range(nq):
                a = scores[bi, hi, q]
                phi = np.zeros(coef.shape[-1])
                for j in range(coef.shape[-1]):
                    for i in range(n):
                        for m in range(coef.shape[2]):
                            phi[j] += coef[hi, 0, m, i, j] * np.cos(m * a[i])
                            phi[j] += coef[hi, 1, m, i, j] * np.sin(m * a[i])
                out[bi, hi, q] = phi @ w[hi]
    return out


def test_fourier_operator_matches_naive_loop(x64):
    op = kf.attention.KArAtOperator(
        num_heads=2, num_tokens=5, rank=3, grid_size=2, param_dtype=jnp.float64
    )
    scores = np.random.default_rng(0).normal(size=(2, 2, 4, 5)) * 2
    params = jax.jit(op.init)(jax.random.key(0), scores)["params"]
    assert params["coef"].shape == (2, 2, 3, 5, 3) and params["w"].shape == (2, 3, 5)
    got = jax.jit(op.apply)({"params": params}, scores)
    want = _naive_fourier(scores, np.asarray(params["coef"]), np.asarray(params["w"]))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("chunk", [1, 3, 16])
def test_general_basis_operator_matches_naive_loop(x64, chunk):
    # Chebyshev convention of the registry: T_0..T_k of tanh(a)
    op = kf.attention.KArAtOperator(
        num_heads=2,
        num_tokens=4,
        rank=3,
        basis="chebyshev",
        order=3,
        chunk=chunk,
        param_dtype=jnp.float64,
    )
    scores = np.random.default_rng(1).normal(size=(2, 2, 7, 4))
    params = jax.jit(op.init)(jax.random.key(0), scores)["params"]
    coef, w = np.asarray(params["coef"]), np.asarray(params["w"])  # [h, N, 4, r], [h, r, N]
    want = np.zeros_like(scores)
    for b in range(2):
        for h in range(2):
            for q in range(7):
                feats = np.polynomial.chebyshev.chebvander(np.tanh(scores[b, h, q]), 3)
                phi = np.einsum("ic,icr->r", feats, coef[h])
                want[b, h, q] = phi @ w[h]
    got = jax.jit(op.apply)({"params": params}, scores)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("basis", ["fourier", "rbf"])
def test_operator_gradients_match_finite_differences(x64, basis):
    op = kf.attention.KArAtOperator(
        num_heads=1,
        num_tokens=3,
        rank=2,
        basis=basis,
        grid_size=2,
        chunk=2,
        param_dtype=jnp.float64,
    )
    scores = np.random.default_rng(2).normal(size=(1, 1, 3, 3))
    params = jax.jit(op.init)(jax.random.key(0), scores)["params"]

    def loss(p, s):
        return jnp.sum(jnp.sin(op.apply({"params": p}, s)))

    check_grads(loss, (params, scores), order=1, modes=["rev"], atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize(
    "name,classes,g,expected",
    [
        ("tiny", 10, 3, (5.53, 6.29, 5.59)),
        ("small", 1000, 3, (22.05, 23.58, 22.18)),
        ("base", 10, 1, (85.81, 87.51, 85.95)),
    ],
)
def test_vit_parameter_counts_match_the_papers_table(name, classes, g, expected):
    got = []
    for attention in ("softmax", "fourier_karat_blockwise", "fourier_karat_universal"):
        model = kf.models.vit(name, classes, attention=attention, karat_grid_size=g, karat_rank=12)
        shapes = jax.eval_shape(model.init, jax.random.key(0), jnp.zeros((1, 224, 224, 3)))
        got.append(round(kf.count_params(shapes["params"]) / 1e6, 2))
    assert tuple(got) == expected


def test_blockwise_has_one_operator_per_layer_universal_one_shared():
    kw = dict(image_size=8, patch_size=2, width=8, depth=2, num_heads=2)
    x = jnp.zeros((2, 8, 8, 1))
    blockwise = kf.models.ViT(10, attention="fourier_karat_blockwise", **kw)
    universal = kf.models.ViT(10, attention="fourier_karat_universal", **kw)
    pb = jax.eval_shape(blockwise.init, jax.random.key(0), x)["params"]
    pu = jax.jit(universal.init)(jax.random.key(0), x)["params"]
    assert {k for k in pb if k.startswith("karat")} == {"karat_0", "karat_1"}
    assert {k for k in pu if k.startswith("karat")} == {"karat"}
    per_op = (2 * 3 + 3) * 17 * 12 * 2  # (2G+3) N r per head, 2 heads
    assert kf.count_params(pb) - kf.count_params(pu) == per_op
    # the shared operator trains: it receives a gradient through the layers
    images = jax.random.uniform(jax.random.key(1), (2, 8, 8, 1))

    def loss(p):
        return jnp.sum(universal.apply({"params": p}, images) ** 2)

    g = jax.jit(jax.grad(loss))(pu)
    assert float(jnp.abs(g["karat"]["w"]).sum()) > 0


def test_karat_errors():
    op = kf.attention.KArAtOperator(num_heads=2, num_tokens=197)
    with pytest.raises(ValueError, match="built for num_tokens=197 but the scores have 50"):
        op.init(jax.random.key(0), jnp.zeros((1, 2, 50, 50)))
    with pytest.raises(ValueError, match="expects scores \\[batch, 2, rows, N\\]"):
        op.init(jax.random.key(0), jnp.zeros((1, 3, 197, 197)))
    with pytest.raises(ValueError, match="unknown basis"):
        kf.attention.KArAtOperator(num_heads=2, num_tokens=5, basis="wavelet9")
    with pytest.raises(ValueError, match="rank must be an int >= 1"):
        kf.attention.KArAtOperator(num_heads=2, num_tokens=5, rank=0)
    with pytest.raises(ValueError, match="attention must be one of"):
        kf.models.ViT(10, attention="sparsemax")
    for ratio in (0, 1.5, -1):  # a ZeroDivisionError / TypeError before
        with pytest.raises(ValueError, match="mlp_ratio must be an int >= 1"):
            kf.models.ViT(10, mlp_ratio=ratio)


def loop_attention(p, x, heads, operator):
    """Multi-head attention by hand: scores per head, the row operator, weights @ V, out."""
    x = np.asarray(x)
    b, n, w = x.shape
    d = w // heads
    qkv = x @ np.asarray(p["qkv"]["kernel"]) + np.asarray(p["qkv"]["bias"])
    part = lambda s, h: qkv[..., s * w + h * d : s * w + (h + 1) * d]  # q, k, v of head h
    scores = np.stack(
        [np.einsum("bqd,bkd->bqk", part(0, h), part(1, h)) / np.sqrt(d) for h in range(heads)], 1
    )
    weights = np.asarray(operator(scores))  # [b, heads, n, n]
    y = np.zeros((b, n, w))
    for h in range(heads):
        y[..., h * d : (h + 1) * d] = weights[:, h] @ part(2, h)
    return y @ np.asarray(p["out"]["kernel"]) + np.asarray(p["out"]["bias"]), weights


@pytest.mark.parametrize("basis", ["fourier", "rbf"])
def test_self_attention_applies_the_operator_to_the_scaled_scores(x64, basis):
    heads, n, w = 2, 5, 6
    op = kf.attention.KArAtOperator(
        heads, n, rank=3, basis=basis, grid_size=2, param_dtype=jnp.float64
    )
    attn = kf.attention.SelfAttention(heads, op, param_dtype=jnp.float64)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(3, n, w)))
    p = jax.tree.map(lambda a: a + 0.05, attn.init(jax.random.key(0), x)["params"])
    operator = lambda s: op.apply({"params": p["row_operator"]}, jnp.asarray(s))
    want, _ = loop_attention(p, x, heads, operator)
    np.testing.assert_allclose(attn.apply({"params": p}, x), want, rtol=1e-10, atol=1e-12)
    softmax = kf.attention.SelfAttention(heads, param_dtype=jnp.float64)
    sp = {k: p[k] for k in ("qkv", "out")}
    want, _ = loop_attention(sp, x, heads, lambda s: scipy.special.softmax(s, axis=-1))
    np.testing.assert_allclose(softmax.apply({"params": sp}, x), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "attention",
    ["fourier_karat_blockwise", "fourier_karat_universal", "karat_blockwise", "karat_universal"],
)
def test_vit_wires_each_block_to_its_operator(x64, attention):
    # blockwise: block i uses operator karat_i; universal: every block uses the one operator
    kw = dict(image_size=4, patch_size=2, width=4, depth=2, num_heads=2, karat_rank=3)
    model = kf.models.ViT(10, attention=attention, karat_basis="rbf", param_dtype=jnp.float64, **kw)
    images = jnp.asarray(np.random.default_rng(1).uniform(size=(2, 4, 4, 1)))
    v = model.init(jax.random.key(0), images)
    params = jax.tree.map(lambda a: a + 0.05 * jnp.sign(a), v["params"])
    inputs = kf.layers.layer_inputs(model, {"params": params}, images, kf.attention.SelfAttention)
    _, st = model.apply({"params": params}, images, mutable=["intermediates"])
    basis = "fourier" if attention.startswith("fourier") else "rbf"
    op = kf.attention.KArAtOperator(
        2, model.num_tokens, rank=3, basis=basis, grid_size=3, param_dtype=jnp.float64
    )
    for i in range(2):
        name = f"karat_{i}" if attention.endswith("blockwise") else "karat"
        operator = lambda s, name=name: op.apply({"params": params[name]}, jnp.asarray(s))
        block = params[f"block_{i}"]["attn"]
        _, weights = loop_attention(block, inputs[(f"block_{i}", "attn")], 2, operator)
        got = st["intermediates"][f"block_{i}"]["attn"]["attention"][0]
        np.testing.assert_allclose(got, weights, rtol=1e-10, atol=1e-12)
