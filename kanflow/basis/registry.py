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

Layers evaluate a basis through :func:`edge_features`: the basis values in the
basis-major layout ``[..., n, in]`` (each basis function one contiguous plane,
which is what makes the evaluation fuse into a few fast loops), optionally with
the base activation ``b(x)`` as one more plane so that the spline and the base
branch are one matmul. Its derivative in ``x`` is one ``custom_jvp`` rule for
every basis: ``d features = features'(x) * dx``, with ``features'(x)`` from the
basis's own ``value_and_derivative`` (B-splines: the closed form) or, by
default, from forward-mode differentiation of its elementwise ``evaluate``.
Autodiff then stores one derivative array instead of replaying the basis's
intermediates, and higher derivatives stay exact (the rule is differentiable).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import Array

from kanflow.basis import local as _local
from kanflow.basis import periodic as _periodic
from kanflow.basis import polynomial as _poly
from kanflow.basis.bspline import bspline, bspline_value_and_derivative, uniform_knots
from kanflow.checks import check_grid

__all__ = ["BasisSpec", "edge_features", "register", "get", "names"]

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
      value_and_derivative: optionally, ``(x, grid, grid_size, order, grid_range)
        -> (values, d values / dx)``, both basis-major ``[..., n, in]``, cheaper
        than the default (forward-mode differentiation of ``evaluate``).
        It must itself be differentiable in ``x`` (for higher derivatives).
    """

    name: str
    num_basis: Callable[[int, int], int]
    evaluate: Callable[..., Array]
    init_grid: Callable[..., Array] | None = None
    description: str = ""
    value_and_derivative: Callable[..., tuple[Array, Array]] | None = None

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


def edge_features(
    spec: BasisSpec,
    x: Array,
    grid: Array | None,
    grid_size: int,
    order: int,
    grid_range: GridRange,
    base_activation: Callable[[Array], Array] | None = None,
) -> Array:
    """A layer's basis features, basis-major, with one custom derivative rule.

    Args:
      spec: the basis.
      x: layer inputs ``[..., in]``.
      grid: the knots ``[in, K]`` of an adaptive basis, else ``None``.
      grid_size, order, grid_range: the basis settings.
      base_activation: an elementwise ``b(x)``; when given, ``b(x)`` is
        appended as plane ``n`` (so ``y = features @ weights`` includes the
        base branch).

    Returns:
      ``[..., n, in]`` (``[..., n + 1, in]`` with ``base_activation``), the same
      values as ``spec.evaluate`` (transposed) with exact derivatives of any order.
    """
    return _edge_features(spec, grid_size, order, grid_range, base_activation, x, grid)


def _plain_features(spec, g, k, r, base, x, grid):
    """The features by direct evaluation (the reference the rule must agree with)."""
    value = jnp.swapaxes(spec.evaluate(x, grid, g, k, r), -1, -2)
    return value if base is None else _append_plane(value, base(x))


def _append_plane(planes: Array, plane: Array) -> Array:
    """``[..., n, in]`` and ``[..., in]`` -> ``[..., n + 1, in]``."""
    return jnp.concatenate([planes, plane[..., None, :].astype(planes.dtype)], axis=-2)


def _value_and_derivative(spec, g, k, r, base, x, grid):
    if spec.value_and_derivative is not None:
        value, deriv = spec.value_and_derivative(x, grid, g, k, r)
    else:  # every basis is elementwise in x: a ones tangent gives the derivative
        plain = lambda x: jnp.swapaxes(spec.evaluate(x, grid, g, k, r), -1, -2)
        value, deriv = jax.jvp(plain, (x,), (jnp.ones_like(x),))
    if base is not None:
        b, db = jax.jvp(base, (x,), (jnp.ones_like(x),))
        value, deriv = _append_plane(value, b), _append_plane(deriv, db)
    return value, deriv


@functools.partial(jax.custom_jvp, nondiff_argnums=(0, 1, 2, 3, 4))
def _edge_features(spec, g, k, r, base, x, grid):
    return _plain_features(spec, g, k, r, base, x, grid)


@functools.partial(_edge_features.defjvp, symbolic_zeros=True)
def _edge_features_jvp(spec, g, k, r, base, primals, tangents):
    x, grid = primals
    dx, dgrid = tangents
    zero = jax.custom_derivatives.SymbolicZero
    if grid is not None and not isinstance(dgrid, zero):  # knots moving: plain autodiff
        dx = jnp.zeros_like(x) if isinstance(dx, zero) else dx
        return jax.jvp(
            lambda x, grid: _plain_features(spec, g, k, r, base, x, grid), (x, grid), (dx, dgrid)
        )
    value, deriv = _value_and_derivative(spec, g, k, r, base, x, grid)
    if isinstance(dx, zero):
        return value, jnp.zeros_like(value)
    return value, deriv * dx[..., None, :]


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
        value_and_derivative=lambda x, grid, g, k, r: bspline_value_and_derivative(
            x, grid, k, axis=-2
        ),
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
        value_and_derivative=lambda x, grid, g, k, r: _periodic.fourier_value_and_derivative(x, g),
    )
)


def _centre_spec(
    name: str, fn: Callable[[Array, Array, float], Array], doc: str, value_and_derivative=None
) -> BasisSpec:
    def evaluate(x, grid, g, k, r):
        centers, width = _local.uniform_centers(g, r)
        return fn(x, centers.astype(x.dtype), width)

    return BasisSpec(
        name,
        num_basis=lambda g, k: g,
        evaluate=evaluate,
        description=doc,
        value_and_derivative=value_and_derivative,
    )


register(_centre_spec("rbf", _local.gaussian_rbf, "Gaussian RBF on G centres (fast-kan)"))
register(_centre_spec("rswaf", _local.rswaf, "reflectional switch 1 - tanh^2 (faster-kan)"))
register(_centre_spec("mexican_hat", _local.mexican_hat, "Mexican-hat wavelets (Wav-KAN)"))
register(
    _centre_spec(
        "morlet",
        _local.morlet,
        "Morlet wavelets (Wav-KAN)",
        lambda x, grid, g, k, r: _local.morlet_uniform_value_and_derivative(x, g, r),
    )
)
register(_centre_spec("dog", _local.dog, "derivative-of-Gaussian wavelets (Wav-KAN)"))
register(
    _centre_spec(
        "meyer",
        _local.meyer,
        "Meyer-type wavelets, support [-1, 1] (Wav-KAN)",
        lambda x, grid, g, k, r: _local.meyer_uniform_value_and_derivative(x, g, r),
    )
)
register(
    _centre_spec(
        "shannon",
        _local.shannon,
        "real Shannon wavelets 2 sinc(2t) - sinc(t)",
        lambda x, grid, g, k, r: _local.shannon_uniform_value_and_derivative(x, g, r),
    )
)


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
