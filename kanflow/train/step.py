"""The pure train step, compiled once with ``jax.jit``.

``make_train_step(loss_fn, optimizer)`` returns ``step(state, batch) ->
(state, metrics)``. The step:

* differentiates ``loss_fn`` (see :mod:`kanflow.train.losses`);
* feeds L-BFGS (any optax chain holding a line search) the value function,
  reuses the value and gradient its line search already computed, and runs it
  on the params raveled into one vector (much cheaper to compile);
* refuses non-finite updates: if the loss or any gradient is NaN/Inf the state
  comes back unchanged and ``metrics["finite"]`` is ``False``, so the last good
  state is never overwritten;
* with a ``mesh``, runs data-parallel: the state replicated, the batch split
  along its leading axis over the mesh's ``"data"`` axis (gradients are
  all-reduced by XLA).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax
from jax.flatten_util import ravel_pytree
from jax.sharding import Mesh

from kanflow.train.optim import uses_linesearch
from kanflow.train.sharding import batch_sharding, replicated
from kanflow.train.state import TrainState

__all__ = ["make_train_step"]


def _all_finite(tree) -> jax.Array:
    leaves = [jnp.all(jnp.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(tree)]
    return jnp.all(jnp.stack(leaves)) if leaves else jnp.array(True)


def make_train_step(
    loss_fn: Callable,
    optimizer: optax.GradientTransformationExtraArgs,
    *,
    mesh: Mesh | None = None,
    linesearch: bool | None = None,
    jit: bool = True,
) -> Callable[[TrainState, dict], tuple[TrainState, dict]]:
    """Builds ``step(state, batch) -> (state, metrics)``.

    Args:
      loss_fn: ``(params, model_state, batch, rng) -> (loss, aux)``.
      optimizer: an optax transformation accepting extra args
        (``make_optimizer`` returns one; others are wrapped).
      mesh: optional mesh with a ``"data"`` axis for data parallelism.
      linesearch: whether the optimiser needs ``value_fn`` (L-BFGS);
        ``None`` detects it from ``optimizer.init``'s state structure.
      jit: compile the step (turn off only to debug).

    Returns:
      The step. ``metrics`` holds ``loss``, ``grad_norm``, ``finite`` and the
      scalars of ``aux`` (L-BFGS steps report ``loss`` and ``grad_norm`` only).
    """
    optimizer = optax.with_extra_args_support(optimizer)
    if linesearch is None:
        linesearch = uses_linesearch(optimizer)

    def step(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
        rng = jax.random.fold_in(state.rng, state.step)
        if linesearch:
            flat, unravel = ravel_pytree(state.params)
            value_fn = lambda w: loss_fn(unravel(w), state.model_state, batch, rng)[0]
            loss, flat_grad = optax.value_and_grad_from_state(value_fn)(flat, state=state.opt_state)
            updates, opt_state = optimizer.update(
                flat_grad, state.opt_state, flat, value=loss, grad=flat_grad, value_fn=value_fn
            )
            params, grads, aux = unravel(flat + updates), flat_grad, {}
        else:
            (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                state.params, state.model_state, batch, rng
            )
            updates, opt_state = optimizer.update(grads, state.opt_state, state.params, value=loss)
            params = optax.apply_updates(state.params, updates)
        aux = dict(aux)
        model_state = aux.pop("model_state", state.model_state)
        finite = jnp.isfinite(loss) & _all_finite(grads) & _all_finite(params)
        finite &= _all_finite(model_state)
        if not linesearch:  # Adam's second moment overflows on a huge finite gradient (1e20):
            finite &= _all_finite(opt_state)  # the parameter would freeze for good
        # (a line search's state holds inf on purpose, e.g. before its first value)
        new = state.replace(
            step=state.step + 1, params=params, opt_state=opt_state, model_state=model_state
        )
        new = jax.tree.map(lambda a, b: jnp.where(finite, a, b), new, state)
        metrics = {"loss": loss, "grad_norm": optax.global_norm(grads), "finite": finite, **aux}
        return new, metrics

    if not jit:
        return step
    if mesh is None:
        return jax.jit(step, donate_argnums=0)
    return jax.jit(
        step,
        in_shardings=(replicated(mesh), batch_sharding(mesh)),
        out_shardings=(replicated(mesh), replicated(mesh)),
        donate_argnums=0,
    )
