"""kanflow: learnable-activation networks in JAX/Flax."""

from kanflow import (
    activations,
    attention,
    basis,
    data,
    grid,
    layers,
    models,
    pinn,
    plot,
    recipes,
    train,
)
from kanflow.models import count_params

__version__ = "0.1.0"
__all__ = [
    "activations",
    "attention",
    "basis",
    "count_params",
    "data",
    "grid",
    "layers",
    "models",
    "pinn",
    "plot",
    "recipes",
    "train",
]
