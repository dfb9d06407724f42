"""A stack of KAN layers. ``[batch, widths[0]] -> [batch, widths[-1]]``."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp
from jax import Array

from kanflow.layers.kan import KANLayer, validate_kan_config


class KAN(nn.Module):
    """Kolmogorov-Arnold network ``widths = (in, hidden..., out)``.

    Layer ``l`` is ``KANLayer(widths[l + 1])`` named ``layer_l``; every other
    attribute is passed to each layer (see :class:`kanflow.layers.KANLayer`).
    """

    widths: Sequence[int]
    basis: str = "bspline"
    grid_size: int = 5
    order: int = 3
    grid_range: tuple[float, float] = (-1.0, 1.0)
    base_activation: Callable[[Array], Array] | None = nn.silu
    noise_scale: float = 0.1
    scale_base_mu: float = 0.0
    scale_base_sigma: float = 1.0
    use_bias: bool = False
    param_dtype: jnp.dtype = jnp.float32

    def __post_init__(self):
        widths = tuple(self.widths)
        if len(widths) < 2 or not all(isinstance(w, int) and w >= 1 for w in widths):
            raise ValueError(f"widths must be >= 2 positive ints (in, ..., out), got {widths!r}")
        validate_kan_config(self.basis, self.grid_size, self.order, self.grid_range)
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Array) -> Array:
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
        return KANLayer(
            self.widths[l + 1],
            basis=self.basis,
            grid_size=self.grid_size,
            order=self.order,
            grid_range=self.grid_range,
            base_activation=self.base_activation,
            noise_scale=self.noise_scale,
            scale_base_mu=self.scale_base_mu,
            scale_base_sigma=self.scale_base_sigma,
            use_bias=self.use_bias,
            param_dtype=self.param_dtype,
            name=f"layer_{l}",
        )
