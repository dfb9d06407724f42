"""Multi-head self-attention. ``[batch, tokens, width] -> [batch, tokens, width]``.

``qkv`` is one Dense ``width -> 3 width`` (with bias) and ``out`` a Dense
``width -> width``, the layout of timm's ViT, so parameter counts match it.
The row operator turning scores into weights is softmax, or a module
``[B, heads, N, N] -> [B, heads, N, N]`` such as
:class:`kanflow.attention.KArAtOperator` (pass the same instance to several
layers to share it: the universal variant).
The attention weights ``[batch, heads, tokens, tokens]`` are sown into the
``intermediates`` collection as ``attention`` for plotting.
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import Array

__all__ = ["SelfAttention"]


class SelfAttention(nn.Module):
    """Multi-head self-attention with a row operator on the scaled scores.

    Attributes:
      num_heads: heads; must divide the width.
      row_operator: ``None`` for softmax, else a module mapping the scores
        ``[B, heads, N, N]`` to weights of the same shape.
      param_dtype: dtype of the parameters.
      dtype: compute dtype of the projections (``None``: promotion); the row
        operator (softmax or KArAt) runs in at least float32.
    """

    num_heads: int
    row_operator: nn.Module | None = None
    param_dtype: jnp.dtype = jnp.float32
    dtype: Any = None

    def __post_init__(self):
        if not isinstance(self.num_heads, int) or self.num_heads < 1:
            raise ValueError(f"num_heads must be an int >= 1, got {self.num_heads!r}")
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Array) -> Array:
        if x.ndim != 3:
            raise ValueError(f"SelfAttention expects [batch, tokens, width], got shape {x.shape}")
        b, n, w = x.shape
        if w % self.num_heads:
            raise ValueError(f"num_heads={self.num_heads} must divide the width {w}")
        d = w // self.num_heads
        dense = dict(dtype=self.dtype, param_dtype=self.param_dtype)
        qkv = nn.Dense(3 * w, **dense, name="qkv")(x)
        q, k, v = jnp.split(qkv.reshape(b, n, 3, self.num_heads, d), 3, axis=2)
        q, k, v = (t[:, :, 0].transpose(0, 2, 1, 3) for t in (q, k, v))  # [b, h, n, d]
        scores = (q @ k.swapaxes(-1, -2)) / math.sqrt(d)  # [b, h, n, n]
        # the row operator (softmax or KArAt) runs in at least float32, whatever the compute dtype
        wide = scores.astype(jnp.promote_types(scores.dtype, jnp.float32))
        if self.row_operator is None:
            weights = jax.nn.softmax(wide, axis=-1).astype(scores.dtype)
        else:
            weights = self.row_operator(wide).astype(scores.dtype)
        self.sow("intermediates", "attention", weights)
        y = (weights @ v).transpose(0, 2, 1, 3).reshape(b, n, w)
        return nn.Dense(w, **dense, name="out")(y)
