"""Optimiser factories: Adam/AdamW with schedules and clipping, and L-BFGS."""

from __future__ import annotations

import math
from numbers import Real

import jax
import jax.numpy as jnp
import optax

__all__ = ["make_optimizer", "make_schedule", "uses_linesearch"]


def _check_learning_rate(learning_rate) -> None:
    """A number must be finite and > 0 (a negative one would train as gradient ascent)."""
    if isinstance(learning_rate, jax.core.Tracer):
        return
    if not isinstance(learning_rate, Real) and jnp.ndim(learning_rate) == 0:
        learning_rate = float(learning_rate)  # a concrete 0-d array (NumPy or JAX)
    if isinstance(learning_rate, Real) and not (math.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")


def uses_linesearch(optimizer: optax.GradientTransformation) -> bool:
    """Whether ``optimizer`` keeps a line-search state (L-BFGS and friends).

    Such optimisers need ``value_fn`` at every update, and kanflow runs them
    on the params raveled into one vector (:func:`jax.flatten_util.ravel_pytree`):
    one array instead of many small leaves makes their step several times
    cheaper to compile.
    """
    kinds = (optax.ScaleByZoomLinesearchState, optax.ScaleByBacktrackingLinesearchState)
    state = jax.eval_shape(optimizer.init, jnp.zeros(1))
    leaves = jax.tree_util.tree_leaves(state, is_leaf=lambda s: isinstance(s, kinds))
    return any(isinstance(s, kinds) for s in leaves)


def make_schedule(
    learning_rate: float,
    schedule: str = "constant",
    steps: int | None = None,
    warmup_steps: int = 0,
    end_value: float = 0.0,
    decay_rate: float = 0.8,
    transition_steps: int = 1,
) -> optax.Schedule:
    """A learning-rate schedule by name.

    ``"constant"``, ``"cosine"`` (warm-up then cosine to ``end_value`` at
    ``steps``) or ``"exponential"`` (times ``decay_rate`` every
    ``transition_steps``, staircase).
    """
    _check_learning_rate(learning_rate)
    if warmup_steps < 0:
        raise ValueError(f"warmup_steps must be >= 0, got {warmup_steps}")
    if schedule == "constant":
        if warmup_steps:
            return optax.join_schedules(
                [
                    optax.linear_schedule(0.0, learning_rate, warmup_steps),
                    optax.constant_schedule(learning_rate),
                ],
                [warmup_steps],
            )
        return optax.constant_schedule(learning_rate)
    if schedule == "cosine":
        if not end_value >= 0:
            raise ValueError(f"end_value must be >= 0, got {end_value!r}")
        if not steps or steps <= warmup_steps:
            raise ValueError(f"cosine schedule needs steps > warmup_steps, got steps={steps}")
        return optax.warmup_cosine_decay_schedule(
            0.0, learning_rate, warmup_steps, steps, end_value
        )
    if schedule == "exponential":
        if not 0 < decay_rate <= 1 or transition_steps < 1:  # optax: 0 steps = constant
            raise ValueError(
                "decay_rate must be in (0, 1] and transition_steps >= 1, "
                f"got {decay_rate!r} and {transition_steps!r}"
            )
        return optax.exponential_decay(
            learning_rate,
            transition_steps,
            decay_rate,
            transition_begin=warmup_steps,
            staircase=True,
        )
    raise ValueError(f"schedule must be 'constant', 'cosine' or 'exponential', got {schedule!r}")


def make_optimizer(
    name: str = "adam",
    learning_rate: float | optax.Schedule | None = None,
    *,
    weight_decay: float = 0.0,
    grad_clip: float | None = None,
    memory_size: int = 10,
) -> optax.GradientTransformationExtraArgs:
    """An optax optimiser by name: ``"adam"``, ``"adamw"``, ``"sgd"`` or ``"lbfgs"``.

    ``learning_rate=None`` means 1e-3 for the first-order optimisers and a pure
    zoom line search for L-BFGS (a value there scales the step).
    :func:`kanflow.train.make_train_step` feeds L-BFGS the value function it
    needs.
    """
    if learning_rate is not None and not callable(learning_rate):
        _check_learning_rate(learning_rate)
    if grad_clip is not None and not grad_clip > 0:  # 0 freezes training, < 0 reverses it
        raise ValueError(f"grad_clip must be > 0 or None, got {grad_clip!r}")
    if weight_decay and name != "adamw":
        raise ValueError(f"weight_decay is only used by 'adamw', not by {name!r}")
    if not weight_decay >= 0:
        raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
    if name == "lbfgs":
        opt = optax.lbfgs(learning_rate=learning_rate, memory_size=memory_size)
        if grad_clip is not None:
            raise ValueError(
                "grad_clip is not supported with lbfgs (it would break the line search)"
            )
        return optax.with_extra_args_support(opt)
    learning_rate = 1e-3 if learning_rate is None else learning_rate
    if name == "adam":
        opt = optax.adam(learning_rate)
    elif name == "adamw":
        opt = optax.adamw(learning_rate, weight_decay=weight_decay)
    elif name == "sgd":
        opt = optax.sgd(learning_rate, momentum=0.9)
    else:
        raise ValueError(f"optimizer must be 'adam', 'adamw', 'sgd' or 'lbfgs', got {name!r}")
    if grad_clip is not None:
        opt = optax.chain(optax.clip_by_global_norm(grad_clip), opt)
    return optax.with_extra_args_support(opt)
