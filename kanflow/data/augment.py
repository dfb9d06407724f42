"""On-device image augmentation for the ViT recipe: RandAugment, Mixup / CutMix.

Pure JAX functions of a PRNG key and a batch ``images [B, H, W, C]`` in
``[0, 1]``; they run inside the jitted train step (see
:func:`kanflow.recipes.image_classification_loss`). Geometric and colour ops
come from dm-pix.

* :func:`rand_augment` (Cubuk et al. 2020): for every image, ``num_ops`` ops
  drawn uniformly from :data:`RANDAUGMENT_OPS`, each at strength
  ``magnitude / 30`` of its range (timm's scale, so ``m15`` is half way), with
  a random sign for signed ops. At full strength: rotate ±30°, shear ±0.3,
  translate ±45 % of the side, brightness / contrast / colour / sharpness
  factor ``1 ± 0.9``; solarize threshold ``1 - m/30``; posterize to
  ``8 - 4 m/30`` bits; autocontrast and identity have no strength. Rotations,
  shears and translations fill with grey (0.5). ``color`` (saturation) acts
  on RGB images only.
* :func:`mixup_cutmix` (timm's batch mode): with probability ``switch_prob``
  CutMix (a box of area ``1 - lam`` pasted from the batch reversed, ``lam``
  then corrected to the box actually pasted), else Mixup (``lam x + (1 - lam)
  x_reversed``); ``lam ~ Beta(alpha, alpha)``; targets mixed the same way.
"""

from __future__ import annotations

import dm_pix as pix
import jax
import jax.numpy as jnp
from jax import Array

__all__ = ["RANDAUGMENT_OPS", "mixup_cutmix", "rand_augment"]

RANDAUGMENT_OPS = (
    "identity",
    "autocontrast",
    "rotate",
    "solarize",
    "color",
    "posterize",
    "contrast",
    "brightness",
    "sharpness",
    "shear_x",
    "shear_y",
    "translate_x",
    "translate_y",
)


def _affine(image: Array, matrix2: Array, offset2: Array) -> Array:
    """Applies a 2-D affine map (about the image centre) to ``[H, W, C]``."""
    h, w, _ = image.shape
    centre = jnp.array([(h - 1) / 2, (w - 1) / 2], image.dtype)
    m = jnp.eye(3, dtype=image.dtype).at[:2, :2].set(matrix2)
    off2 = centre - matrix2 @ centre + offset2
    offset = jnp.concatenate([off2, jnp.zeros((1,), image.dtype)])
    return pix.affine_transform(image, m, offset=offset, mode="constant", cval=0.5)


def _op(index: Array, image: Array, strength: Array, sign: Array) -> Array:
    """Op number ``index`` of :data:`RANDAUGMENT_OPS` at ``strength`` in [0, 1]."""
    h, w, c = image.shape
    s = strength * sign

    def rotate(x):
        return pix.rotate(x, jnp.deg2rad(30.0) * s, mode="constant", cval=0.5)

    def autocontrast(x):
        lo = x.min(axis=(0, 1), keepdims=True)
        hi = x.max(axis=(0, 1), keepdims=True)
        return jnp.where(hi > lo, (x - lo) / jnp.where(hi > lo, hi - lo, 1.0), x)

    def posterize(x):
        bits = jnp.round(8 - 4 * strength)
        levels = 2.0**bits
        return jnp.floor(x * (levels - 1) + 0.5) / (levels - 1)

    def color(x):
        if c != 3:
            return x
        return pix.adjust_saturation(x, 1 + 0.9 * s)

    def sharpness(x):
        blurred = pix.gaussian_blur(x, 1.0, 3)
        return jnp.clip(x + 0.9 * s * (x - blurred), 0, 1)

    def shear(axis):
        def f(x):
            m = jnp.eye(2, dtype=x.dtype).at[axis, 1 - axis].set(0.3 * s)
            return _affine(x, m, jnp.zeros(2, x.dtype))

        return f

    def translate(axis):
        def f(x):
            off = jnp.zeros(2, x.dtype).at[axis].set(0.45 * s * (h, w)[axis])
            return _affine(x, jnp.eye(2, dtype=x.dtype), off)

        return f

    ops = [
        lambda x: x,
        autocontrast,
        rotate,
        lambda x: pix.solarize(x, 1.0 - strength),
        color,
        posterize,
        lambda x: jnp.clip(pix.adjust_contrast(x, 1 + 0.9 * s), 0, 1),
        lambda x: jnp.clip(x * (1 + 0.9 * s), 0, 1),
        sharpness,
        shear(1),
        shear(0),
        translate(1),
        translate(0),
    ]
    return jax.lax.switch(index, ops, image)


def rand_augment(key: Array, images: Array, num_ops: int = 2, magnitude: float = 15.0) -> Array:
    """RandAugment ``n{num_ops} m{magnitude}``. ``[B, H, W, C] -> [B, H, W, C]`` in [0, 1]."""
    if images.ndim != 4:
        raise ValueError(f"images must be [batch, H, W, C], got shape {images.shape}")
    if not 0 <= magnitude <= 30:
        raise ValueError(f"magnitude must be in [0, 30], got {magnitude!r}")
    strength = jnp.asarray(magnitude / 30.0, images.dtype)

    def one(key, image):
        for k in jax.random.split(key, num_ops):
            k_op, k_sign = jax.random.split(k)
            idx = jax.random.randint(k_op, (), 0, len(RANDAUGMENT_OPS))
            sign = jnp.where(jax.random.bernoulli(k_sign), 1.0, -1.0).astype(image.dtype)
            image = _op(idx, image, strength, sign)
        return image

    return jax.vmap(one)(jax.random.split(key, images.shape[0]), images)


def mixup_cutmix(
    key: Array,
    images: Array,
    targets: Array,
    mixup_alpha: float = 0.8,
    cutmix_alpha: float = 1.0,
    switch_prob: float = 0.5,
) -> tuple[Array, Array]:
    """Mixes a batch with its reverse. ``[B, H, W, C], [B, K] -> same shapes``.

    Args:
      key: PRNG key.
      images: ``[B, H, W, C]``.
      targets: soft targets ``[B, classes]`` (one-hot, possibly smoothed).
      mixup_alpha, cutmix_alpha: Beta parameters (0 turns that mode off).
      switch_prob: probability of CutMix when both are on.
    """
    if images.ndim != 4 or targets.ndim != 2 or targets.shape[0] != images.shape[0]:
        raise ValueError(
            f"expected images [B, H, W, C] and targets [B, classes], got {images.shape} "
            f"and {targets.shape}"
        )
    if mixup_alpha <= 0 and cutmix_alpha <= 0:
        return images, targets
    k_mode, k_mix, k_cut, k_box = jax.random.split(key, 4)
    b, h, w, _ = images.shape
    flipped = images[::-1]
    if cutmix_alpha <= 0:
        use_cut = jnp.array(False)
    elif mixup_alpha <= 0:
        use_cut = jnp.array(True)
    else:
        use_cut = jax.random.bernoulli(k_mode, switch_prob)
    lam_mix = jax.random.beta(k_mix, max(mixup_alpha, 1e-3), max(mixup_alpha, 1e-3))
    lam_cut = jax.random.beta(k_cut, max(cutmix_alpha, 1e-3), max(cutmix_alpha, 1e-3))
    # CutMix box of area (1 - lam) at a uniform centre, clipped to the image
    cut = jnp.sqrt(1.0 - lam_cut)
    ch, cw = (cut * h).astype(jnp.int32), (cut * w).astype(jnp.int32)
    ky, kx = jax.random.split(k_box)
    cy = jax.random.randint(ky, (), 0, h)
    cx = jax.random.randint(kx, (), 0, w)
    y0, y1 = jnp.clip(cy - ch // 2, 0, h), jnp.clip(cy + ch // 2, 0, h)
    x0, x1 = jnp.clip(cx - cw // 2, 0, w), jnp.clip(cx + cw // 2, 0, w)
    ys, xs = jnp.arange(h)[:, None], jnp.arange(w)[None, :]
    box = ((ys >= y0) & (ys < y1) & (xs >= x0) & (xs < x1))[None, :, :, None]
    lam_box = 1.0 - (y1 - y0) * (x1 - x0) / (h * w)
    cut_images = jnp.where(box, flipped, images)
    mix_images = lam_mix * images + (1 - lam_mix) * flipped
    lam = jnp.where(use_cut, lam_box, lam_mix).astype(targets.dtype)
    out = jnp.where(use_cut, cut_images, mix_images)
    if jnp.issubdtype(images.dtype, jnp.floating):  # bf16 stays bf16 (integers become float)
        out = out.astype(images.dtype)
    return out, lam * targets + (1 - lam) * targets[::-1]
