"""The KAN layer: one learnable univariate function on every input-output edge.

``y_j = sum_i phi_ij(x_i)`` with pykan's edge function
``phi_ij(x) = scale_base_ij * b(x) + scale_sp_ij * sum_c coef_icj B_c(x)``,
``b = silu`` by default, ``B_c`` any basis from :mod:`kanflow.basis`.

The spline sum is evaluated as one matmul,
``[batch, in * n] @ [in * n, out]``, so memory stays linear in
``batch * in * n`` and no ``[batch, in, out, n]`` tensor is ever built.

Parameters (collection ``"params"``):
  ``coef [in, n, out]``, ``scale_base [in, out]``, ``scale_sp [in, out]``
  (and ``bias [out]`` with ``use_bias``).
Adaptive grids (B-spline): collection ``"grid"``, ``knots [in, G + 2k + 1]``,
moved between training phases by :mod:`kanflow.grid`.

Initialisation follows pykan: ``scale_base = (mu + sigma * U(-1, 1)) / sqrt(in)``,
``scale_sp = scale_sp / sqrt(in)``; the coefficients start as small noise,
``N(0, noise_scale^2 / n)`` (pykan fits uniform noise of similar size).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import Array

from kanflow.basis import registry

__all__ = ["KANLayer", "validate_kan_config"]


def validate_kan_config(basis: str, grid_size: int, order: int, grid_range) -> registry.BasisSpec:
    """Checks the shared KAN hyper-parameters and returns the basis spec."""
    spec = registry.get(basis)
    if not isinstance(grid_size, int) or grid_size < 1:
        raise ValueError(f"grid_size must be an int >= 1, got {grid_size!r}")
    if not isinstance(order, int) or order < 0:
        raise ValueError(f"order must be an int >= 0, got {order!r}")
    lo, hi = grid_range
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"grid_range must be finite (lo, hi) with lo < hi, got {grid_range!r}")
    return spec


class KANLayer(nn.Module):
    """KAN layer with pykan semantics over any registered basis.

    ``[..., in] -> [..., features]``.

    Attributes:
      features: output width.
      basis: a name from ``kanflow.basis.names()``.
      grid_size: G, number of grid intervals (or centres / frequencies).
      order: k, the spline degree (polynomial degree for polynomial bases).
      grid_range: initial grid interval.
      base_activation: the residual ``b(x)``; ``None`` drops it.
      noise_scale: size of the initial coefficients.
      scale_base_mu, scale_base_sigma: pykan's base-scale initialisation.
      scale_sp: initial spline scale (times ``1 / sqrt(in)``).
      use_bias: add a learnable bias per output.
      param_dtype: dtype of the parameters.
    """

    features: int
    basis: str = "bspline"
    grid_size: int = 5
    order: int = 3
    grid_range: tuple[float, float] = (-1.0, 1.0)
    base_activation: Callable[[Array], Array] | None = nn.silu
    noise_scale: float = 0.1
    scale_base_mu: float = 0.0
    scale_base_sigma: float = 1.0
    scale_sp: float = 1.0
    use_bias: bool = False
    param_dtype: jnp.dtype = jnp.float32

    def __post_init__(self):
        if not isinstance(self.features, int) or self.features < 1:
            raise ValueError(f"features must be an int >= 1, got {self.features!r}")
        validate_kan_config(self.basis, self.grid_size, self.order, self.grid_range)
        super().__post_init__()

    @property
    def spec(self) -> registry.BasisSpec:
        return registry.get(self.basis)

    @property
    def num_basis(self) -> int:
        return self.spec.num_basis(self.grid_size, self.order)

    @nn.compact
    def __call__(self, x: Array, per_edge: bool = False) -> Array:
        """``[..., in] -> [..., features]``; with ``per_edge`` the edge values
        ``phi_ij(x_i)`` unsummed, ``[..., in, features]`` (for plots and analysis)."""
        if x.ndim < 1:
            raise ValueError(f"KANLayer expects inputs [..., in], got a scalar of shape {x.shape}")
        n_in, n_b, spec = x.shape[-1], self.num_basis, self.spec
        if self.has_variable("params", "coef"):
            expected = self.get_variable("params", "coef").shape[0]
            if expected != n_in:
                raise ValueError(
                    f"KANLayer {self.name!r} expects inputs [..., {expected}], got shape {x.shape}"
                )
        self.sow("intermediates", "kan_inputs", x)

        grid = None
        if spec.has_grid:
            if not self.is_initializing() and not self.has_variable("grid", "knots"):
                raise ValueError(
                    f"KANLayer {self.name!r} (basis {self.basis!r}) needs its 'grid' collection: "
                    "apply with all variables from init, e.g. model.apply(variables, x)"
                )
            grid = self.variable(
                "grid",
                "knots",
                lambda: spec.init_grid(n_in, self.grid_size, self.order, self.grid_range).astype(
                    self.param_dtype
                ),
            ).value

        pd = self.param_dtype
        std = self.noise_scale / math.sqrt(n_b)
        coef = self.param("coef", nn.initializers.normal(std, pd), (n_in, n_b, self.features), pd)
        scale_sp = self.param(
            "scale_sp",
            nn.initializers.constant(self.scale_sp / math.sqrt(n_in), pd),
            (n_in, self.features),
            pd,
        )

        dtype = jnp.result_type(x.dtype, pd)
        x = x.astype(dtype)
        feats = spec.evaluate(x, grid, self.grid_size, self.order, self.grid_range)  # [..., in, n]
        weight = (coef * scale_sp[:, None, :]).astype(dtype)  # [in, n, out]
        if per_edge:
            y = jnp.einsum("...ic,ico->...io", feats, weight)
        else:
            y = feats.reshape(*x.shape[:-1], n_in * n_b) @ weight.reshape(n_in * n_b, self.features)

        if self.base_activation is not None:

            def init_scale_base(key, shape, dtype=pd):
                u = jax.random.uniform(key, shape, dtype, -1.0, 1.0)
                return (self.scale_base_mu + self.scale_base_sigma * u) / math.sqrt(n_in)

            scale_base = self.param("scale_base", init_scale_base, (n_in, self.features), pd)
            base = self.base_activation(x)
            if per_edge:
                y = y + base[..., None] * scale_base.astype(dtype)
            else:
                y = y + base @ scale_base.astype(dtype)
        if self.use_bias:
            bias = self.param("bias", nn.initializers.zeros_init(), (self.features,), pd)
            y = y + (bias / n_in if per_edge else bias)  # edges sum to the layer output
        return y
