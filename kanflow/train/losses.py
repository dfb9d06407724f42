"""Loss-function builders.

A loss function has the signature
``loss_fn(params, model_state, batch, rng) -> (loss, aux)`` where ``aux`` is a
dict of scalar metrics; an optional ``aux["model_state"]`` replaces the
state's non-trained collections (e.g. batch statistics).
"""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax.numpy as jnp
import optax

__all__ = ["supervised_loss", "rmse"]


def rmse(pred, target) -> jnp.ndarray:
    """Root mean squared error over all elements."""
    return jnp.sqrt(jnp.mean((pred - target) ** 2))


def supervised_loss(
    model: nn.Module, loss: str = "mse", x_key: str = "x", y_key: str = "y"
) -> Callable:
    """``loss_fn`` for ``model.apply(variables, batch[x_key])`` against ``batch[y_key]``.

    Args:
      model: a linen module.
      loss: ``"mse"`` (regression; aux reports ``rmse``) or ``"cross_entropy"``
        (integer labels; aux reports ``accuracy``).
    """
    if loss not in ("mse", "cross_entropy"):
        raise ValueError(f"loss must be 'mse' or 'cross_entropy', got {loss!r}")

    def loss_fn(params, model_state, batch, rng):
        del rng
        pred = model.apply({"params": params, **model_state}, batch[x_key])
        target = batch[y_key]
        if loss == "mse":
            mse = jnp.mean((pred - target.reshape(pred.shape)) ** 2)
            return mse, {"rmse": jnp.sqrt(mse)}
        ce = optax.softmax_cross_entropy_with_integer_labels(pred, target).mean()
        return ce, {"accuracy": jnp.mean(jnp.argmax(pred, -1) == target)}

    return loss_fn
