"""kanflow: learnable-activation networks in JAX/Flax."""

from kanflow import basis, grid, layers, models, train
from kanflow.models import count_params

__version__ = "0.1.0"
__all__ = ["basis", "count_params", "grid", "layers", "models", "train"]
