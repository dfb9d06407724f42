"""Registry of bases by name, with how a KAN layer evaluates each one.

A :class:`BasisSpec` says how many functions a basis gives for a layer's
``(grid_size, order)`` and evaluates them on a layer input ``[..., in]`` as
``[..., in, n]``. Conventions (each a documented choice):

==============  ==========================  ====================================
name            functions per edge          layer input handling
==============  ==========================  ====================================
bspline         ``grid_size + order``        adaptive per-input knots (pykan)
chebyshev       ``order + 1`` (degree k)     ``tanh(x)`` into ``[-1, 1]`` (ChebyKAN)
legendre        ``order + 1``                ``tanh(x)``
gram            ``order + 1``                ``tanh(x)``
jacobi          ``order + 1`` (a = b = 1)    ``tanh(x)``
fourier         ``2 * grid_size``            raw ``x`` (FourierKAN)
rbf             ``grid_size`` centres        centres span ``grid_range`` (fast-kan)
rswaf           ``grid_size`` centres        as rbf (faster-kan)
mexican_hat     ``grid_size`` centres        as rbf (Wav-KAN mother wavelets)
morlet          ``grid_size`` centres        as rbf
dog             ``grid_size`` centres        as rbf
meyer           ``grid_size`` centres        as rbf (Wav-KAN's Meyer construction)
shannon         ``grid_size`` centres        as rbf (real Shannon wavelet)
relu_kan        ``grid_size + order``        bumps ``s_i = lo + i h``, ``i = -k .. G-1``,
                                             ``e_i = s_i + (k + 1) h``, ``h = (hi-lo)/G``
==============  ==========================  ====================================

Only ``bspline`` carries an adaptive grid (``has_grid``): its knots live in
the layer's ``"grid"`` variable collection and are moved by
:mod:`kanflow.grid`. Register a new basis with :func:`register`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import jax.numpy as jnp
from jax import Array

from kanflow.basis import local as _local
from kanflow.basis import periodic as _periodic
from kanflow.basis import polynomial as _poly
from kanflow.basis.bspline import bspline, uniform_knots
from kanflow.checks import check_grid

__all__ = ["BasisSpec", "register", "get", "names"]

GridRange = tuple[float, float]


@dataclasses.dataclass(frozen=True)
class BasisSpec:
    """How a KAN layer uses one basis.

    Attributes:
      name: registry name.
      num_basis: ``(grid_size, order) -> n`` functions per edge.
      evaluate: ``(x [..., in], grid [in, K] | None, grid_size, order, grid_range)
        -> [..., in, n]``.
      init_grid: for adaptive bases, ``(in_features, grid_size, order, grid_range)
        -> [in, K]``; ``None`` for bases with a fixed grid.
      description: one line for listings.
    """

    name: str
    num_basis: Callable[[int, int], int]
    evaluate: Callable[..., Array]
    init_grid: Callable[..., Array] | None = None
    description: str = ""

    @property
    def has_grid(self) -> bool:
        return self.init_grid is not None


_REGISTRY: dict[str, BasisSpec] = {}


def register(spec: BasisSpec, *, overwrite: bool = False) -> BasisSpec:
    """Adds ``spec`` to the registry under ``spec.name``."""
    if spec.name in _REGISTRY and not overwrite:
        raise ValueError(f"basis {spec.name!r} is already registered (pass overwrite=True)")
    _REGISTRY[spec.name] = spec
    return spec


def get(name: str) -> BasisSpec:
    """The spec registered as ``name``; a ``ValueError`` lists the known names."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown basis {name!r}; known bases: {', '.join(names())}") from None


def names() -> list[str]:
    """Every registered basis name, sorted."""
    return sorted(_REGISTRY)


# ---------------------------------------------------------------- built-ins


def _bspline_grid(in_features: int, grid_size: int, order: int, grid_range: GridRange) -> Array:
    knots = uniform_knots(grid_size, order, grid_range)
    return jnp.tile(knots, (in_features, 1))


register(
    BasisSpec(
        "bspline",
        num_basis=lambda g, k: g + k,
        evaluate=lambda x, grid, g, k, r: bspline(x, grid, k),
        init_grid=_bspline_grid,
        description="B-spline of degree k on G spans (pykan)",
    )
)


def _poly_spec(name: str, fn: Callable[[Array, int], Array], doc: str) -> BasisSpec:
    return BasisSpec(
        name,
        num_basis=lambda g, k: k + 1,
        evaluate=lambda x, grid, g, k, r: fn(jnp.tanh(x), k),
        description=doc,
    )


register(_poly_spec("chebyshev", _poly.chebyshev, "Chebyshev T_0..T_k of tanh(x) (ChebyKAN)"))
register(_poly_spec("legendre", _poly.legendre, "Legendre P_0..P_k of tanh(x)"))
register(_poly_spec("gram", _poly.gram, "Gram polynomials of tanh(x) (GRAM-KAN)"))
register(_poly_spec("jacobi", _poly.jacobi, "Jacobi P^(1,1)_0..k of tanh(x)"))
register(
    BasisSpec(
        "fourier",
        num_basis=lambda g, k: 2 * g,
        evaluate=lambda x, grid, g, k, r: _periodic.fourier(x, g),
        description="cos(m x), sin(m x), m = 1..G (FourierKAN)",
    )
)


def _centre_spec(name: str, fn: Callable[[Array, Array, float], Array], doc: str) -> BasisSpec:
    def evaluate(x, grid, g, k, r):
        centers, width = _local.uniform_centers(g, r)
        return fn(x, centers.astype(x.dtype), width)

    return BasisSpec(name, num_basis=lambda g, k: g, evaluate=evaluate, description=doc)


register(_centre_spec("rbf", _local.gaussian_rbf, "Gaussian RBF on G centres (fast-kan)"))
register(_centre_spec("rswaf", _local.rswaf, "reflectional switch 1 - tanh^2 (faster-kan)"))
register(_centre_spec("mexican_hat", _local.mexican_hat, "Mexican-hat wavelets (Wav-KAN)"))
register(_centre_spec("morlet", _local.morlet, "Morlet wavelets (Wav-KAN)"))
register(_centre_spec("dog", _local.dog, "derivative-of-Gaussian wavelets (Wav-KAN)"))
register(_centre_spec("meyer", _local.meyer, "Meyer-type wavelets, support [-1, 1] (Wav-KAN)"))
register(_centre_spec("shannon", _local.shannon, "real Shannon wavelets 2 sinc(2t) - sinc(t)"))


def relu_kan_grid(grid_size: int, order: int, grid_range: GridRange) -> tuple[Array, Array]:
    """ReLU-KAN's starts and ends, ``[grid_size + order]`` each."""
    grid_size, order, (lo, hi) = check_grid(grid_size, order, grid_range)
    h = (hi - lo) / grid_size
    starts = lo + h * jnp.arange(-order, grid_size)
    return starts, starts + (order + 1) * h


def _relu_kan_eval(x, grid, g, k, r):
    starts, ends = relu_kan_grid(g, k, r)
    return _local.relu_kan(x, starts, ends)


register(
    BasisSpec(
        "relu_kan",
        num_basis=lambda g, k: g + k,
        evaluate=_relu_kan_eval,
        description="ReLU-KAN squared ReLU bumps",
    )
)
