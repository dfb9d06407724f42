"""Checkpoints with orbax-checkpoint: atomic, keep-last-N, exact resume.

A checkpoint holds the whole :class:`~kanflow.train.TrainState` and the
metrics history so far, so a resumed run continues the same loss curve.
Orbax writes each step to a temporary directory and renames it when complete,
so an interrupted save never leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import os
from typing import Any

import jax
import orbax.checkpoint as ocp

from kanflow.train.state import TrainState

__all__ = ["Checkpointer"]


class Checkpointer:
    """Saves and restores ``(state, history)`` under ``directory``.

    Args:
      directory: where step folders go (created if missing).
      every: save when ``step % every == 0`` (``save(..., force=True)`` always saves).
      keep: how many of the newest checkpoints to keep.
    """

    def __init__(self, directory: str | os.PathLike, every: int = 100, keep: int = 3):
        if every < 1 or keep < 1:
            raise ValueError(f"every and keep must be >= 1, got every={every}, keep={keep}")
        self.directory = os.path.abspath(os.fspath(directory))
        self.every = every
        self._manager = ocp.CheckpointManager(
            self.directory,
            options=ocp.CheckpointManagerOptions(
                max_to_keep=keep, create=True, enable_async_checkpointing=False
            ),
        )

    @property
    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        return list(self._manager.all_steps())

    def save(
        self, step: int, state: TrainState, history: dict[str, list], force: bool = False
    ) -> bool:
        """Saves if ``step`` is due (or ``force``); returns whether it saved."""
        if not force and step % self.every:
            return False
        if step in self._manager.all_steps():
            return False
        self._manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), history=ocp.args.JsonSave(history)
            ),
            force=True,
        )
        self._manager.wait_until_finished()
        return True

    def restore(
        self, like: TrainState, step: int | None = None
    ) -> tuple[TrainState, dict[str, Any]] | None:
        """The checkpoint at ``step`` (default: newest), shaped like ``like``; ``None`` if none."""
        step = self._manager.latest_step() if step is None else step
        if step is None:
            return None
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        restored = self._manager.restore(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract), history=ocp.args.JsonRestore()
            ),
        )
        return restored.state, dict(restored.history)

    def close(self) -> None:
        self._manager.close()
