"""Every notebook in colab/ runs top to bottom (with small settings)."""

import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "colab").glob("*.ipynb"))
SMALL = {
    "EPOCHS": "2",
    "STEPS_PER_GRID": "40",
    "GRIDS": "(3, 5)",
    "RESTARTS": "2",
    "STEPS": "120",
    "STATES": "2",
}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # shrink the settings cell
        if cell.cell_type == "code":
            for name, value in SMALL.items():
                cell.source = re.sub(
                    rf"^{name} = .*$", f"{name} = {value}", cell.source, flags=re.M
                )
    NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    outputs = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert "Traceback" not in outputs
