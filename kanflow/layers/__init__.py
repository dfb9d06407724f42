"""Flax layers: KAN and its relatives."""

from kanflow.layers.kan import KANLayer, validate_kan_config

__all__ = ["KANLayer", "validate_kan_config"]
