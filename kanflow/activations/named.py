"""Fixed activation functions by name, and the glue that lets models take any activation.

A model's ``activation`` field may be

* a name from :data:`NAMED` (``"relu"``, ``"gelu"``, ``"silu"``, ...),
* any function ``x -> y`` (``jax.nn.relu``, a lambda, ...), or
* a learnable activation: a ``flax.linen.Module`` class such as
  ``kf.activations.CRReLU`` or a ``functools.partial`` of one
  (``partial(kf.activations.SeriesActivation, n=4)``): every layer then gets
  its own instance with its own parameters.

:func:`build` turns any of these into a module inside a model's ``compact``
method; :func:`apply` calls it, passing ``train`` to the modules that need
to know (those with ``needs_train = True``: Dice, EvoNorm-B0).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
from jax import Array

__all__ = ["NAMED", "Activation", "apply", "build", "resolve"]

NAMED: dict[str, Callable[[Array], Array]] = {
    "relu": jax.nn.relu,
    "gelu": jax.nn.gelu,
    "silu": jax.nn.silu,
    "swish": jax.nn.silu,
    "tanh": jax.nn.tanh,
    "sigmoid": jax.nn.sigmoid,
    "softplus": jax.nn.softplus,
    "elu": jax.nn.elu,
    "selu": jax.nn.selu,
    "leaky_relu": jax.nn.leaky_relu,
    "identity": lambda x: x,
}


def resolve(activation: str | Callable[[Array], Array]) -> Callable[[Array], Array]:
    """A fixed activation function from a name in :data:`NAMED` or a callable."""
    if isinstance(activation, str):
        if activation not in NAMED:
            raise ValueError(
                f"unknown activation {activation!r}; expected one of {sorted(NAMED)} or a callable"
            )
        return NAMED[activation]
    if not callable(activation):
        raise ValueError(f"activation must be a name or a callable, got {activation!r}")
    return activation


class Activation(nn.Module):
    """A parameter-free activation as a module (so probes can find its outputs).

    ``[...] -> [...]``.
    """

    fn: Callable[[Array], Array]
    is_activation = True
    needs_train = False

    def __call__(self, x: Array) -> Array:
        return self.fn(x)


def _is_module_factory(obj: Any) -> bool:
    cls = _class_of(obj)
    return isinstance(cls, type) and issubclass(cls, nn.Module)


def _sets(factory: Any, field: str) -> bool:
    """Whether a ``functools.partial`` of a module class already fixes ``field``."""
    while isinstance(factory, functools.partial):
        if field in factory.keywords:
            return True
        factory = factory.func
    return False


def _class_of(factory: Any) -> Any:
    """What a (nested) ``functools.partial`` wraps; ``factory`` itself otherwise."""
    while isinstance(factory, functools.partial):
        factory = factory.func
    return factory


def build(activation: Any, name: str | None = None, param_dtype: Any = None) -> nn.Module:
    """A fresh activation module for one layer (call inside ``nn.compact``).

    ``param_dtype`` (the layer's) reaches a learnable activation that has such a
    field, unless a ``functools.partial`` of it already sets one.
    """
    if _is_module_factory(activation):
        fields = getattr(_class_of(activation), "__dataclass_fields__", {})
        if (
            param_dtype is not None
            and "param_dtype" in fields
            and not _sets(activation, "param_dtype")
        ):
            return activation(name=name, param_dtype=param_dtype)
        return activation(name=name)
    if isinstance(activation, nn.Module):
        raise ValueError(
            "pass a learnable activation as its class or a functools.partial of it "
            f"(each layer needs its own instance), got the instance {activation!r}"
        )
    return Activation(resolve(activation), name=name)


def apply(module: nn.Module, x: Array, train: bool) -> Array:
    """Calls an activation module, passing ``train`` only to those that take it."""
    if getattr(module, "needs_train", False):
        return module(x, train=train)
    return module(x)
