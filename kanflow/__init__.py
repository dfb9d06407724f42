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
    symbolic,
    train,
)
from kanflow.models import count_params
from kanflow.saving import load, save

__version__ = "0.1.0"
__all__ = [
    "activations",
    "attention",
    "basis",
    "count_params",
    "load",
    "data",
    "grid",
    "layers",
    "models",
    "pinn",
    "plot",
    "recipes",
    "save",
    "symbolic",
    "train",
]
