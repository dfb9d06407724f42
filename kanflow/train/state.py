"""The train state: everything a step reads and writes, as one pytree."""

from __future__ import annotations

from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax
from jax import Array

__all__ = ["TrainState", "create_state"]


@flax.struct.dataclass
class TrainState:
    """Step counter, trainable params, optimiser state, other model collections, RNG.

    Attributes:
      step: number of optimiser updates applied (int32 scalar).
      params: the trainable pytree (a model's ``variables["params"]``).
      opt_state: the optax state for ``params``.
      model_state: non-trained collections (e.g. ``{"grid": ...}``); a loss may
        return new values through ``aux["model_state"]``.
      rng: a raw ``uint32[2]`` key; each step receives ``fold_in(rng, step)``.
    """

    step: Array
    params: Any
    opt_state: Any
    model_state: Any
    rng: Array


def create_state(
    params: Any, optimizer: optax.GradientTransformation, model_state: Any = None, seed: int = 0
) -> TrainState:
    """A fresh :class:`TrainState` at step 0.

    Every leaf is a fresh buffer (optimiser states may alias the params, and
    the jit-compiled step donates its input state).
    """
    state = TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        opt_state=optimizer.init(params),
        model_state={} if model_state is None else model_state,
        rng=jax.random.PRNGKey(seed),
    )
    return jax.tree.map(jnp.copy, state)
