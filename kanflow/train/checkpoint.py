"""Checkpoints with orbax-checkpoint: atomic, keep-last-N, exact resume.

A checkpoint holds the whole :class:`~kanflow.train.TrainState` and the
metrics history so far, so a resumed run continues the same loss curve.
Orbax writes each step to a temporary directory and renames it when complete,
so an interrupted save never leaves a half-written checkpoint behind; the
temporary folder such a save leaves is removed (at the next start, or at once
when :meth:`Checkpointer.save_on_interrupt` saves the state instead). A
checkpoint that cannot be read (truncated array, bad history, empty folder) is
skipped with a warning that names it, and the newest intact one is restored.
"""

from __future__ import annotations

import os
import shutil
import warnings
from typing import Any

import jax

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
        import orbax.checkpoint as ocp

        if every < 1 or keep < 1:
            raise ValueError(f"every and keep must be >= 1, got every={every}, keep={keep}")
        self.directory = os.path.abspath(os.fspath(directory))
        if os.path.exists(self.directory) and not os.path.isdir(self.directory):
            raise ValueError(f"checkpoint_dir {self.directory} is a file, not a folder")
        self.every = every
        self.remove_partial_saves()
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
        self, step: int, state: TrainState | Any, history: dict[str, Any], force: bool = False
    ) -> bool:
        """Saves if ``step`` is due (or ``force``); returns whether it saved.

        ``state`` may be any pytree of arrays and ``history`` any JSON-able dict.
        """
        import orbax.checkpoint as ocp

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

    def save_on_interrupt(
        self, step: int, state: TrainState | Any, history: dict[str, Any]
    ) -> None:
        """Saves ``state`` while a ``KeyboardInterrupt`` is being handled.

        An interrupt that landed inside a save leaves its temporary folder
        behind: it is removed first, so the state is saved (not lost to an
        ``OSError``). A second interrupt during this save is swallowed with a
        warning; the caller re-raises the first one.
        """
        try:
            self.remove_partial_saves()
            self._manager.reload()
            self.save(step, state, history, force=True)
        except (KeyboardInterrupt, OSError, ValueError) as err:
            warnings.warn(f"could not save step {step} after the interrupt: {err!r}", stacklevel=2)
            self.remove_partial_saves()

    def remove_partial_saves(self) -> list[str]:
        """Removes the temporary folders of interrupted saves; returns their names."""
        if not os.path.isdir(self.directory):
            return []
        partial = [n for n in os.listdir(self.directory) if ".orbax-checkpoint-tmp" in n]
        for name in partial:
            shutil.rmtree(os.path.join(self.directory, name), ignore_errors=True)
        return partial

    def read_history(self, step: int) -> dict[str, Any]:
        """The history (JSON) saved at ``step``, without reading the state's arrays."""
        import orbax.checkpoint as ocp

        args = ocp.args.Composite(history=ocp.args.JsonRestore())
        return dict(self._manager.restore(step, args=args).history)

    def restore(
        self, like: Any, step: int | None = None
    ) -> tuple[TrainState | Any, dict[str, Any]] | None:
        """The checkpoint at ``step``, shaped like ``like``; ``None`` if there is none.

        ``like`` is the state's pytree (arrays or ``jax.ShapeDtypeStruct``), or
        ``like(step)`` returning it, for a state whose shapes change during
        training (a grid extended at given steps). Without ``step``, the newest
        checkpoint that reads back intact: each unreadable one (a truncated
        array, bad history JSON, an empty step folder) is moved aside to
        ``<step>.unreadable`` with a ``RuntimeWarning`` that names it and the
        reason.
        """
        import orbax.checkpoint as ocp

        def args(at: int):
            target = like(at) if callable(like) else like
            abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
            return ocp.args.Composite(
                state=ocp.args.StandardRestore(abstract), history=ocp.args.JsonRestore()
            )

        if step is not None:
            restored = self._manager.restore(step, args=args(step))
            return restored.state, dict(restored.history)
        for candidate in sorted(self._manager.all_steps(), reverse=True):
            try:
                restored = self._manager.restore(candidate, args=args(candidate))
                history = dict(restored.history)
                if not isinstance(history.get("step", []), list):
                    raise ValueError("history is not a dict of lists")
                return restored.state, history
            except Exception as err:  # noqa: BLE001 - any unreadable checkpoint is skipped
                path = os.path.join(self.directory, str(candidate))
                aside = f"{path}.unreadable"
                os.replace(path, aside)  # kept for inspection; its step can be saved again
                reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
                warnings.warn(
                    f"skipping checkpoint {path} (unreadable: {reason[:300]}); moved it to "
                    f"{aside} and trying an older one",
                    RuntimeWarning,
                    stacklevel=2,
                )
                self._manager.reload()
        return None

    def close(self) -> None:
        self._manager.close()
