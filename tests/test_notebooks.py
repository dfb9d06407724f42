"""Every notebook in colab/ runs top to bottom, at the toy size ``KANFLOW_QUICK=1`` selects.

Each notebook's settings cell reads ``KANFLOW_QUICK``: unset, it runs the
documented settings; ``1`` shrinks epochs / steps / grids so that every cell
still runs (plots included) in seconds.
"""

import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "colab").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("KANFLOW_QUICK", "1")  # the kernel inherits the environment
    nb = nbformat.read(path, as_version=4)
    assert any("KANFLOW_QUICK" in c.source for c in nb.cells), "settings cell must read it"
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    outputs = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "Traceback" not in outputs
