"""Learnable element-wise activations: CRReLU, the series-informed activation, Dice.

All map ``[..., features] -> [..., features]`` and are ``flax.linen`` modules.

* **CRReLU** (EAFO, "A Method on Searching Better Activation Functions"):
  ``relu(x) + eps * x * exp(-x^2 / 2)`` with one learnable scalar ``eps``
  (initialised to ``init_eps = 0.01``).
* **SeriesActivation** (PanGu-π's series-informed activation):
  ``sum_{i=1..n} a_i act(x + b_i)`` with learnable ``a_i, b_i``. Choices the
  paper leaves open, as fields: ``a_i = 1 / n`` and ``b_i`` evenly spaced on
  ``[-spread, spread]`` at initialisation (equal ``b_i`` would stay equal
  forever: the terms would get identical gradients); one set of ``(a, b)``
  shared by all features unless ``per_feature``.
* **Dice** (Deep Interest Network): ``p(s) s + (1 - p(s)) alpha s`` with
  ``p(s) = sigmoid((s - E[s]) / sqrt(Var[s] + eps))``; in training ``E`` and
  ``Var`` are the batch statistics over every axis but the last, and running
  averages (``momentum``) are kept in the ``batch_stats`` collection; at
  inference those running averages are used. ``alpha`` is learnable per
  feature (initialised to 0, as in DIN).
"""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import Array

from kanflow.activations.named import resolve

__all__ = ["CRReLU", "Dice", "SeriesActivation"]


class CRReLU(nn.Module):
    """``relu(x) + eps * x * exp(-x^2 / 2)``, ``eps`` learnable. ``[...] -> [...]``."""

    init_eps: float = 0.01
    param_dtype: jnp.dtype = jnp.float32
    is_activation = True
    needs_train = False

    @nn.compact
    def __call__(self, x: Array) -> Array:
        eps = self.param("eps", nn.initializers.constant(self.init_eps), (), self.param_dtype)
        return jax.nn.relu(x) + eps * x * jnp.exp(-0.5 * x * x)


class SeriesActivation(nn.Module):
    """``sum_i a_i act(x + b_i)`` over ``n`` terms. ``[..., C] -> [..., C]``."""

    n: int = 4
    activation: str | Callable[[Array], Array] = "relu"
    spread: float = 1.0
    per_feature: bool = False
    param_dtype: jnp.dtype = jnp.float32
    is_activation = True
    needs_train = False

    @nn.compact
    def __call__(self, x: Array) -> Array:
        if not isinstance(self.n, int) or self.n < 1:
            raise ValueError(f"n must be an int >= 1, got {self.n!r}")
        act = resolve(self.activation)
        shape = (self.n, x.shape[-1]) if self.per_feature else (self.n,)

        def init_b(key, shape, dtype):
            b = jnp.linspace(-self.spread, self.spread, self.n) if self.n > 1 else jnp.zeros(1)
            return jnp.broadcast_to(b.reshape((self.n,) + (1,) * (len(shape) - 1)), shape).astype(
                dtype
            )

        a = self.param("a", nn.initializers.constant(1.0 / self.n), shape, self.param_dtype)
        b = self.param("b", init_b, shape, self.param_dtype)
        # terms on a leading axis: [n, ..., C or 1] -> sum over n
        tail = (1,) * (x.ndim - 1) + ((x.shape[-1],) if self.per_feature else (1,))
        ab, xb = a.reshape((self.n, *tail)), x[None] + b.reshape((self.n, *tail))
        return jnp.sum(ab * act(xb), axis=0)


class Dice(nn.Module):
    """Data-adaptive activation of DIN. ``[..., C] -> [..., C]``.

    Call with ``train=True`` (batch statistics; needs ``mutable=["batch_stats"]``
    outside ``init``) or ``train=False`` (running averages).
    """

    momentum: float = 0.99
    epsilon: float = 1e-8
    param_dtype: jnp.dtype = jnp.float32
    is_activation = True
    needs_train = True

    @nn.compact
    def __call__(self, x: Array, train: bool | None = None) -> Array:
        if train is None:
            raise ValueError("Dice needs train=True (batch statistics) or train=False (running)")
        if x.ndim < 2:  # the batch statistics would be each element's own: variance 0
            raise ValueError(
                f"Dice expects [batch, ..., channels] (rank >= 2), got shape {x.shape}"
            )
        c = x.shape[-1]
        alpha = self.param("alpha", nn.initializers.zeros, (c,), self.param_dtype)
        sdt = jnp.promote_types(x.dtype, jnp.float32)
        mean_v = self.variable("batch_stats", "mean", jnp.zeros, (c,), sdt)
        var_v = self.variable("batch_stats", "var", jnp.ones, (c,), sdt)
        if train:
            _require_mutable_stats(self, "Dice")
            axes = tuple(range(x.ndim - 1))
            mean, var = jnp.mean(x, axes), jnp.var(x, axes)
            if not self.is_initializing():
                m = self.momentum
                mean_v.value = m * mean_v.value + (1 - m) * jax.lax.stop_gradient(mean)
                var_v.value = m * var_v.value + (1 - m) * jax.lax.stop_gradient(var)
        else:
            mean, var = mean_v.value, var_v.value
        p = jax.nn.sigmoid((x - mean) * jax.lax.rsqrt(var + self.epsilon))
        return p * x + (1 - p) * alpha * x


def _require_mutable_stats(module: nn.Module, what: str) -> None:
    if not module.is_initializing() and not module.is_mutable_collection("batch_stats"):
        raise ValueError(
            f"{what} in training (train=True) updates running statistics: call apply with "
            "mutable=['batch_stats'] (or pass train=False for inference)"
        )
