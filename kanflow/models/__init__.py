"""Models: KAN stack, MLP baseline, parameter counting."""

from kanflow.models.common import count_params
from kanflow.models.kan import KAN
from kanflow.models.mlp import MLP

__all__ = ["KAN", "MLP", "count_params"]
