"""Reproduction experiments, one module per published table (installed as ``kanflow_experiments``).

Each module's docstring gives the command that runs it and the result to
expect; it defines ``NAME``, ``DESCRIPTION``, a frozen dataclass ``Config``
(every field can be overridden as ``key=value``), ``quick_config()`` and
``run(config, out_dir, quiet) -> Report``; the loop over keys and seeds and
the mean ± std are :func:`experiments.runner.sweep` and ``accuracy_summary``. Run them with
``kanflow run NAME [--quick] [--out DIR] [key=value ...]``.
"""

import importlib
import pkgutil

__all__ = ["available", "load"]


def available() -> dict[str, str]:
    """``{name: description}`` for every experiment module in this package."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_") or info.name == "runner":
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(mod, "run") and hasattr(mod, "Config"):
            found[mod.NAME] = mod.DESCRIPTION
    return found


def load(name: str):
    """The experiment module called ``name``."""
    known = available()
    if name not in known:
        raise ValueError(
            f"unknown experiment {name!r}; known experiments: {', '.join(sorted(known))}"
        )
    return importlib.import_module(f"{__name__}.{name}")
