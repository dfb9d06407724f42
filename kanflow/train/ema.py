"""Exponential moving average of the parameters, as an optax transformation.

``optax.chain(optimizer, track_ema(0.99992))`` leaves the updates unchanged
and keeps ``ema = decay * ema + (1 - decay) * (params + updates)`` in its
state, so the average follows the parameters after every step inside the
same compiled train step (and is checkpointed with the optimiser state).
:func:`ema_params` reads it back for evaluation. Early steps use the
debiased ``min(decay, (1 + t) / (10 + t))`` (as TensorFlow's
``ExponentialMovingAverage`` with ``num_updates``), so the average is useful
before ``1 / (1 - decay)`` steps.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

__all__ = ["EmaState", "ema_params", "track_ema"]


class EmaState(NamedTuple):
    """``count`` updates seen; ``ema`` the averaged parameters."""

    count: jax.Array
    ema: Any


def track_ema(decay: float, debias: bool = True) -> optax.GradientTransformation:
    """Keeps an EMA of ``params + updates``; the updates pass through unchanged."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1), got {decay!r}")

    def init(params):
        return EmaState(jnp.zeros((), jnp.int32), jax.tree.map(jnp.copy, params))

    def update(updates, state, params=None):
        if params is None:
            raise ValueError("track_ema needs params: call update(updates, state, params)")
        t = state.count.astype(jnp.float32)
        d = jnp.minimum(decay, (1.0 + t) / (10.0 + t)) if debias else jnp.asarray(decay)
        new = optax.apply_updates(params, updates)
        ema = jax.tree.map(lambda e, p: (d * e + (1 - d) * p).astype(e.dtype), state.ema, new)
        return updates, EmaState(state.count + 1, ema)

    return optax.GradientTransformation(init, update)


def ema_params(opt_state: Any) -> Any:
    """The averaged parameters from an optimiser state that contains :func:`track_ema`."""
    found = [
        s
        for s in jax.tree.leaves(opt_state, is_leaf=lambda x: isinstance(x, EmaState))
        if isinstance(s, EmaState)
    ]
    if not found:
        raise ValueError("no track_ema state in this optimiser state")
    return found[0].ema
