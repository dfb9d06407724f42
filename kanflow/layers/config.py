"""The one description of a KAN edge function, shared by every module that builds KAN edges.

pykan's edge function is

    ``phi(x) = scale_base * b(x) + scale_sp * sum_c coef_c B_c(x)``  (+ ``bias / in`` per edge)

with ``B_c`` a basis from :mod:`kanflow.basis`. Its settings come in two parts:

* :class:`Space`: the basis and its settings (``basis``, ``grid_size``,
  ``order``, ``grid_range``). A frozen dataclass: an S-KAN pool is a tuple of
  them, and a KAN's :attr:`KANConfig.space` is one.
* :class:`EdgeParametrisation`: how an edge is parametrised and initialised
  (``base_activation``, ``noise_scale``, ``scale_base_mu``,
  ``scale_base_sigma``, ``scale_sp``, ``use_bias``, ``param_dtype``, ``dtype``), with the
  parameter builders that :class:`~kanflow.layers.KANLayer` and
  :class:`~kanflow.layers.SKANLayer` share.

:class:`KANConfig` is both. The KAN modules (``KANLayer``, ``KANConv``,
``KAN``, ``ConvNet``) *inherit* its fields (keyword-only), so every setting has
one name, one default and one validation across the API, and
``KAN(widths, basis="chebyshev", grid_size=4)`` reads as before. A
``KANConfig`` instance is also a plain configuration object (its ``__call__`` is
not defined): ``KAN(widths, **config.kan_settings())`` builds a model from it,
and every KAN module's ``kan_settings()`` gives back the settings it was built with.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import Array

from kanflow.basis import registry
from kanflow.checks import check_grid

__all__ = ["EdgeParametrisation", "KANConfig", "Space"]


@dataclasses.dataclass(frozen=True)
class Space:
    """A basis and its settings: the functions an edge is a combination of.

    Attributes:
      basis: a name from ``kanflow.basis.names()``.
      grid_size: G, number of grid intervals (or centres / frequencies).
      order: k, the spline degree (polynomial degree for polynomial bases).
      grid_range: the initial grid interval ``(lo, hi)``, finite, ``lo < hi``.
    """

    basis: str = "bspline"
    grid_size: int = 5
    order: int = 3
    grid_range: tuple[float, float] = (-1.0, 1.0)

    def __post_init__(self):
        registry.get(self.basis)  # a clear error for unknown names
        grid_size, order, grid_range = check_grid(self.grid_size, self.order, self.grid_range)
        object.__setattr__(self, "grid_size", grid_size)
        object.__setattr__(self, "order", order)
        object.__setattr__(self, "grid_range", grid_range)

    @property
    def spec(self) -> registry.BasisSpec:
        return registry.get(self.basis)

    def settings(self) -> dict[str, Any]:
        """The fields by name, e.g. ``KAN(widths, **space.settings())``."""
        return dataclasses.asdict(self)

    @property
    def label(self) -> str:
        """A short name: ``"bspline G5 k3"``, ``"chebyshev 4"``, ``"rbf G8"``."""
        spec = self.spec
        if spec.num_basis(1, 0) == spec.num_basis(1, 9):  # depends on G only
            return f"{self.basis} G{self.grid_size}"
        if spec.num_basis(1, 3) == spec.num_basis(9, 3):  # depends on k only
            return f"{self.basis} {self.order}"
        return f"{self.basis} G{self.grid_size} k{self.order}"

    def num_basis(self) -> int:
        """Functions per edge, ``n``."""
        return self.spec.num_basis(self.grid_size, self.order)

    def init_grid(self, n_in: int, dtype: Any = jnp.float32) -> Array | None:
        """The initial knots ``[n_in, K]`` of an adaptive basis; ``None`` for the others."""
        if not self.spec.has_grid:
            return None
        return self.spec.init_grid(n_in, self.grid_size, self.order, self.grid_range).astype(dtype)

    def features(self, x: Array, grid: Array | None = None) -> Array:
        """Basis values. ``[..., in] -> [..., in, n]`` (``grid``: the knots, default initial)."""
        if grid is None:
            grid = self.init_grid(x.shape[-1], x.dtype)
        return self.spec.evaluate(x, grid, self.grid_size, self.order, self.grid_range)

    def edge_features(
        self,
        x: Array,
        grid: Array | None = None,
        base_activation: Callable[[Array], Array] | None = None,
    ) -> Array:
        """Basis-major features with the fast derivative rule,
        ``[..., in] -> [..., n, in]`` (``[..., n + 1, in]`` with the elementwise
        ``base_activation`` as the last plane): :func:`kanflow.basis.edge_features`."""
        if grid is None:
            grid = self.init_grid(x.shape[-1], x.dtype)
        return registry.edge_features(
            self.spec, x, grid, self.grid_size, self.order, self.grid_range, base_activation
        )


class EdgeParametrisation(nn.Module, kw_only=True):
    """How an edge ``phi(x) = scale_base b(x) + scale_sp sum_c coef_c B_c(x)`` is parametrised.

    pykan's initialisation: ``scale_base = (mu + sigma U(-1, 1)) / sqrt(in)``,
    ``scale_sp = scale_sp / sqrt(in)``, coefficients ``N(0, noise_scale^2 / n)``.

    Attributes:
      base_activation: the residual ``b(x)``, an elementwise function (its
        derivative is taken pointwise); ``None`` drops it.
      noise_scale: size of the initial coefficients.
      scale_base_mu, scale_base_sigma: the base scale's initialisation.
      scale_sp: initial spline scale (times ``1 / sqrt(in)``).
      use_bias: a learnable bias per output (``bias / in`` per edge).
      param_dtype: dtype of the parameters.
      dtype: the compute dtype (flax's convention; e.g. ``jnp.bfloat16`` with
        float32 parameters); ``None`` promotes the input's and ``param_dtype``.
        The outputs have this dtype. Basis functions are evaluated in at least
        float32 and then cast (bfloat16 knot arithmetic loses the spline's shape).
    """

    base_activation: Callable[[Array], Array] | None = nn.silu
    noise_scale: float = 0.1
    scale_base_mu: float = 0.0
    scale_base_sigma: float = 1.0
    scale_sp: float = 1.0
    use_bias: bool = False
    param_dtype: Any = jnp.float32
    dtype: Any = None

    @nn.nowrap
    def compute_dtypes(self, x: Array) -> tuple[Any, Any]:
        """``(basis dtype, compute dtype)`` for an input ``x`` (see ``dtype``)."""
        if self.dtype is not None:
            compute = jnp.dtype(self.dtype)
        else:
            compute = jnp.result_type(x.dtype, self.param_dtype)
        return jnp.promote_types(compute, jnp.float32), compute

    @nn.nowrap
    def edge_settings(self) -> dict[str, Any]:
        """This module's :class:`EdgeParametrisation` fields, by name."""
        return _fields_of(self, EdgeParametrisation)

    def _coefficients(self, name: str, n_in: int, n_basis: int, cols: int) -> Array:
        """``coef [in, n, cols]``, ``N(0, noise_scale^2 / n)``."""
        std = self.noise_scale / math.sqrt(n_basis)
        pd = self.param_dtype
        return self.param(name, nn.initializers.normal(std, pd), (n_in, n_basis, cols), pd)

    def _spline_scale(self, n_in: int, n_out: int) -> Array:
        """``scale_sp [in, out]``, constant ``scale_sp / sqrt(in)``."""
        init = nn.initializers.constant(self.scale_sp / math.sqrt(n_in), self.param_dtype)
        return self.param("scale_sp", init, (n_in, n_out), self.param_dtype)

    def _base_scale(self, n_in: int, n_out: int) -> Array:
        """``scale_base [in, out]``, ``(mu + sigma U(-1, 1)) / sqrt(in)``."""
        pd = self.param_dtype

        def init_scale_base(key, shape, dtype=pd):
            u = jax.random.uniform(key, shape, dtype, -1.0, 1.0)
            return (self.scale_base_mu + self.scale_base_sigma * u) / math.sqrt(n_in)

        return self.param("scale_base", init_scale_base, (n_in, n_out), pd)

    @staticmethod
    def _contract(feats: Array, weight: Array, per_edge: bool) -> Array:
        """Basis-major features ``[..., n, in]`` against ``weight [in, n, out]``:
        ``[..., out]`` as one matmul, or per edge ``[..., in, out]``."""
        if per_edge:
            return jnp.einsum("...ci,ico->...io", feats, weight)
        w = jnp.swapaxes(weight, 0, 1)  # [n, in, out], as feats
        rows = w.shape[0] * w.shape[1]
        return feats.reshape(*feats.shape[:-2], rows) @ w.reshape(rows, w.shape[-1])

    def _add_bias(self, y: Array, n_in: int, n_out: int, per_edge: bool) -> Array:
        """``y + bias`` (``bias / in`` per edge: the edges sum to the layer output)."""
        if not self.use_bias:
            return y
        bias = self.param("bias", nn.initializers.zeros_init(), (n_out,), self.param_dtype)
        bias = bias.astype(y.dtype)
        return y + (bias / n_in if per_edge else bias)

    def _add_base_and_bias(
        self, y: Array, x: Array, n_out: int, per_edge: bool, mask: Array | None = None
    ) -> Array:
        """``y + b(x) @ scale_base (+ bias)``; per edge ``[..., in, out]`` when ``per_edge``.
        ``mask [in, out]`` multiplies ``scale_base`` (masked edges have no base branch)."""
        n_in = x.shape[-1]
        if self.base_activation is not None:
            scale_base = self._base_scale(n_in, n_out)
            scale_base = (scale_base if mask is None else scale_base * mask).astype(y.dtype)
            b = self.base_activation(x)
            y = y + (b[..., None] * scale_base if per_edge else b @ scale_base)
        return self._add_bias(y, n_in, n_out, per_edge)


class KANConfig(EdgeParametrisation, kw_only=True):
    """A KAN edge function: its :class:`Space` and its :class:`EdgeParametrisation`.

    Attributes:
      basis, grid_size, order, grid_range: the :class:`Space` (same defaults).
      (and the :class:`EdgeParametrisation` fields.)

    Example:
      >>> import kanflow as kf
      >>> cfg = kf.layers.KANConfig(basis="rbf", grid_size=8, scale_sp=0.5)
      >>> kan = kf.models.KAN((2, 4, 1), **cfg.kan_settings())
      >>> net = kf.models.ConvNet(10, conv="kan", **cfg.kan_settings())
      >>> kan.layer(0).kan_settings() == net.block(0).kan_settings() == cfg.kan_settings()
      True
      >>> cfg.space.label
      'rbf G8'
    """

    basis: str = Space.basis
    grid_size: int = Space.grid_size
    order: int = Space.order
    grid_range: tuple[float, float] = Space.grid_range

    def __post_init__(self):
        self.space  # noqa: B018 - validates the basis settings with a clear error
        super().__post_init__()

    @property
    def space(self) -> Space:
        """The basis part, as a :class:`Space`."""
        return Space(self.basis, self.grid_size, self.order, self.grid_range)

    @nn.nowrap
    def kan_settings(self) -> dict[str, Any]:
        """This module's :class:`KANConfig` fields, by name (to build another KAN module)."""
        return _fields_of(self, KANConfig)


def _fields_of(module: nn.Module, cls: type) -> dict[str, Any]:
    names = [f.name for f in dataclasses.fields(cls) if f.name not in ("parent", "name")]
    return {n: getattr(module, n) for n in names}
