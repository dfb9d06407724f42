"""AF-KAN (Ta et al. 2025): ReLU-KAN's bumps with any activation and combination.

For every input ``x_i`` and grid bump ``c = 0 .. G+k-1`` the layer computes
``b_ic = combine(f(x_i - s_c), f(e_c - x_i))`` (:func:`kanflow.basis.af_kan`),
with ``s_c = lo + c' h`` for ``c' = -k .. G-1``, ``h = (hi - lo) / G`` and
``e_c = s_c + (k + 1) h`` (the paper's ``s_i = i / G`` is ``grid_range =
(0, 1)``); ``s`` and ``e`` are trainable and shared by all inputs.

The features are normalised (``basis_norm``):

* ``"sample"`` (default): min-max scaled to ``[0, 1]`` over each example's
  ``[in, G+k]`` features. The All-KAN code scales over the whole batch tensor
  (``"batch"``), which makes a prediction depend on the rest of its batch; we
  keep that as an option but default to the per-example form.
* ``"relu_kan"``: ReLU-KAN's constant ``16 / (e - s)^4`` (peak 1 for ReLU, quad1).
* ``"none"``.

Then ``reduction`` maps ``[..., in, G+k] -> [..., features]``:

* ``"attention"`` (AF-KAN's parameter reduction): a score ``z_i = sum_c w_c b_ic``
  (a linear ``G+k -> 1``; its bias would cancel in the softmax and is left
  out), weights ``a = softmax(z / max(T, 1))`` over the ``in`` features with a
  learnable temperature ``T`` initialised to ``sqrt(in)``, ``h_i = a_i sum_c
  b_ic``, then ``LayerNorm``, ``f`` and a bias-free linear ``in -> features``.
  Parameters: ``2 (G+k) + (G+k) + 1 + 2 in + in * features``.
* ``"linear"`` (ReLU-KAN's): one learnable weight per edge and bump,
  ``y = b.reshape(in * (G+k)) @ W + bias``, the KAN sum ``sum_i phi_ij(x_i)``.

ReLU-KAN itself is :func:`relu_kan_layer`: ``f = relu``, ``quad1``,
``basis_norm = "relu_kan"``, ``reduction = "linear"``, fixed grid.
Linear weights use PyTorch's ``nn.Linear`` default, ``U(+-1/sqrt(fan_in))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import Array

from kanflow.activations.named import resolve
from kanflow.basis.local import COMBINATIONS, af_kan
from kanflow.basis.registry import relu_kan_grid
from kanflow.checks import check_grid

__all__ = ["AFKANLayer", "BASIS_NORMS", "REDUCTIONS", "relu_kan_layer"]

BASIS_NORMS = ("sample", "batch", "relu_kan", "none")
REDUCTIONS = ("attention", "linear")

_torch_linear = nn.initializers.variance_scaling(1.0 / 3.0, "fan_in", "uniform")


def _minmax(b: Array, axes: tuple[int, ...]) -> Array:
    lo = jnp.min(b, axis=axes, keepdims=True)
    span = jnp.max(b, axis=axes, keepdims=True) - lo
    return (b - lo) / jnp.where(span > 0, span, 1.0)


class AFKANLayer(nn.Module):
    """AF-KAN layer. ``[..., in] -> [..., features]`` (see the module docstring).

    Attributes:
      features: output width.
      activation: ``f``, a name from ``kf.activations.NAMED`` or a function.
      combination: a key of ``kf.basis.COMBINATIONS`` (``quad1`` is the paper's best).
      grid_size: G >= 1.
      order: k >= 0; the layer has ``G + k`` bumps per input.
      grid_range: ``(lo, hi)``, the interval the grid starts on.
      trainable_grid: learn ``s`` and ``e`` (else they are constants).
      basis_norm: one of :data:`BASIS_NORMS`.
      reduction: one of :data:`REDUCTIONS`.
      param_dtype: dtype of the parameters.
      dtype: the output dtype (e.g. ``jnp.bfloat16``); the layer computes in at
        least float32 inside (its min-max scaling and bumps lose their shape in
        bfloat16). ``None``: the promotion of the input's and ``param_dtype``.
    """

    features: int
    activation: str | Callable[[Array], Array] = "silu"
    combination: str = "quad1"
    grid_size: int = 3
    order: int = 3
    grid_range: tuple[float, float] = (0.0, 1.0)
    trainable_grid: bool = True
    basis_norm: str = "sample"
    reduction: str = "attention"
    param_dtype: jnp.dtype = jnp.float32
    dtype: Any = None

    def __post_init__(self):
        check_grid(self.grid_size, self.order, self.grid_range)
        if self.combination not in COMBINATIONS:
            raise ValueError(
                f"unknown combination {self.combination!r}; expected one of {sorted(COMBINATIONS)}"
            )
        if self.basis_norm not in BASIS_NORMS:
            raise ValueError(f"basis_norm must be one of {BASIS_NORMS}, got {self.basis_norm!r}")
        if self.reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {self.reduction!r}")
        resolve(self.activation)
        super().__post_init__()

    def initial_grid(self) -> tuple[Array, Array]:
        """``(s, e)`` at initialisation, each ``[G + k]``."""
        s, e = relu_kan_grid(self.grid_size, self.order, self.grid_range)
        return s.astype(self.param_dtype), e.astype(self.param_dtype)

    @nn.compact
    def __call__(self, x: Array) -> Array:
        x = jnp.asarray(x)
        out = self._forward(x.astype(jnp.promote_types(x.dtype, jnp.float32)))
        return out.astype(self.dtype if self.dtype is not None else out.dtype)

    def _forward(self, x: Array) -> Array:
        if x.ndim < 1:
            raise ValueError(f"AFKANLayer expects inputs [..., in], got shape {x.shape}")
        f = resolve(self.activation)
        n_in, n = x.shape[-1], self.grid_size + self.order
        s0, e0 = self.initial_grid()
        if self.trainable_grid:
            s = self.param("starts", lambda *_: s0)
            e = self.param("ends", lambda *_: e0)
        else:
            s, e = s0, e0
        b = af_kan(x, s, e, f, self.combination)  # [..., in, n]
        if self.basis_norm == "sample":
            b = _minmax(b, (-2, -1))
        elif self.basis_norm == "batch":
            b = _minmax(b, tuple(range(b.ndim)))
        elif self.basis_norm == "relu_kan":
            b = b * (16.0 / (e - s) ** 4)
        if self.reduction == "linear":
            w = self.param("kernel", _torch_linear, (n_in * n, self.features), self.param_dtype)
            bound = 1.0 / math.sqrt(n_in * n)
            bias = self.param(
                "bias",
                lambda key, shape, dtype: jax.random.uniform(key, shape, dtype, -bound, bound),
                (self.features,),
                self.param_dtype,
            )
            return b.reshape(*b.shape[:-2], n_in * n) @ w + bias
        w_score = self.param(
            "score",
            lambda key, shape, dtype: _torch_linear(key, (n, 1), dtype)[:, 0],
            (n,),
            self.param_dtype,
        )
        temp = self.param(
            "temperature", nn.initializers.constant(math.sqrt(n_in)), (), self.param_dtype
        )
        z = b @ w_score  # [..., in]
        a = jax.nn.softmax(z / jnp.maximum(temp, 1.0), axis=-1)
        h = a * jnp.sum(b, axis=-1)
        h = nn.LayerNorm(param_dtype=self.param_dtype, name="norm")(h)
        w = self.param("kernel", _torch_linear, (n_in, self.features), self.param_dtype)
        return f(h) @ w


def relu_kan_layer(
    features: int,
    grid_size: int = 5,
    order: int = 3,
    grid_range: tuple[float, float] = (0.0, 1.0),
    **kwargs,
) -> AFKANLayer:
    """ReLU-KAN (Qiu et al. 2024) as the AF-KAN special case. ``[..., in] -> [..., features]``."""
    return AFKANLayer(
        features,
        activation="relu",
        combination="quad1",
        grid_size=grid_size,
        order=order,
        grid_range=grid_range,
        trainable_grid=False,
        basis_norm="relu_kan",
        reduction="linear",
        **kwargs,
    )
