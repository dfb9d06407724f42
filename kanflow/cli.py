"""The ``kanflow`` command.

``kanflow list`` lists the reproduction experiments; ``kanflow run NAME
[--quick] [--out DIR] [--quiet] [key=value ...]`` runs one and writes
``results/NAME/<run>/`` (config, metrics JSON, Markdown table, plots).
"""

from __future__ import annotations

import argparse
import importlib
import sys


def _experiments():
    # the repository's experiments/ folder is installed as ``kanflow_experiments`` (see
    # pyproject.toml); it is loaded only here, so the library itself never depends on it.
    return importlib.import_module("kanflow_experiments")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kanflow", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list experiments")
    run = sub.add_parser("run", help="run an experiment")
    run.add_argument("name")
    run.add_argument("--quick", action="store_true", help="small settings, a few minutes on a CPU")
    run.add_argument("--out", default=None, help="result folder (default results/NAME/<time>)")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    run.add_argument(
        "--overwrite", action="store_true", help="replace the results already in --out"
    )
    run.add_argument("overrides", nargs="*", help="config overrides key=value")
    args, extra = parser.parse_known_args(argv)
    # overrides may stand before or after the options: collect key=value leftovers
    stray = [e for e in extra if "=" not in e or e.startswith("-") or args.command != "run"]
    if stray:
        parser.error(f"unrecognized arguments: {' '.join(stray)}")

    exps = _experiments()
    if args.command == "list":
        for name, desc in sorted(exps.available().items()):
            print(f"{name:28s} {desc}")
        return 0
    runner = importlib.import_module("kanflow_experiments.runner")
    try:
        runner.run(
            args.name,
            quick=args.quick,
            out=args.out,
            overrides=[*args.overrides, *extra],
            quiet=args.quiet,
            overwrite=args.overwrite,
        )
    except (ValueError, OSError) as err:
        parser.exit(2, f"kanflow: error: {err}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
