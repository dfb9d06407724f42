"""The API reference builds from the docstrings, and their examples run."""

import doctest
import importlib
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = [
    "kanflow.basis.bspline",
    "kanflow.layers.config",
    "kanflow.models.kan",
    "kanflow.saving",
]


@pytest.mark.parametrize("name", EXAMPLES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    result = doctest.testmod(module, optionflags=flags, verbose=False)
    assert result.attempted > 0 and result.failed == 0, result


def test_api_reference_builds_strictly(tmp_path):
    mkdocs = shutil.which("mkdocs") or str(pathlib.Path(sys.executable).with_name("mkdocs"))
    out = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    page = (tmp_path / "site" / "api" / "layers" / "index.html").read_text()
    assert "KANConfig" in page and "kan_settings" in page
    # every kanflow module has a page entry
    listed = "".join(p.read_text() for p in (ROOT / "docs" / "api").glob("*.md"))
    for path in (ROOT / "kanflow").rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if not path.name.startswith("_") and name != "kanflow.cli":  # private modules: no page
            assert f"::: {name}\n" in listed, name
