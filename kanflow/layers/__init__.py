"""Flax layers: KAN and its relatives."""

from kanflow.layers.afkan import BASIS_NORMS, REDUCTIONS, AFKANLayer, relu_kan_layer
from kanflow.layers.conv import KANConv, SKANConv, extract_patches
from kanflow.layers.kan import KANLayer, validate_kan_config
from kanflow.layers.skan import (
    DEFAULT_SPACES,
    SKANLayer,
    Space,
    keep_inputs,
    keep_nodes,
    select_spaces,
)

__all__ = [
    "BASIS_NORMS",
    "DEFAULT_SPACES",
    "REDUCTIONS",
    "AFKANLayer",
    "KANConv",
    "KANLayer",
    "SKANConv",
    "SKANLayer",
    "Space",
    "extract_patches",
    "keep_inputs",
    "keep_nodes",
    "relu_kan_layer",
    "select_spaces",
    "validate_kan_config",
]
