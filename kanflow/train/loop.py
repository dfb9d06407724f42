"""``fit``: the training loop around the jit-compiled step.

Batches are a pure function of the step (``batch_fn(step)``, or a per-epoch
permutation of in-memory arrays seeded by ``seed``), so a run resumed from a
checkpoint sees exactly the batches the uninterrupted run would have seen.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh
from tqdm.auto import tqdm

from kanflow.train.checkpoint import Checkpointer, settings_differences
from kanflow.train.sharding import replicate, shard_global_batch
from kanflow.train.state import TrainState, create_state
from kanflow.train.step import make_train_step

__all__ = ["DivergenceError", "FitResult", "NonFiniteError", "array_batches", "fit"]


#: The key under which a checkpoint's history holds ``fit``'s ``run_id``.
RUN_ID = "run_id"


class NonFiniteError(FloatingPointError):
    """Training produced a NaN/Inf loss or gradient; the state was kept at the last good step."""

    def __init__(self, step: int, last_loss: float | None, checkpoint: int | None, state):
        self.step, self.last_loss, self.checkpoint, self.state = step, last_loss, checkpoint, state
        where = f"; last checkpoint: step {checkpoint}" if checkpoint is not None else ""
        super().__init__(
            f"non-finite loss, gradient or optimiser state at step {step} "
            f"(last finite loss: {last_loss}){where}. "
            "The returned state is the last good one; lower the learning rate or check the data."
        )


class DivergenceError(NonFiniteError):
    """The loss stayed finite but grew past ``divergence`` times its first value."""

    def __init__(self, step: int, loss: float, first: float, factor: float, checkpoint, state):
        self.loss, self.first = loss, first
        super().__init__(step, loss, checkpoint, state)
        where = f"; last checkpoint: step {checkpoint}" if checkpoint is not None else ""
        self.args = (
            f"training diverged at step {step}: loss {loss:.3g} is more than {factor:g} times "
            f"its first value {first:.3g}{where}. Lower the learning rate (or pass "
            "divergence=None to fit to turn this guard off).",
        )


@dataclasses.dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
      state: the final :class:`TrainState`.
      history: ``{"step": [...], "loss": [...], <metric>: [...], "time": [...]}``,
        one entry per logged step (eval metrics are prefixed ``eval_``).
    """

    state: TrainState
    history: dict[str, list]

    @property
    def params(self):
        return self.state.params


def array_batches(
    data: dict[str, Any], batch_size: int | None, seed: int = 0
) -> Callable[[int], dict]:
    """``batch_fn(step)`` over in-memory arrays.

    ``batch_size=None`` (or >= the data size) gives the full batch every step;
    otherwise epoch ``e`` uses the permutation drawn from ``(seed, e)`` and
    drops the ragged tail.
    """
    if not isinstance(data, dict) or not data:
        raise ValueError(f"data must be a non-empty dict of arrays, got {type(data).__name__}")
    sizes = {np.shape(v)[0] if np.ndim(v) else 0 for v in data.values()}
    if len(sizes) != 1:
        raise ValueError(f"all arrays in data need the same leading size, got {sorted(sizes)}")
    (n,) = sizes
    if n == 0:
        raise ValueError("data holds no examples (leading size 0)")
    data = {k: np.asarray(v) for k, v in data.items()}
    if batch_size is None or batch_size >= n:
        return lambda step: data
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    per_epoch = n // batch_size

    def batch_fn(step: int) -> dict:
        epoch, i = divmod(step, per_epoch)
        perm = np.random.default_rng((seed, epoch)).permutation(n)
        idx = perm[i * batch_size : (i + 1) * batch_size]
        return {k: v[idx] for k, v in data.items()}

    return batch_fn


def _check_finite_data(data: dict[str, Any]) -> None:
    for k, v in data.items():
        v = np.asarray(v)
        if np.issubdtype(v.dtype, np.inexact) and not np.all(np.isfinite(v)):
            bad = int(np.size(v) - np.count_nonzero(np.isfinite(v)))
            raise ValueError(
                f"data[{k!r}] has {bad} non-finite values (NaN/Inf); clean it before fit"
            )


def fit(
    loss_fn: Callable,
    params: Any,
    data: dict[str, Any] | Callable[[int], dict],
    *,
    optimizer: optax.GradientTransformation,
    steps: int,
    batch_size: int | None = None,
    model_state: Any = None,
    seed: int = 0,
    state: TrainState | None = None,
    mesh: Mesh | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    checkpoint_every: int = 100,
    keep_checkpoints: int = 3,
    resume: bool = True,
    run_id: Mapping[str, Any] | None = None,
    log_every: int = 1,
    eval_fn: Callable[[Any, Any], dict] | None = None,
    eval_every: int | None = None,
    quiet: bool = False,
    desc: str = "train",
    callback: Callable[[int, dict], None] | None = None,
    step_fn: Callable | None = None,
    divergence: float | None = 1e6,
) -> FitResult:
    """Trains ``params`` for ``steps`` optimiser updates.

    Args:
      loss_fn: ``(params, model_state, batch, rng) -> (loss, aux)``, e.g.
        :func:`kanflow.train.supervised_loss`.
      params: initial trainable pytree.
      data: a dict of arrays with a common leading size (checked for NaN/Inf),
        or ``batch_fn(step) -> batch`` (must be deterministic for exact resume).
      optimizer: optax transformation (see :func:`make_optimizer`).
      steps: total number of updates (a resumed run stops at the same total).
      batch_size: minibatch size for array data; ``None`` = full batch.
      model_state: non-trained collections (e.g. ``{"grid": ...}``).
      seed: seeds batch order and the step RNG.
      state: continue from this state instead of building one.
      mesh: data-parallel mesh (see :mod:`kanflow.train.sharding`); batches are
        global batches, of which each process feeds its own slice.
      checkpoint_dir: enables orbax checkpoints every ``checkpoint_every``
        steps and at the end; with ``resume`` an existing checkpoint is
        restored first, without it any there are set aside (``<step>.superseded``,
        with a warning) before training starts afresh.
      run_id: JSON-able settings that the checkpoint cannot tell from its arrays
        (learning rate, data, seed, ...), saved with each checkpoint: a resume
        under another ``run_id`` (or without one where one was saved) is
        refused with a ``ValueError`` naming the settings that differ, and the
        checkpoint is kept.
      log_every: record metrics every this many steps (the NaN/Inf guard
        reads one flag per step; the metrics themselves are fetched only here).
      eval_fn: ``(params, model_state) -> dict`` of scalars, called every
        ``eval_every`` steps and at the end.
      quiet: no progress bar.
      callback: ``callback(step, metrics)`` after each logged step.
      step_fn: a step from :func:`make_train_step` for the same ``loss_fn``,
        ``optimizer`` and ``mesh``, reused across calls to skip recompiling
        (e.g. between grid updates, which keep every shape).
      divergence: stop with :class:`DivergenceError` when a logged loss exceeds
        this many times ``max(|first logged loss|, 1)``; ``None`` turns it off.

    Returns:
      :class:`FitResult` with the final state and the history.

    Raises:
      NonFiniteError: a step produced NaN/Inf; it carries the last good state
        (which is also checkpointed when checkpointing is on).
      DivergenceError: the loss grew past ``divergence`` (see above).
      ValueError: bad data (empty, NaN/Inf, labels or targets that do not fit
        the model: see the loss function's ``check_batch``), or a checkpoint
        that is further along than ``steps``, holds another network's
        parameters (names, shapes or dtypes that differ from ``params``) or was
        saved under another ``run_id``.
    """
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"steps must be an int >= 0, got {steps!r}")
    if divergence is not None and not divergence > 1:
        raise ValueError(f"divergence must be > 1 or None, got {divergence!r}")
    if run_id is not None:
        try:
            run_id = json.loads(json.dumps(dict(run_id)))  # as it reads back
        except (TypeError, ValueError) as err:
            raise ValueError(f"run_id must be a JSON-able dict, got {run_id!r}: {err}") from None
    check_batch = getattr(loss_fn, "check_batch", None)
    if callable(data):
        batch_fn = data
    else:
        batch_fn = array_batches(data, batch_size, seed)  # validates structure and size
        _check_finite_data(data)
        if check_batch is not None:
            check_batch(params, model_state, data)  # all of it once, on the host
            check_batch = None
    # the step donates its input state: work on fresh buffers so the caller's arrays survive
    state = (
        create_state(params, optimizer, model_state, seed)
        if state is None
        else jax.tree.map(jnp.copy, state)
    )
    history: dict[str, list] = {}
    ckpt = (
        Checkpointer(checkpoint_dir, checkpoint_every, keep_checkpoints) if checkpoint_dir else None
    )
    if ckpt is not None and not resume:
        ckpt.start_afresh()  # an earlier run's steps would be restored by a later resume

    def tagged(h: dict) -> dict:
        """The history as saved: with the run's ``run_id``."""
        return h if run_id is None else {**h, RUN_ID: run_id}

    def check(saved: dict) -> None:
        theirs, ours = saved.get(RUN_ID), run_id
        if theirs == ours:
            return
        if theirs is None:
            what = f"saved without a run_id, this run's is {ours}"
        elif ours is None:
            what = f"saved with run_id {theirs}, this run has none"
        else:
            what = settings_differences(theirs, ours)
        raise ValueError(
            f"the checkpoint in {ckpt.directory} is another run's: {what}. "
            "Use another checkpoint_dir, or resume=False."
        )

    if ckpt is not None and resume:
        try:  # another run's checkpoint is refused, not restarted over
            restored = ckpt.restore(state, check=check)
        except ValueError:
            ckpt.close()
            raise
        if restored is not None:
            state, history = restored
            history.pop(RUN_ID, None)
            if int(state.step) > steps:
                ckpt.close()
                raise ValueError(
                    f"the checkpoint in {ckpt.directory} is at step {int(state.step)}, past "
                    f"steps={steps}: resuming would return a more-trained state than asked "
                    "for. Ask for steps >= that, use another checkpoint_dir, or resume=False."
                )
    if mesh is not None:
        state = replicate(state, mesh)
    step_fn = step_fn or make_train_step(loss_fn, optimizer, mesh=mesh)
    put = (
        (lambda b: shard_global_batch(b, mesh))
        if mesh is not None
        else (lambda b: jax.tree.map(jnp.asarray, b))
    )

    def record(step: int, metrics: dict, elapsed: float) -> None:
        history.setdefault("step", []).append(step)
        history.setdefault("time", []).append(elapsed)
        for k, v in metrics.items():
            history.setdefault(k, []).append(float(v))

    def evaluate(step: int) -> None:
        if eval_fn is not None:
            vals = {
                f"eval_{k}": float(v) for k, v in eval_fn(state.params, state.model_state).items()
            }
            history.setdefault("eval_step", []).append(step)
            for k, v in vals.items():
                history.setdefault(k, []).append(v)

    start = int(state.step)
    t0 = time.perf_counter() - (history["time"][-1] if history.get("time") else 0.0)
    last_loss = history["loss"][-1] if history.get("loss") else None
    first_loss = history["loss"][0] if history.get("loss") else None
    bar = tqdm(total=steps, initial=min(start, steps), desc=desc, disable=quiet, dynamic_ncols=True)
    step = start  # == int(state.step): updates applied so far
    try:
        while step < steps:
            batch = batch_fn(step)
            if check_batch is not None:
                check_batch(state.params, state.model_state, batch)
            state, metrics = step_fn(state, put(batch))
            if not bool(metrics["finite"]):  # the update was refused: state is the last good one
                saved = None if ckpt is None else _save(ckpt, step, state, tagged(history))
                raise NonFiniteError(step, last_loss, saved, state)
            if step % log_every == 0 or step == steps - 1:
                metrics = jax.device_get(metrics)
                del metrics["finite"]
                last_loss = float(metrics["loss"])
                record(step, metrics, time.perf_counter() - t0)
                first_loss = last_loss if first_loss is None else first_loss
                if divergence is not None and abs(last_loss) > divergence * max(
                    abs(first_loss), 1.0
                ):
                    # no save: this state is the diverged one; earlier checkpoints stay
                    saved = None if ckpt is None else ckpt.latest_step
                    raise DivergenceError(step, last_loss, first_loss, divergence, saved, state)
                bar.set_postfix(loss=f"{last_loss:.4g}", refresh=False)
                if callback is not None:
                    callback(step, metrics)
            step += 1
            bar.update(1)
            if eval_every and step % eval_every == 0 and step < steps:
                evaluate(step)
            if ckpt is not None:
                ckpt.save(step, state, tagged(history))
        if history.get("eval_step", [None])[-1] != step:
            evaluate(step)
        if ckpt is not None:
            ckpt.save(step, state, tagged(history), force=True)
    except KeyboardInterrupt:
        if ckpt is not None:  # never lose work: keep what was trained so far
            ckpt.save_on_interrupt(int(state.step), state, tagged(history))
        raise
    finally:
        bar.close()
        if ckpt is not None:
            ckpt.close()
    return FitResult(state, history)


def _save(ckpt: Checkpointer, step: int, state: TrainState, history: dict) -> int:
    ckpt.save(step, state, history, force=True)
    return step


def steps_per_second(history: dict[str, list]) -> float:
    """Mean update rate over a history (``nan`` with fewer than two records)."""
    s, t = history.get("step", []), history.get("time", [])
    if len(s) < 2 or t[-1] <= t[0]:
        return math.nan
    return (s[-1] - s[0]) / (t[-1] - t[0])
