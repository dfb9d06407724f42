"""Flax layers: KAN and its relatives, and the one KAN edge configuration."""

from kanflow.layers.afkan import BASIS_NORMS, REDUCTIONS, AFKANLayer, relu_kan_layer
from kanflow.layers.capture import edge_scores, layer_inputs, map_layers
from kanflow.layers.config import EdgeParametrisation, KANConfig, Space
from kanflow.layers.conv import KANConv, SKANConv, extract_patches
from kanflow.layers.kan import KANLayer
from kanflow.layers.pruning import live_nodes
from kanflow.layers.skan import (
    DEFAULT_SPACES,
    SKANLayer,
    keep_inputs,
    keep_nodes,
    refit_selected,
    select_spaces,
)

__all__ = [
    "BASIS_NORMS",
    "DEFAULT_SPACES",
    "REDUCTIONS",
    "AFKANLayer",
    "EdgeParametrisation",
    "KANConfig",
    "KANConv",
    "KANLayer",
    "SKANConv",
    "SKANLayer",
    "Space",
    "edge_scores",
    "extract_patches",
    "keep_inputs",
    "keep_nodes",
    "layer_inputs",
    "live_nodes",
    "map_layers",
    "relu_kan_layer",
    "refit_selected",
    "select_spaces",
]
