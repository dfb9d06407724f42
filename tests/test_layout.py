"""The package's import graph: the generic training core names no model."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "kanflow"
MODEL_SIDE = (
    "kanflow.models",
    "kanflow.data",
    "kanflow.pinn",
    "kanflow.attention",
    "kanflow.recipes",
)


def imported_modules(path: pathlib.Path) -> set[str]:
    """Modules ``path`` imports (``from kanflow import models`` counts as ``kanflow.models``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "train").glob("*.py")), ids=lambda p: p.name)
def test_train_core_imports_no_model_side(path):
    bad = sorted(m for m in imported_modules(path) if m.startswith(MODEL_SIDE))
    assert not bad, f"{path.name} imports {bad}"


def test_the_walker_sees_every_import_form(tmp_path):
    src = tmp_path / "m.py"
    lines = [
        "import kanflow.models",
        "from kanflow import data",
        "def f():",
        "    import kanflow.pinn",
    ]
    src.write_text("\n".join(lines) + "\n")
    assert {"kanflow.models", "kanflow.data", "kanflow.pinn"} <= imported_modules(src)
