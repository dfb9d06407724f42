"""Flax layers: KAN and its relatives."""

from kanflow.layers.afkan import BASIS_NORMS, REDUCTIONS, AFKANLayer, relu_kan_layer
from kanflow.layers.kan import KANLayer, validate_kan_config

__all__ = [
    "BASIS_NORMS",
    "REDUCTIONS",
    "AFKANLayer",
    "KANLayer",
    "relu_kan_layer",
    "validate_kan_config",
]
