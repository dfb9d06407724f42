"""Checkpoints with orbax-checkpoint: atomic, keep-last-N, exact resume.

A checkpoint holds the whole :class:`~kanflow.train.TrainState` and the
metrics history so far, so a resumed run continues the same loss curve.
Orbax writes each step to a temporary directory and renames it when complete,
so an interrupted save never leaves a half-written checkpoint behind; the
temporary folder such a save leaves is removed (at the next start, or at once
when :meth:`Checkpointer.save_on_interrupt` saves the state instead). A
checkpoint that cannot be read (truncated array, bad history, empty folder) is
skipped with a warning that names it, and the newest intact one is restored;
one that reads back but holds another network's arrays (names, shapes or
dtypes that differ from the state being resumed) is refused with an error that
names the first difference, and left where it is. A run that starts afresh in
a folder that holds checkpoints (``resume=False``) sets them aside first
(:meth:`Checkpointer.set_aside`), so a later resume cannot pick up an earlier
run's step.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Callable
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
            item_handlers=dict(
                state=ocp.StandardCheckpointHandler(), history=ocp.JsonCheckpointHandler()
            ),
            options=ocp.CheckpointManagerOptions(
                max_to_keep=keep, create=True, enable_async_checkpointing=False
            ),
        )

    @property
    def latest_step(self) -> int | None:
        return self._manager.latest_step()

    def all_steps(self) -> list[int]:
        return list(self._manager.all_steps())

    def is_due(self, step: int) -> bool:
        """Whether ``save`` would save at ``step`` without ``force``."""
        return step % self.every == 0

    def save(
        self, step: int, state: TrainState | Any, history: dict[str, Any], force: bool = False
    ) -> bool:
        """Saves if ``step`` is due (or ``force``); returns whether it saved.

        ``state`` may be any pytree of arrays and ``history`` any JSON-able dict.
        """
        import orbax.checkpoint as ocp

        if not force and not self.is_due(step):
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

    def set_aside(self, step: int, reason: str) -> str:
        """Moves the checkpoint of ``step`` to ``<step>.<reason>`` (or ``.<reason>-2``, ...).

        The folder is kept for inspection (nothing is deleted) and the manager
        no longer lists the step, so it can be saved again. Returns the new path.
        """
        path = os.path.join(self.directory, str(step))
        aside, n = f"{path}.{reason}", 1
        while os.path.exists(aside):
            n += 1
            aside = f"{path}.{reason}-{n}"
        os.replace(path, aside)
        self._manager.reload()
        return aside

    def start_afresh(self) -> list[str]:
        """Sets every checkpoint aside as ``<step>.superseded``, with a warning naming them.

        For a run that does not resume: its own checkpoints would otherwise sit
        beside an earlier run's (a save of a step that exists is skipped), and
        a later resume could restore the earlier run's newest step. Returns the
        new paths.
        """
        moved = [self.set_aside(step, "superseded") for step in sorted(self.all_steps())]
        if moved:
            warnings.warn(
                f"{self.directory} held checkpoints of an earlier run; starting afresh "
                f"(resume=False), they were moved aside: {', '.join(map(os.path.basename, moved))}",
                RuntimeWarning,
                stacklevel=3,
            )
        return moved

    def read_history(self, step: int) -> dict[str, Any]:
        """The history (JSON) saved at ``step``, without reading the state's arrays."""
        import orbax.checkpoint as ocp

        args = ocp.args.Composite(history=ocp.args.JsonRestore())
        return dict(self._manager.restore(step, args=args).history)

    def restore(
        self,
        like: Any,
        step: int | None = None,
        check: Callable[[dict[str, Any]], None] | None = None,
    ) -> tuple[TrainState | Any, dict[str, Any]] | None:
        """The checkpoint at ``step``, shaped like ``like``; ``None`` if there is none.

        ``like`` is the state's pytree (arrays or ``jax.ShapeDtypeStruct``), or
        ``like(step)`` returning it, for a state whose shapes change during
        training (a grid extended at given steps). Without ``step``, the newest
        checkpoint that reads back intact: each unreadable one (a truncated
        array, bad history JSON, an empty step folder) is moved aside to
        ``<step>.unreadable`` with a ``RuntimeWarning`` that names it and the
        reason.

        A checkpoint that reads back but is another run's is refused, not set
        aside: ``check(history)``, if given, is called with its history before
        its arrays are read and raises to refuse it; and one whose arrays differ
        from ``like`` in name, shape or dtype (another network's) raises
        ``ValueError`` naming the first difference.
        """
        import orbax.checkpoint as ocp

        def abstract(at: int) -> Any:
            target = like(at) if callable(like) else like
            return jax.tree.map(ocp.utils.to_shape_dtype_struct, target)

        def read(at: int) -> tuple[Any, dict[str, Any]]:
            history = self.read_history(at)
            if not isinstance(history.get("step", []), list):
                raise ValueError("history is not a dict of lists")
            if check is not None:
                try:
                    check(history)
                except Exception as err:  # noqa: BLE001 - the caller's refusal, passed on as is
                    raise _Refused(err) from err
            want = abstract(at)
            self._check_arrays(at, want)
            args = ocp.args.Composite(state=ocp.args.StandardRestore(want))
            return self._manager.restore(at, args=args).state, history

        if step is not None:
            try:
                return read(step)
            except _Refused as refused:
                raise refused.error from None
        for candidate in sorted(self._manager.all_steps(), reverse=True):
            try:
                return read(candidate)
            except _Refused as refused:
                raise refused.error from None
            except Exception as err:  # noqa: BLE001 - any unreadable checkpoint is skipped
                path = os.path.join(self.directory, str(candidate))
                aside = self.set_aside(candidate, "unreadable")
                reason = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
                warnings.warn(
                    f"skipping checkpoint {path} (unreadable: {reason[:300]}); moved it to "
                    f"{aside} and trying an older one",
                    RuntimeWarning,
                    stacklevel=2,
                )
        return None

    def _check_arrays(self, step: int, want: Any) -> None:
        """Raises ``_Refused(ValueError)`` if the arrays saved at ``step`` are not ``want``'s.

        Reads only the checkpoint's metadata; a checkpoint without any (an
        empty step folder) raises ``ValueError`` as unreadable.
        """
        import orbax.checkpoint as ocp

        meta = self._manager.item_metadata(step)
        tree = getattr(meta.get("state") if hasattr(meta, "get") else None, "tree", None)
        if tree is None:
            raise ValueError(f"no state metadata in step {step}")

        def leaves(t: Any) -> dict[str, tuple]:
            flat = ocp.tree.to_flat_dict(t)
            return {"/".join(map(str, k)): (tuple(v.shape), str(v.dtype)) for k, v in flat.items()}

        saved, here = leaves(tree), leaves(ocp.tree.serialize_tree(want))
        diffs = [
            f"{name} is {_describe(saved.get(name))} there, {_describe(here.get(name))} here"
            for name in sorted(saved.keys() | here.keys())
            if saved.get(name) != here.get(name)
        ]
        if diffs:
            path = os.path.join(self.directory, str(step))
            more = f" (and {len(diffs) - 1} more differences)" if len(diffs) > 1 else ""
            raise _Refused(
                ValueError(
                    f"the checkpoint {path} holds another state than this run's: {diffs[0]}{more}. "
                    "It is another model's (or the same model's with other settings): use "
                    "another checkpoint directory, or start afresh (resume=False)."
                )
            )

    def close(self) -> None:
        self._manager.close()


def settings_differences(saved: dict[str, Any], here: dict[str, Any]) -> str:
    """``"k A there, B here; ..."`` for each setting that differs (``""`` if none)."""
    differ = sorted(k for k in saved.keys() | here.keys() if saved.get(k) != here.get(k))
    return "; ".join(f"{k} {saved.get(k)} there, {here.get(k)} here" for k in differ)


class _Refused(Exception):
    """Carries the error of a checkpoint that reads back but belongs to another run."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def _describe(leaf: tuple | None) -> str:
    return "absent" if leaf is None else f"{leaf[1]}{list(leaf[0])}"
