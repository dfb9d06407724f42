"""Learnable activations and the glue that lets every model take any activation.

``[...] -> [...]`` element-wise (CRReLU, SeriesActivation, Dice) or
normalisation-activations (EvoNorm-B0/S0); all are ``flax.linen`` modules that
models accept through their ``activation`` field (see :mod:`.named`).
"""

from kanflow.activations.evonorm import EvoNormB0, EvoNormS0
from kanflow.activations.learnable import CRReLU, Dice, SeriesActivation
from kanflow.activations.named import NAMED, Activation, apply, build, resolve
from kanflow.activations.sparsity import TopK, activation_density

__all__ = [
    "NAMED",
    "Activation",
    "CRReLU",
    "Dice",
    "EvoNormB0",
    "EvoNormS0",
    "SeriesActivation",
    "TopK",
    "activation_density",
    "apply",
    "build",
    "resolve",
]
