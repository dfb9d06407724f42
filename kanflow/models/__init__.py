"""Models: KAN stack, MLP baseline, S-KAN, AF-KAN / ReLU-KAN, ViT, parameter counting.

S-KAN stage operations: ``kanflow.models.skan.select`` / ``.prune`` / ``.chosen_spaces``.
"""

from kanflow.models.afkan import af_kan, relu_kan
from kanflow.models.common import count_params
from kanflow.models.convnet import ConvNet, prune_conv, select_conv
from kanflow.models.kan import KAN
from kanflow.models.mlp import MLP
from kanflow.models.skan import SKAN
from kanflow.models.vit import ViT, vit
from kanflow.models.wavefunction import Wavefunction, wavefunction

__all__ = [
    "ConvNet",
    "KAN",
    "MLP",
    "SKAN",
    "ViT",
    "Wavefunction",
    "af_kan",
    "count_params",
    "prune_conv",
    "relu_kan",
    "select_conv",
    "vit",
    "wavefunction",
]
