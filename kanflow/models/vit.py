"""Vision Transformer (ViT) with a pluggable attention operator and activation.

``[batch, H, W, C] -> [batch, num_classes]``. The layout is timm's
(``vit_{tiny,small,base}_patch16_224``): a patch-embedding convolution with
bias, a class token, learned position embeddings (``N(0, 0.02)``), pre-norm
blocks ``x + Attn(LN(x))``, ``x + MLP(LN(x))`` with a ``4 width`` hidden MLP,
a final LayerNorm and a linear head on the class token. LayerNorm epsilon is
1e-6 (timm's).

``kf.models.vit("tiny", num_classes=10)`` builds the standard sizes; the
class :class:`ViT` takes any width/depth/heads (tiny ViTs for CPU runs).

``attention`` (:data:`ATTENTIONS`): ``"softmax"``; Kolmogorov-Arnold attention
``"fourier_karat_blockwise"`` / ``"fourier_karat_universal"`` (Fourier-KArAt,
``karat_grid_size`` G, rank ``karat_rank`` r) or ``"karat_blockwise"`` /
``"karat_universal"`` over any basis ``karat_basis``. *Blockwise*: one
:class:`kanflow.attention.KArAtOperator` per layer (``karat_i``, top level);
*universal*: one for the whole network (``karat``), used by every layer.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import Array

from kanflow import activations as _act
from kanflow.attention import KArAtOperator, SelfAttention
from kanflow.layers.config import KANConfig
from kanflow.models.common import check_images
from kanflow.models.kan import KAN

__all__ = ["ATTENTIONS", "MLPS", "SIZES", "ViT", "vit"]

ATTENTIONS = (
    "softmax",
    "fourier_karat_blockwise",
    "fourier_karat_universal",
    "karat_blockwise",
    "karat_universal",
)

MLPS = ("dense", "kan")

SIZES = {
    "tiny": dict(width=192, depth=12, num_heads=3),
    "small": dict(width=384, depth=12, num_heads=6),
    "base": dict(width=768, depth=12, num_heads=12),
}


class Block(nn.Module):
    """Pre-norm transformer block. ``[B, N, W] -> [B, N, W]``.

    ``kan``: ``None`` for the dense MLP ``fc1 -> activation -> fc2``; else the
    :class:`kanflow.layers.KANConfig` settings (as ``(name, value)`` pairs) of a
    ``[W, mlp_dim, W]`` KAN that takes its place (submodule ``mlp``).
    """

    num_heads: int
    mlp_dim: int
    activation: Any = "gelu"
    row_operator: nn.Module | None = None
    param_dtype: jnp.dtype = jnp.float32
    kan: tuple[tuple[str, Any], ...] | None = None
    dtype: Any = None

    @nn.compact
    def __call__(self, x: Array, train: bool | None = None) -> Array:
        ln = dict(epsilon=1e-6, dtype=self.dtype, param_dtype=self.param_dtype)
        dense = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        h = nn.LayerNorm(**ln, name="norm1")(x)
        attn = SelfAttention(
            self.num_heads, self.row_operator, self.param_dtype, self.dtype, name="attn"
        )
        x = x + attn(h)
        h = nn.LayerNorm(**ln, name="norm2")(x)
        if self.kan is not None:
            widths = (x.shape[-1], self.mlp_dim, x.shape[-1])
            return x + KAN(widths, **dict(self.kan), name="mlp")(h)
        h = nn.Dense(self.mlp_dim, **dense, name="fc1")(h)
        h = _act.apply(
            _act.build(self.activation, name="act", param_dtype=self.param_dtype), h, train
        )
        return x + nn.Dense(x.shape[-1], **dense, name="fc2")(h)


class ViT(KANConfig):
    """Vision Transformer. ``[batch, H, W, C] -> [batch, num_classes]``.

    Attributes:
      num_classes: head outputs.
      image_size: expected ``H = W``.
      patch_size: patch side; must divide ``image_size``.
      width, depth, num_heads: transformer size (``num_heads`` divides ``width``).
      mlp_ratio: MLP hidden width over ``width``.
      activation: MLP activation (name, function or learnable activation class).
      attention: one of :data:`ATTENTIONS`.
      karat_rank, karat_grid_size, karat_basis, karat_order: the KArAt operator
        (``karat_basis`` is used by the ``karat_*`` attentions; the
        ``fourier_karat_*`` ones are Fourier).
      resize_inputs: resize (bilinear, on device) images of another size to
        ``image_size`` first (e.g. CIFAR's 32 px to the paper's 224 px).
      mlp: ``"dense"`` (timm's MLP) or ``"kan"``: every block's MLP becomes a
        ``[width, mlp_ratio * width, width]`` KAN over the edge settings below.
      keyword-only: the KAN edge settings used by ``mlp="kan"``,
        :class:`kanflow.layers.KANConfig` (``basis``, ``grid_size``, ...), and
        ``param_dtype``, the dtype of every parameter.
    """

    num_classes: int
    image_size: int = 224
    patch_size: int = 16
    width: int = 192
    depth: int = 12
    num_heads: int = 3
    mlp_ratio: int = 4
    activation: Any = "gelu"
    attention: str = "softmax"
    karat_rank: int = 12
    karat_grid_size: int = 3
    karat_basis: str = "fourier"
    karat_order: int = 3
    resize_inputs: bool = False
    mlp: str = "dense"

    def __post_init__(self):
        if self.mlp not in MLPS:
            raise ValueError(f"mlp must be one of {MLPS}, got {self.mlp!r}")
        if self.attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {self.attention!r}")
        names = ("num_classes", "image_size", "patch_size", "width", "depth", "num_heads")
        for f in (*names, "mlp_ratio"):
            v = getattr(self, f)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{f} must be an int >= 1, got {v!r}")
        if self.image_size % self.patch_size:
            raise ValueError(
                f"image_size={self.image_size} is not divisible by patch_size={self.patch_size}"
            )
        if self.width % self.num_heads:
            raise ValueError(f"num_heads={self.num_heads} must divide width={self.width}")
        super().__post_init__()

    @property
    def num_tokens(self) -> int:
        """Tokens per image including the class token."""
        return (self.image_size // self.patch_size) ** 2 + 1

    @nn.compact
    def __call__(self, images: Array, train: bool | None = None) -> Array:
        size = (self.image_size, self.image_size)
        check_images(images, "ViT", size)
        if self.resize_inputs and images.ndim == 4 and images.shape[1:3] != size:
            images = jax.image.resize(images, (images.shape[0], *size, images.shape[3]), "bilinear")
        if images.ndim != 4 or images.shape[1:3] != (self.image_size, self.image_size):
            raise ValueError(
                f"ViT expects images [batch, {self.image_size}, {self.image_size}, channels], "
                f"got shape {images.shape}"
            )
        p = self.patch_size
        x = nn.Conv(
            self.width,
            (p, p),
            strides=(p, p),
            padding="VALID",
            dtype=self.dtype,
            param_dtype=self.param_dtype,
            name="patch_embed",
        )(images)
        b = x.shape[0]
        x = x.reshape(b, -1, self.width)
        cls = self.param("cls_token", nn.initializers.zeros, (1, 1, self.width), self.param_dtype)
        x = jnp.concatenate([jnp.broadcast_to(cls, (b, 1, self.width)).astype(x.dtype), x], 1)
        pos = self.param(
            "pos_embed",
            nn.initializers.normal(0.02),
            (1, self.num_tokens, self.width),
            self.param_dtype,
        )
        x = x + pos.astype(x.dtype)
        shared = self._karat("karat") if self.attention.endswith("_universal") else None
        for i in range(self.depth):
            op = shared
            if self.attention.endswith("_blockwise"):
                op = self._karat(f"karat_{i}")
            x = Block(
                self.num_heads,
                self.mlp_ratio * self.width,
                self.activation,
                op,
                self.param_dtype,
                kan=tuple(self.kan_settings().items()) if self.mlp == "kan" else None,
                dtype=self.dtype,
                name=f"block_{i}",
            )(x, train)
        x = nn.LayerNorm(epsilon=1e-6, dtype=self.dtype, param_dtype=self.param_dtype, name="norm")(
            x
        )
        head = nn.Dense(
            self.num_classes, dtype=self.dtype, param_dtype=self.param_dtype, name="head"
        )
        return head(x[:, 0])

    def _karat(self, name: str) -> KArAtOperator:
        basis = "fourier" if self.attention.startswith("fourier_") else self.karat_basis
        return KArAtOperator(
            self.num_heads,
            self.num_tokens,
            rank=self.karat_rank,
            basis=basis,
            grid_size=self.karat_grid_size,
            order=self.karat_order,
            param_dtype=self.param_dtype,
            name=name,
        )


def vit(name: str, num_classes: int, **kwargs) -> ViT:
    """A standard ViT size: ``name`` in ``{"tiny", "small", "base"}``.

    ``kwargs`` are any other :class:`ViT` fields (``image_size``, ``attention``,
    ``karat_grid_size``, ``karat_rank``, ...).
    """
    if name not in SIZES:
        raise ValueError(f"name must be one of {sorted(SIZES)}, got {name!r}")
    return ViT(num_classes, **SIZES[name], **kwargs)
