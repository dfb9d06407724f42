"""Pure basis functions (``x -> features``) and their registry.

Every function here is a plain ``jnp`` function: it broadcasts over leading
axes and is safe under ``jit``, ``grad`` and ``vmap``.
"""

from kanflow.basis.bspline import bspline, bspline_value_and_derivative, uniform_knots
from kanflow.basis.local import (
    COMBINATIONS,
    af_kan,
    dog,
    gaussian_rbf,
    mexican_hat,
    meyer,
    meyer_uniform_value_and_derivative,
    morlet,
    morlet_uniform_value_and_derivative,
    relu_kan,
    rswaf,
    shannon,
    shannon_uniform_value_and_derivative,
    uniform_centers,
)
from kanflow.basis.periodic import fourier, fourier_value_and_derivative
from kanflow.basis.polynomial import chebyshev, gram, jacobi, legendre
from kanflow.basis.registry import (
    BasisSpec,
    edge_features,
    get,
    names,
    register,
    relu_kan_grid,
)

__all__ = [
    "COMBINATIONS",
    "BasisSpec",
    "af_kan",
    "bspline",
    "bspline_value_and_derivative",
    "chebyshev",
    "dog",
    "edge_features",
    "fourier",
    "fourier_value_and_derivative",
    "gaussian_rbf",
    "get",
    "gram",
    "jacobi",
    "legendre",
    "meyer",
    "mexican_hat",
    "morlet",
    "morlet_uniform_value_and_derivative",
    "meyer_uniform_value_and_derivative",
    "shannon_uniform_value_and_derivative",
    "names",
    "register",
    "relu_kan",
    "relu_kan_grid",
    "rswaf",
    "shannon",
    "uniform_centers",
    "uniform_knots",
]
