"""The KAN layer: one learnable univariate function on every input-output edge.

``y_j = sum_i phi_ij(x_i)`` with pykan's edge function
``phi_ij(x) = scale_base_ij * b(x) + scale_sp_ij * sum_c coef_icj B_c(x)``,
``b = silu`` by default, ``B_c`` any basis from :mod:`kanflow.basis`.

The whole layer is one matmul: the basis features, basis-major, with the
base activation as one more plane, ``[batch, (n + 1) * in] @ [(n + 1) * in,
out]`` against the weights ``scale_sp * coef`` and ``scale_base``. Memory
stays linear in ``batch * in * n``, no ``[batch, in, out, n]`` tensor is ever
built, and the features' derivative in ``x`` comes from one closed-form rule
(:func:`kanflow.basis.edge_features`), so the backward pass costs about one
more matmul, not a replay of the basis recursion.

Parameters (collection ``"params"``):
  ``coef [in, n, out]``, ``scale_base [in, out]``, ``scale_sp [in, out]``
  (and ``bias [out]`` with ``use_bias``).
Adaptive grids (B-spline): collection ``"grid"``, ``knots [in, G + 2k + 1]``,
moved between training phases by :mod:`kanflow.grid`.

Settings and initialisation: :class:`kanflow.layers.KANConfig` (pykan's
``scale_base = (mu + sigma * U(-1, 1)) / sqrt(in)``, ``scale_sp / sqrt(in)``,
coefficients ``N(0, noise_scale^2 / n)``; pykan fits uniform noise of similar size).
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp
from jax import Array

from kanflow.checks import as_int
from kanflow.layers.config import KANConfig

__all__ = ["KANLayer"]


class KANLayer(KANConfig):
    """KAN layer with pykan semantics over any registered basis.

    ``[..., in] -> [..., features]``.

    Attributes:
      features: output width.
      keyword-only: the edge function's settings, :class:`kanflow.layers.KANConfig`:
        ``basis``, ``grid_size``, ``order``, ``grid_range``, ``base_activation``,
        ``noise_scale``, ``scale_base_mu``, ``scale_base_sigma``, ``scale_sp``,
        ``use_bias``, ``param_dtype``.
    """

    features: int

    def __post_init__(self):
        object.__setattr__(self, "features", as_int(self.features, "features"))
        super().__post_init__()

    @property
    def num_basis(self) -> int:
        return self.space.num_basis()

    @nn.compact
    def __call__(self, x: Array, per_edge: bool = False, edge_mask: Array | None = None) -> Array:
        """``[..., in] -> [..., features]``; with ``per_edge`` the edge values
        ``phi_ij(x_i)`` unsummed, ``[..., in, features]`` (for plots and analysis).

        Edges can be switched off (pruned, or replaced by a formula) by a mask
        ``[in, features]`` of 0/1: the variable ``"mask"/"edges"`` when the
        variables hold one (:func:`kanflow.models.kan.prune` writes it), times
        ``edge_mask`` when given. A masked edge contributes nothing (its share
        ``bias / in`` of the bias stays)."""
        x = jnp.asarray(x)  # lists and NumPy arrays too
        if x.ndim < 1:
            raise ValueError(f"KANLayer expects inputs [..., in], got a scalar of shape {x.shape}")
        n_in, n_b, space = x.shape[-1], self.num_basis, self.space
        if self.has_variable("params", "coef"):
            expected = self.get_variable("params", "coef").shape[0]
            if expected != n_in:
                raise ValueError(
                    f"KANLayer {self.name!r} expects inputs [..., {expected}], got shape {x.shape}"
                )

        grid = None
        if space.spec.has_grid:
            if not self.is_initializing() and not self.has_variable("grid", "knots"):
                raise ValueError(
                    f"KANLayer {self.name!r} (basis {self.basis!r}) needs its 'grid' collection: "
                    "apply with all variables from init, e.g. model.apply(variables, x)"
                )
            grid = self.variable(
                "grid", "knots", lambda: space.init_grid(n_in, self.param_dtype)
            ).value

        coef = self._coefficients("coef", n_in, n_b, self.features)
        scale_sp = self._spline_scale(n_in, self.features)

        basis_dtype, dtype = self.compute_dtypes(x)
        grid = None if grid is None else grid.astype(basis_dtype)
        mask = self._mask(n_in, edge_mask)
        weight = coef * scale_sp[:, None, :]  # [in, n, out]
        if mask is not None:
            weight = weight * mask[:, None, :]
        if per_edge:
            feats = space.edge_features(x.astype(basis_dtype), grid).astype(dtype)  # [..., n, in]
            y = self._contract(feats, weight.astype(dtype), per_edge)
            return self._add_base_and_bias(y, x.astype(dtype), self.features, per_edge, mask)
        base = self.base_activation
        if base is not None:  # the base branch is plane n: one matmul for the layer
            scale_base = self._base_scale(n_in, self.features)
            scale_base = scale_base if mask is None else scale_base * mask
            weight = jnp.concatenate([weight, scale_base[:, None]], 1)
        feats = space.edge_features(x.astype(basis_dtype), grid, base).astype(dtype)
        y = self._contract(feats, weight.astype(dtype), per_edge)
        return self._add_bias(y, n_in, self.features, per_edge)

    def _mask(self, n_in: int, edge_mask: Array | None) -> Array | None:
        """The edge mask ``[in, features]`` (stored times given), or ``None``."""
        shape = (n_in, self.features)
        mask = None
        if self.has_variable("mask", "edges"):
            mask = jnp.asarray(self.get_variable("mask", "edges"))
            if mask.shape != shape:
                raise ValueError(
                    f"KANLayer {self.name!r}: variables['mask']['edges'] must be [in, out] = "
                    f"{list(shape)}, got {list(mask.shape)}"
                )
        if edge_mask is not None:
            edge_mask = jnp.asarray(edge_mask)
            if edge_mask.shape != shape:
                raise ValueError(
                    f"KANLayer {self.name!r}: edge_mask must be [in, out] = {list(shape)}, "
                    f"got {list(edge_mask.shape)}"
                )
            mask = edge_mask if mask is None else mask * edge_mask
        return None if mask is None else mask.astype(self.param_dtype)
