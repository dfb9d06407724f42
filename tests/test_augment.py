"""On-device augmentation (RandAugment ops, Mixup/CutMix), EMA, augmented loss."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import kanflow as kf
from kanflow.data import augment

OPS = augment.RANDAUGMENT_OPS


def _op(name, image, strength, sign=1.0):
    return np.asarray(
        jax.jit(augment._op)(
            OPS.index(name),
            jnp.asarray(image),
            jnp.asarray(strength, jnp.float32),
            jnp.asarray(sign, jnp.float32),
        )
    )


def test_ops_against_closed_forms():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 0.9, (20, 20, 3)).astype(np.float32)
    np.testing.assert_array_equal(_op("identity", x, 0.7), x)
    # solarize at strength s inverts pixels >= 1 - s
    np.testing.assert_allclose(_op("solarize", x, 0.5), np.where(x < 0.5, x, 1 - x), atol=1e-6)
    # posterize at full strength keeps 4 bits: 16 levels
    np.testing.assert_allclose(_op("posterize", x, 1.0), np.floor(x * 15 + 0.5) / 15, atol=1e-6)
    lo, hi = x.min((0, 1)), x.max((0, 1))
    np.testing.assert_allclose(_op("autocontrast", x, 0.3), (x - lo) / (hi - lo), atol=1e-6)
    np.testing.assert_allclose(_op("brightness", x, 0.5, -1.0), np.clip(x * 0.55, 0, 1), atol=1e-6)
    # translate at full strength shifts by 0.45 * 20 = 9 pixels, filling with grey
    t = _op("translate_x", x, 1.0)
    np.testing.assert_allclose(t[:, :11], x[:, 9:], atol=1e-5)
    np.testing.assert_allclose(t[:, 11:], 0.5, atol=1e-6)
    t = _op("translate_y", x, 1.0, -1.0)
    np.testing.assert_allclose(t[9:], x[:11], atol=1e-5)
    # color acts on RGB only; a grey image is left alone
    g = x[..., :1]
    np.testing.assert_array_equal(_op("color", g, 1.0), g)
    # rotation at strength 0 is the identity; at full strength (30 degrees) it is not
    np.testing.assert_allclose(_op("rotate", x, 0.0), x, atol=1e-5)
    assert np.abs(_op("rotate", x, 1.0) - x).mean() > 0.05


def test_rand_augment_is_keyed_shape_preserving_and_in_range():
    images = jax.random.uniform(jax.random.key(0), (6, 16, 16, 3))
    f = jax.jit(augment.rand_augment, static_argnums=(2, 3))
    a = f(jax.random.key(1), images, 2, 15.0)
    assert a.shape == images.shape and float(a.min()) >= 0 and float(a.max()) <= 1
    np.testing.assert_array_equal(a, f(jax.random.key(1), images, 2, 15.0))
    assert not np.allclose(a, f(jax.random.key(2), images, 2, 15.0))
    with pytest.raises(ValueError, match="magnitude must be in \\[0, 30\\]"):
        augment.rand_augment(jax.random.key(0), images, 2, 40.0)


@pytest.mark.parametrize("mode", ["mixup", "cutmix"])
def test_mixup_cutmix_targets_match_the_pixel_mix(mode):
    b = 8
    # image i is the constant i: a pixel's value reveals where it came from
    images = jnp.broadcast_to(jnp.arange(b, dtype=jnp.float32)[:, None, None, None], (b, 10, 12, 1))
    targets = jax.nn.one_hot(jnp.arange(b), b)
    mix, cut = (0.8, 0.0) if mode == "mixup" else (0.0, 1.0)
    for seed in range(5):
        out, t = jax.jit(augment.mixup_cutmix, static_argnums=(3, 4))(
            jax.random.key(seed), images, targets, mix, cut
        )
        out, t = np.asarray(out), np.asarray(t)
        np.testing.assert_allclose(t.sum(1), 1.0, rtol=1e-6)
        for i in range(b):
            j = b - 1 - i
            lam = t[i, i] if i != j else 1.0
            if mode == "mixup":
                np.testing.assert_allclose(out[i], lam * i + (1 - lam) * j, rtol=1e-5)
            elif i != j:  # fraction of pixels kept from image i equals its target weight
                assert np.mean(out[i] == i) == pytest.approx(lam, abs=1e-6)
    low, _ = augment.mixup_cutmix(jax.random.key(0), images.astype(jnp.bfloat16), targets, mix, cut)
    assert low.dtype == jnp.bfloat16  # not promoted to float32


def test_track_ema_matches_a_loop():
    params = {"w": jnp.array([1.0, -2.0])}
    tx = optax.chain(optax.sgd(0.1), kf.train.track_ema(0.9, debias=False))
    state = tx.init(params)
    ema = np.array([1.0, -2.0])
    p = np.array([1.0, -2.0])
    for step in range(5):
        grads = {"w": jnp.array([float(step), 1.0])}
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        p = p - 0.1 * np.array([float(step), 1.0])
        ema = 0.9 * ema + 0.1 * p
    np.testing.assert_allclose(kf.train.ema_params(state)["w"], ema, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(params["w"], p, rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="decay must be in"):
        kf.train.track_ema(1.0)


@pytest.mark.slow  # default suite: each op here, the recipe end to end in test_experiments.py
def test_augmented_loss_trains_a_vit_with_the_full_recipe():
    data = kf.data.load_arrays(kf.data.image_source("digits", "train"))
    model = kf.models.ViT(10, image_size=8, patch_size=2, width=32, depth=2, num_heads=2)
    params = jax.jit(model.init)(jax.random.key(0), data["image"][:1])["params"]
    loss_fn = kf.recipes.image_classification_loss(
        model, 10, label_smoothing=0.1, mixup_alpha=0.8, cutmix_alpha=1.0, rand_augment=(2, 9.0)
    )
    sched = kf.train.make_schedule(3e-3, "cosine", steps=200, warmup_steps=20, end_value=1e-5)
    tx = optax.chain(
        optax.clip_by_global_norm(1.0),
        optax.adamw(sched, weight_decay=0.05),
        kf.train.track_ema(0.99),
    )
    res = kf.train.fit(loss_fn, params, data, optimizer=tx, steps=200, batch_size=128, quiet=True)
    assert res.history["loss"][-1] < res.history["loss"][0]
    ema = kf.train.ema_params(res.state.opt_state)
    test = kf.data.load_arrays(kf.data.image_source("digits", "test"))
    acc = np.mean(np.argmax(model.apply({"params": ema}, test["image"]), -1) == test["label"])
    assert acc > 0.5


@pytest.mark.parametrize("debias", [True, False])
def test_track_ema_decay_schedule_matches_a_loop(debias):
    # with debiasing the decay is min(decay, (1 + t) / (10 + t)) at update t = 0, 1, ...
    decay = 0.95
    params = {"w": jnp.array([1.0, -2.0])}
    tx = optax.chain(optax.sgd(0.1), kf.train.track_ema(decay, debias=debias))
    state = tx.init(params)
    ema, p = np.array([1.0, -2.0]), np.array([1.0, -2.0])
    for t in range(40):
        grads = {"w": jnp.array([np.sin(t), 1.0])}
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        p = p - 0.1 * np.array([np.sin(t), 1.0])
        d = min(decay, (1 + t) / (10 + t)) if debias else decay
        ema = d * ema + (1 - d) * p
    np.testing.assert_allclose(kf.train.ema_params(state)["w"], ema, rtol=1e-5, atol=1e-6)
