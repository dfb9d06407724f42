"""kanflow: learnable-activation networks in JAX/Flax."""

from kanflow import basis, data, grid, layers, models, train
from kanflow.models import count_params

__version__ = "0.1.0"
__all__ = ["basis", "data", "count_params", "grid", "layers", "models", "train"]
