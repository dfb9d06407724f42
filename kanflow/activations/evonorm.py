"""EvoNorm-B0 and EvoNorm-S0 (Liu et al., "Evolving Normalization-Activation Layers").

Inputs are channels-last, ``[batch, ..., C]`` (``[B, C]``, ``[B, N, C]`` tokens,
``[B, H, W, C]`` images); output has the input's shape. ``gamma`` and ``beta``
are per channel.

* **B0**: ``x / max(sqrt(s2_b(x) + eps), v * x + sqrt(s2_i(x) + eps)) * gamma + beta``.
  ``s2_b`` is the batch variance per channel (over every axis but the last) in
  training, its running average (collection ``batch_stats``) at inference;
  ``s2_i`` is the instance variance per sample and channel over the middle
  (spatial / token) axes. For ``[B, C]`` inputs there are no middle axes and
  ``s2_i = 0``.
* **S0**: ``x * sigmoid(v * x) / sqrt(s2_g(x) + eps) * gamma + beta`` with
  ``s2_g`` the variance per sample over the middle axes and the channels of
  each of ``groups`` channel groups. No batch dependence.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import Array

from kanflow.activations.learnable import _require_mutable_stats

__all__ = ["EvoNormB0", "EvoNormS0"]


def _check_rank(x: Array, what: str) -> None:
    if x.ndim < 2:
        raise ValueError(f"{what} expects [batch, ..., channels] (rank >= 2), got shape {x.shape}")


class EvoNormB0(nn.Module):
    """Batch-dependent EvoNorm. ``[B, ..., C] -> [B, ..., C]``; ``train`` as for Dice."""

    momentum: float = 0.9
    epsilon: float = 1e-5
    param_dtype: jnp.dtype = jnp.float32
    is_activation = True
    needs_train = True

    @nn.compact
    def __call__(self, x: Array, train: bool | None = None) -> Array:
        if train is None:
            raise ValueError("EvoNormB0 needs train=True (batch statistics) or train=False")
        _check_rank(x, "EvoNormB0")
        c = x.shape[-1]
        gamma = self.param("gamma", nn.initializers.ones, (c,), self.param_dtype)
        beta = self.param("beta", nn.initializers.zeros, (c,), self.param_dtype)
        v = self.param("v", nn.initializers.ones, (c,), self.param_dtype)
        sdt = jnp.promote_types(x.dtype, jnp.float32)
        var_v = self.variable("batch_stats", "var", jnp.ones, (c,), sdt)
        if train:
            _require_mutable_stats(self, "EvoNormB0")
            var_b = jnp.var(x, axis=tuple(range(x.ndim - 1)))
            if not self.is_initializing():
                m = self.momentum
                var_v.value = m * var_v.value + (1 - m) * jax.lax.stop_gradient(var_b)
        else:
            var_b = var_v.value
        middle = tuple(range(1, x.ndim - 1))
        var_i = jnp.var(x, axis=middle, keepdims=True) if middle else jnp.zeros_like(x)
        den = jnp.maximum(jnp.sqrt(var_b + self.epsilon), v * x + jnp.sqrt(var_i + self.epsilon))
        return x / den * gamma + beta


class EvoNormS0(nn.Module):
    """Sample-based EvoNorm over ``groups`` channel groups. ``[B, ..., C] -> [B, ..., C]``."""

    groups: int = 32
    epsilon: float = 1e-5
    param_dtype: jnp.dtype = jnp.float32
    is_activation = True
    needs_train = False

    @nn.compact
    def __call__(self, x: Array) -> Array:
        _check_rank(x, "EvoNormS0")
        c = x.shape[-1]
        if not isinstance(self.groups, int) or self.groups < 1 or c % self.groups:
            raise ValueError(
                f"groups must be a positive int dividing the channel count {c}, got {self.groups!r}"
            )
        gamma = self.param("gamma", nn.initializers.ones, (c,), self.param_dtype)
        beta = self.param("beta", nn.initializers.zeros, (c,), self.param_dtype)
        v = self.param("v", nn.initializers.ones, (c,), self.param_dtype)
        g = x.reshape(*x.shape[:-1], self.groups, c // self.groups)
        axes = tuple(range(1, x.ndim - 1)) + (x.ndim,)  # middle axes + channels within a group
        var_g = jnp.var(g, axis=axes, keepdims=True)
        gated = (x * jax.nn.sigmoid(v * x)).reshape(g.shape)
        y = (gated * jax.lax.rsqrt(var_g + self.epsilon)).reshape(x.shape)
        return y * gamma + beta
