"""Shared runner: config overrides, result folders, tables, JSON.

Every run writes ``<out>/``: ``config.json``, ``metrics.json``, ``table.md``
(our numbers beside the paper's) and the experiment's PNG plots.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime
import json
import os
import shutil
import tempfile
import time
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "Report",
    "accuracy_summary",
    "apply_overrides",
    "check_names",
    "fmt",
    "markdown_table",
    "mean_std",
    "pct",
    "run",
    "sweep",
]


@dataclasses.dataclass
class Report:
    """What an experiment returns: JSON-able metrics and a Markdown table."""

    metrics: dict[str, Any]
    table: str


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare word is a string


def _is_number(value: Any, kind: type) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if kind is int else isinstance(value, (int, float))


def _parse(key: str, text: str, hint: Any) -> Any:
    """``text`` as a value of type ``hint`` (str, int, float, bool, tuple[...], optionals)."""
    options = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in options:
        if text.strip() == "None":
            return None
        rest = [o for o in options if o is not type(None)]
        if len(rest) == 1:  # X | None: parsed as an X
            return _parse(key, text, rest[0])
    if hint is str:
        return text
    if hint is bool and text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    value = _literal(text)
    if typing.get_origin(hint) is tuple:
        if isinstance(value, str):  # a,b,c without brackets
            value = tuple(_literal(t) for t in text.split(",") if t.strip())
        value = tuple(value) if isinstance(value, (list, tuple)) else (value,)
        item = typing.get_args(hint)[0] if typing.get_args(hint) else Any
        if item is str:
            return tuple(str(v) for v in value)
        if item in (int, float):
            bad = [v for v in value if not _is_number(v, item)]
            if bad:
                raise ValueError(
                    f"override {key}={text!r}: expected comma-separated {item.__name__}s, "
                    f"got {bad[0]!r}"
                )
            return tuple(item(v) for v in value)
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, bool) and not isinstance(value, hint):
        raise ValueError(f"override {key}={text!r}: expected {hint.__name__}")
    return value


def apply_overrides(config: Any, overrides: Sequence[str]) -> Any:
    """``dataclasses.replace(config, key=value, ...)`` from ``["key=value", ...]``.

    Values are Python literals (``steps=100``, ``grids=(3,10)``); tuples may
    also be written bare (``targets=exp_sin_sq,xy``).
    """
    hints = typing.get_type_hints(type(config))
    names = [f.name for f in dataclasses.fields(config)]
    changes = {}
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep:
            raise ValueError(f"override {item!r} is not key=value")
        if key not in names:
            raise ValueError(f"unknown config field {key!r}; fields: {', '.join(names)}")
        changes[key] = _parse(key, text, hints[key])
    return dataclasses.replace(config, **changes)


def fmt(value: float | None, digits: int = 2) -> str:
    """Scientific notation for tables; ``—`` for missing values."""
    if value is None:
        return "—"
    return f"{value:.{digits}e}"


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value) over seeds."""
    import numpy as np

    v = np.asarray(values, dtype=np.float64)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0


def check_names(kind: str, names: Sequence[str], known: Sequence[str]) -> None:
    """Raises ``ValueError`` (``unknown <kind> 'x'; expected one of ...``) for an unknown name."""
    for name in names:
        if name not in known:
            raise ValueError(f"unknown {kind} {name!r}; expected one of {tuple(known)}")


def sweep(
    keys: Sequence[Any],
    seeds: Sequence[int],
    train: Callable[[Any, int], Any],
    *,
    quiet: bool = False,
    score: Callable[[Any], float] = lambda r: r.test_accuracy,
    score_name: str = "test accuracy",
) -> dict[Any, list]:
    """The experiments' loop: ``train(key, seed)`` for every key (in order) and every seed.

    Prints each run's score unless ``quiet``, and clears JAX's compilation
    caches after each key (every key compiles new shapes; the caches would
    otherwise grow through a long run).

    Returns:
      ``{key: [run for each seed]}``.
    """
    import jax

    results = {}
    for key in keys:
        runs = []
        for seed in seeds:
            runs.append(train(key, seed))
            if not quiet:
                label = " ".join(map(str, key)) if isinstance(key, tuple) else key
                print(f"  {label} seed {seed}: {score_name} {score(runs[-1]):.4f}")
        results[key] = runs
        jax.clear_caches()
    return results


def accuracy_summary(runs: Sequence[Any]) -> dict[str, Any]:
    """Per-seed test accuracy with mean ± std, and the cost of the first run.

    ``runs``: :class:`kanflow.recipes.ClassifierResult` objects (one per seed).
    """
    import numpy as np

    acc = [float(r.test_accuracy) for r in runs]
    mean, std = mean_std(acc)
    return {
        "accuracy": acc,
        "accuracy_mean": mean,
        "accuracy_std": std,
        "params": runs[0].params,
        "flops": runs[0].flops,
        "epoch_time_s": float(np.mean([r.epoch_time_s for r in runs])),
    }


def pct(row: dict[str, Any]) -> str:
    """``"mean ± std"`` of a summary's accuracy, in percent."""
    return f"{100 * row['accuracy_mean']:.2f} ± {100 * row['accuracy_std']:.2f}"


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(map(str, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item") and getattr(obj, "ndim", 1) == 0:
        return obj.item()
    if hasattr(obj, "tolist"):
        return obj.tolist()
    return obj


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Writes ``obj`` as indented JSON (atomically: temp file, then rename)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(_jsonable(obj), f, indent=2)
    os.replace(tmp, path)


def _publish(work: str, out: str, *, overwrite: bool) -> str:
    """Renames the finished ``work`` folder to ``out`` and returns where it went.

    A run that started when ``out`` did not exist may find it taken at the end:
    two runs launched in the same second share a timestamp, or a user chose
    the same ``--out`` twice. The rename never replaces a non-empty folder, so
    the later run goes to ``out-2`` (``-3``, ...) and says so instead of
    deleting the earlier run's results. With ``overwrite`` an existing ``out``
    is replaced.
    """
    if overwrite and os.path.isdir(out):
        shutil.rmtree(out)
    target, n = out, 1
    while True:
        try:
            os.rename(work, target)  # fails on a non-empty folder; atomic otherwise
        except OSError:
            if not (os.path.isdir(target) and os.listdir(target)):
                raise
            n += 1
            target = f"{out}-{n}"
            continue
        if target != out:
            print(f"[kanflow] {out} was written by another run meanwhile; kept it")
        return target


def run(
    name: str,
    *,
    quick: bool = False,
    out: str | os.PathLike | None = None,
    overrides: Sequence[str] = (),
    quiet: bool = False,
    overwrite: bool = False,
) -> Report:
    """Runs experiment ``name`` and writes its result folder.

    The folder is ``out`` or ``results/<name>/<timestamp>[-quick]``. Nothing is
    written there until the run has finished: it runs in a temporary folder
    beside ``out`` that is renamed to ``out`` at the end (and removed if the
    run fails), so ``config.json``, ``metrics.json`` and the plots always belong
    to one finished run. If another run wrote ``out`` meanwhile (two runs
    started in the same second), this one goes to ``out-2`` instead, and
    the path it prints says so.

    Raises:
      ValueError: an unknown experiment or config field, a bad value, or an
        existing non-empty ``out`` without ``overwrite``.
      OSError: ``out`` cannot be written.
    """
    import importlib

    module = importlib.import_module(__package__).load(name)
    config = module.quick_config() if quick else module.Config()
    config = apply_overrides(config, overrides)
    if out is None:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        out = os.path.join("results", name, stamp + ("-quick" if quick else ""))
    out = os.path.abspath(os.fspath(out))
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"--out {out} is a file, not a folder")
    if os.path.isdir(out) and os.listdir(out) and not overwrite:
        raise ValueError(
            f"--out {out} already holds results; pass --overwrite to replace them, "
            "or choose another folder"
        )
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.partial-", dir=parent)
    try:
        write_json(
            os.path.join(work, "config.json"),
            {"experiment": name, "quick": quick, **_jsonable(config)},
        )
        if not quiet:
            print(f"[kanflow] {name}: {config}")
        t0 = time.perf_counter()
        report = module.run(config, work, quiet=quiet)
        report.metrics["wall_time_s"] = time.perf_counter() - t0
        write_json(os.path.join(work, "metrics.json"), report.metrics)
        with open(os.path.join(work, "table.md"), "w") as f:
            f.write(report.table)
        out = _publish(work, out, overwrite=overwrite)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # a failed run leaves nothing behind
    print(report.table)
    print(f"[kanflow] results in {out}")
    return report
