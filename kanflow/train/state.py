"""The train state: everything a step reads and writes, as one pytree."""

from __future__ import annotations

import functools
from typing import Any

import flax.struct
import jax
import jax.numpy as jnp
import optax
from jax import Array
from jax.flatten_util import ravel_pytree

from kanflow.train.optim import uses_linesearch

__all__ = ["TrainState", "create_state"]


@flax.struct.dataclass
class TrainState:
    """Step counter, trainable params, optimiser state, other model collections, RNG.

    Attributes:
      step: number of optimiser updates applied (int32 scalar).
      params: the trainable pytree (a model's ``variables["params"]``).
      opt_state: the optax state for ``params`` (for line-search optimisers,
        for ``params`` raveled into one vector; see ``uses_linesearch``).
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

    Built by one jit-compiled function, so every leaf is a fresh, strongly
    typed buffer (optimiser states may alias the params, and the train step
    donates its input state) and no op is dispatched eagerly.
    """

    return _build_state(optimizer, uses_linesearch(optimizer), seed)(
        params, {} if model_state is None else model_state
    )


@functools.lru_cache(maxsize=64)
def _build_state(optimizer: optax.GradientTransformation, flat: bool, seed: int):
    """A jitted state builder, cached per optimiser so restarts compile it once."""

    @jax.jit
    def build(params, model_state):
        state = TrainState(
            step=jnp.zeros((), jnp.int32),
            params=params,
            opt_state=optimizer.init(ravel_pytree(params)[0] if flat else params),
            model_state=model_state,
            rng=jax.random.PRNGKey(seed),
        )
        # strong types: a weak-typed scalar here (optax line-search info) would be
        # strong after one step and force the step to compile a second time
        return jax.tree.map(lambda a: jnp.asarray(a, dtype=a.dtype), state)

    return build
