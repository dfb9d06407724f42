"""Reproduction experiments, one module per published table.

Each module defines ``NAME``, ``DESCRIPTION``, a frozen dataclass ``Config``
(its docstring says how to run it and what to expect), ``quick_config()``
and ``run(config, out_dir, quiet) -> Report``. Run them with
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
