"""A stack of KAN layers. ``[batch, widths[0]] -> [batch, widths[-1]]``."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp
from jax import Array

from kanflow.checks import as_widths
from kanflow.layers.config import KANConfig
from kanflow.layers.kan import KANLayer


class KAN(KANConfig):
    """Kolmogorov-Arnold network ``widths = (in, hidden..., out)``.

    Layer ``l`` is ``KANLayer(widths[l + 1])`` named ``layer_l``; the edge
    settings (keyword-only, :class:`kanflow.layers.KANConfig`: ``basis``,
    ``grid_size``, ``order``, ``grid_range``, ``base_activation``, ``scale_sp``,
    ...) are every layer's.

    Example:
      >>> import jax, jax.numpy as jnp, kanflow as kf
      >>> model = kf.models.KAN((2, 5, 1), basis="chebyshev", order=4)
      >>> variables = model.init(jax.random.key(0), jnp.zeros((1, 2)))
      >>> model.apply(variables, jnp.ones((3, 2))).shape
      (3, 1)
      >>> kf.count_params(variables["params"])  # 15 edges x (5 coefficients + 2 scales)
      105
    """

    widths: Sequence[int]

    def __post_init__(self):
        object.__setattr__(self, "widths", as_widths(self.widths))
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Array) -> Array:
        x = jnp.asarray(x)  # lists and NumPy arrays too
        if x.ndim < 1 or x.shape[-1] != self.widths[0]:
            raise ValueError(f"KAN expects inputs [..., {self.widths[0]}], got shape {x.shape}")
        for l in range(len(self.widths) - 1):
            x = self.layer(l)(x)
        return x

    @nn.nowrap
    def layer(self, l: int) -> KANLayer:
        """Layer ``l`` as a module (``[..., widths[l]] -> [..., widths[l + 1]]``).

        Called inside ``__call__`` it is the bound submodule; called on an
        unbound model it builds an equal standalone layer, to apply with
        ``{c: variables[c][f"layer_{l}"] for c in variables}``.
        """
        return KANLayer(self.widths[l + 1], **self.kan_settings(), name=f"layer_{l}")
