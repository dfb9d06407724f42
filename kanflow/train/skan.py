"""The S-KAN training schedule: mixed spaces, selective, pruned and fine-tuned."""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import optax

from kanflow.models import skan as _skan
from kanflow.train.loop import fit
from kanflow.train.losses import supervised_loss

__all__ = ["SKANPhase", "fit_skan"]


@dataclasses.dataclass
class SKANPhase:
    """One stage of :func:`fit_skan`.

    Attributes:
      stage: ``"mixed"``, ``"selective"`` or ``"pruned"``.
      model: the model of this stage (selection / widths change between stages).
      variables: its trained variables.
      history: :func:`kanflow.train.fit` history.
    """

    stage: str
    model: _skan.SKAN
    variables: dict[str, Any]
    history: dict[str, list]


def fit_skan(
    model: _skan.SKAN,
    x: jax.Array,
    y: jax.Array,
    *,
    steps: tuple[int, int, int] = (1000, 500, 500),
    learning_rate: float = 1e-2,
    batch_size: int | None = None,
    prune_threshold: float = 1e-2,
    loss: str = "mse",
    seed: int = 0,
    quiet: bool = False,
) -> list[SKANPhase]:
    """Trains an S-KAN through its three stages.

    1. **mixed**: every node mixes all spaces with learnable selection weights;
    2. **selective**: :func:`kanflow.models.skan.select` keeps each node's
       strongest space (the others' parameters are dropped); train again;
    3. **pruned**: :func:`kanflow.models.skan.prune` drops hidden nodes whose
       edges are all below ``prune_threshold`` on ``x``; fine-tune.

    Each stage uses Adam with a cosine decay from ``learning_rate`` over its
    ``steps`` (a stage with 0 steps is skipped, e.g. ``(1000, 1000, 0)``).

    Args:
      model: a mixing :class:`kanflow.models.SKAN`.
      x, y: training data ``[n, in]``, ``[n, out]`` (or integer labels with
        ``loss="cross_entropy"``).

    Returns:
      the phases in order; the last one is the final model.
    """
    if model.selections is not None:
        raise ValueError("fit_skan starts from a mixing model (selections=None)")
    if len(steps) != 3 or any(not isinstance(s, int) or s < 0 for s in steps):
        raise ValueError(f"steps must be three ints >= 0 (mixed, selective, pruned), got {steps}")
    data = {"x": x, "y": y}
    variables = jax.jit(model.init)(jax.random.key(seed), x[:1])
    phases: list[SKANPhase] = []

    def train(stage: str, model, variables, n: int) -> dict:
        opt = optax.adam(optax.cosine_decay_schedule(learning_rate, max(n, 1)))
        res = fit(supervised_loss(model, loss), variables["params"], data, optimizer=opt,
                  steps=n, batch_size=batch_size, seed=seed, quiet=quiet,
                  desc=f"S-KAN {stage}")  # fmt: skip
        v = {"params": res.params}
        phases.append(SKANPhase(stage, model, v, res.history))
        return v

    if steps[0]:
        variables = train("mixed", model, variables, steps[0])
    model, variables = _skan.select(model, variables)
    variables = train("selective", model, variables, steps[1])
    if steps[2]:
        model, variables = _skan.prune(model, variables, x, prune_threshold)
        train("pruned", model, variables, steps[2])
    return phases
