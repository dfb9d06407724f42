"""The pure train step, compiled once with ``jax.jit``.

``make_train_step(loss_fn, optimizer)`` returns ``step(state, batch) ->
(state, metrics)``. The step:

* differentiates ``loss_fn`` (see :mod:`kanflow.train.losses`);
* feeds L-BFGS (any optax chain holding a line search) the value function and
  reuses the value and gradient its line search already computed;
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
from jax.sharding import Mesh

from kanflow.train.sharding import batch_sharding, replicated
from kanflow.train.state import TrainState

__all__ = ["make_train_step", "uses_linesearch"]


def uses_linesearch(opt_state) -> bool:
    """Whether an optax state holds a line-search state (L-BFGS and friends)."""
    kinds = (optax.ScaleByZoomLinesearchState, optax.ScaleByBacktrackingLinesearchState)
    leaves = jax.tree_util.tree_leaves(opt_state, is_leaf=lambda s: isinstance(s, kinds))
    return any(isinstance(s, kinds) for s in leaves)


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
        linesearch = uses_linesearch(jax.eval_shape(optimizer.init, {"w": jnp.zeros(1)}))

    def step(state: TrainState, batch: dict) -> tuple[TrainState, dict]:
        rng = jax.random.fold_in(state.rng, state.step)
        if linesearch:
            value_fn = lambda p: loss_fn(p, state.model_state, batch, rng)[0]
            loss, grads = optax.value_and_grad_from_state(value_fn)(
                state.params, state=state.opt_state
            )
            aux = {}
            extra = {"value": loss, "grad": grads, "value_fn": value_fn}
        else:
            (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                state.params, state.model_state, batch, rng
            )
            extra = {"value": loss}
        updates, opt_state = optimizer.update(grads, state.opt_state, state.params, **extra)
        params = optax.apply_updates(state.params, updates)
        aux = dict(aux)
        model_state = aux.pop("model_state", state.model_state)
        finite = jnp.isfinite(loss) & _all_finite(grads) & _all_finite(params)
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
