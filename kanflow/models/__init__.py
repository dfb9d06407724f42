"""Models: KAN stack, MLP baseline, parameter counting."""

from kanflow.models.common import count_params
from kanflow.models.kan import KAN
from kanflow.models.mlp import MLP
from kanflow.models.wavefunction import Wavefunction, wavefunction

__all__ = ["KAN", "MLP", "Wavefunction", "count_params", "wavefunction"]
