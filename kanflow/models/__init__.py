"""Models: KAN stack, MLP baseline, parameter counting."""

from kanflow.models.afkan import af_kan, relu_kan
from kanflow.models.common import count_params
from kanflow.models.kan import KAN
from kanflow.models.mlp import MLP
from kanflow.models.vit import ViT, vit
from kanflow.models.wavefunction import Wavefunction, wavefunction

__all__ = [
    "KAN",
    "MLP",
    "ViT",
    "Wavefunction",
    "af_kan",
    "count_params",
    "relu_kan",
    "vit",
    "wavefunction",
]
