"""Fully connected baseline. ``[batch, widths[0]] -> [batch, widths[-1]]``.

``activation`` is anything :func:`kanflow.activations.build` takes: a name
(``"relu"``), a function (``jax.nn.silu``) or a learnable activation class
(``kf.activations.CRReLU``, ``functools.partial(kf.activations.Dice)``); each
hidden layer gets its own instance.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax.numpy as jnp
from jax import Array

from kanflow import activations as _act
from kanflow.checks import as_int, as_widths


class MLP(nn.Module):
    """Dense layers ``widths = (in, hidden..., out)`` with ``activation`` between them.

    Attributes:
      widths: ``(in, hidden..., out)``.
      activation: name, function or learnable activation class (see module doc).
      layer_norm: a LayerNorm before every Dense layer (All-KAN's MLP baseline).
      use_bias: Dense biases.
      param_dtype: dtype of the parameters.
      dtype: compute (and output) dtype; ``None`` promotes input and parameters.

    Call ``apply(variables, x, train=...)``; ``train`` is needed only by
    activations with batch statistics (Dice, EvoNorm-B0).
    """

    widths: Sequence[int]
    activation: Any = nn.silu
    layer_norm: bool = False
    use_bias: bool = True
    param_dtype: jnp.dtype = jnp.float32
    dtype: Any = None

    def __post_init__(self):
        object.__setattr__(self, "widths", as_widths(self.widths))
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Array, train: bool | None = None) -> Array:
        x = jnp.asarray(x)  # lists and NumPy arrays too
        if x.ndim < 1 or x.shape[-1] != self.widths[0]:
            raise ValueError(f"MLP expects inputs [..., {self.widths[0]}], got shape {x.shape}")
        for l, width in enumerate(self.widths[1:]):
            if self.layer_norm:
                x = nn.LayerNorm(dtype=self.dtype, param_dtype=self.param_dtype, name=f"norm_{l}")(
                    x
                )
            x = nn.Dense(
                width,
                use_bias=self.use_bias,
                dtype=self.dtype,
                param_dtype=self.param_dtype,
                name=f"dense_{l}",
            )(x)
            if l < len(self.widths) - 2:
                x = _act.apply(
                    _act.build(self.activation, name=f"act_{l}", param_dtype=self.param_dtype),
                    x,
                    train,
                )
        return x

    @staticmethod
    def width_for_params(n_in: int, n_out: int, depth: int, target: int) -> int:
        """Hidden width whose ``depth``-hidden-layer MLP has closest to ``target`` parameters.

        (The smaller width on a tie; width 1 when even that exceeds ``target``.)
        """
        n_in, n_out = as_int(n_in, "n_in"), as_int(n_out, "n_out")
        depth, target = as_int(depth, "depth"), as_int(target, "target")

        def count(w: int) -> int:
            return (n_in + 1) * w + (depth - 1) * (w + 1) * w + (w + 1) * n_out

        lo, hi = 1, 2  # count grows with w: bracket the target, then bisect
        while count(hi) < target:
            lo, hi = hi, 2 * hi
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if count(mid) < target else (lo, mid)
        return min((lo, hi), key=lambda w: (abs(count(w) - target), w))
