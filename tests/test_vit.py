"""ViT and self-attention: timm parameter counts, attention vs a naive loop, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kanflow as kf


def test_self_attention_matches_naive_per_head_loop(x64):
    att = kf.attention.SelfAttention(num_heads=2, param_dtype=jnp.float64)
    x = np.random.default_rng(0).normal(size=(3, 5, 8))
    v = jax.jit(att.init)(jax.random.key(0), x)
    y, st = jax.jit(lambda v, x: att.apply(v, x, mutable=["intermediates"]))(v, x)
    p = jax.tree.map(np.asarray, v["params"])
    qkv = x @ p["qkv"]["kernel"] + p["qkv"]["bias"]
    out = np.zeros_like(x)
    for b in range(3):
        heads = []
        for h in range(2):
            q, k, vv = (qkv[b, :, j * 8 + h * 4 : j * 8 + h * 4 + 4] for j in range(3))
            s = q @ k.T / 2.0
            w = np.exp(s - s.max(-1, keepdims=True))
            w /= w.sum(-1, keepdims=True)
            np.testing.assert_allclose(st["intermediates"]["attention"][0][b, h], w, rtol=1e-10)
            heads.append(w @ vv)
        out[b] = np.concatenate(heads, -1) @ p["out"]["kernel"] + p["out"]["bias"]
    np.testing.assert_allclose(y, out, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "attention, mlp, accuracy",
    [("softmax", "dense", 0.7), ("fourier_karat_blockwise", "dense", 0.6), ("softmax", "kan", 0.6)],
)
def test_tiny_vit_learns_digits(attention, mlp, accuracy):
    # mlp="kan": each block's MLP is a [32, 32, 32] Chebyshev KAN (any basis works the same way)
    data = kf.data.load_arrays(kf.data.image_source("digits", "train"))
    model = kf.models.ViT(
        10,
        image_size=8,
        patch_size=2,
        width=32,
        depth=2,
        num_heads=2,
        attention=attention,
        karat_rank=4,
        mlp=mlp,
        mlp_ratio=1 if mlp == "kan" else 4,
        basis="chebyshev",
        order=3,
    )
    params = jax.jit(model.init)(jax.random.key(0), data["image"][:1])["params"]
    loss_fn = kf.train.supervised_loss(model, "cross_entropy", x_key="image", y_key="label")
    res = kf.train.fit(
        loss_fn,
        params,
        data,
        optimizer=kf.train.make_optimizer("adamw", 3e-3),
        steps=150,
        batch_size=128,
        quiet=True,
    )
    assert res.history["accuracy"][-1] > accuracy, (attention, mlp)


def test_vit_errors():
    with pytest.raises(ValueError, match="image_size=30 is not divisible by patch_size=16"):
        kf.models.ViT(10, image_size=30)
    with pytest.raises(ValueError, match="num_heads=5 must divide width=192"):
        kf.models.ViT(10, num_heads=5)
    with pytest.raises(ValueError, match="name must be one of"):
        kf.models.vit("huge", 10)
    model = kf.models.ViT(10, image_size=8, patch_size=2, width=8, depth=1, num_heads=2)
    with pytest.raises(ValueError, match="expects images \\[batch, 8, 8, channels\\]"):
        model.init(jax.random.key(0), jnp.zeros((1, 8, 8)))
