"""kanflow: learnable-activation networks in JAX/Flax."""

from kanflow import basis

__version__ = "0.1.0"
__all__ = ["basis"]
