"""The distribution as users install it: its name, its declared dependencies."""

import ast
import importlib.metadata
import json
import pathlib
import re
import subprocess
import sys
import tomllib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
# dev-only and not pulled in by a runtime dependency (chex is: optax and dm-pix need it)
DEV_ONLY = ("pytest", "hypothesis", "nbclient", "nbformat", "ipykernel", "ruff", "xdist")


def requirement_name(req: str) -> str:
    return re.split(r"[<>=!~\[; ]", req, maxsplit=1)[0].lower().replace("_", "-")


def test_every_notebook_installs_the_distribution_pyproject_names():
    for path in sorted((ROOT / "colab").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        installs = re.findall(
            r"%pip install -q (\S+)", "".join("".join(c["source"]) for c in cells)
        )
        assert installs == [PROJECT["name"]], (path.name, installs)


def third_party_imports(package: pathlib.Path) -> set[str]:
    """Top-level names of the non-standard-library modules ``package`` imports."""
    found = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return {m for m in found if m not in sys.stdlib_module_names and m != "kanflow"}


def test_runtime_imports_are_declared_runtime_dependencies():
    declared = {requirement_name(r) for r in PROJECT["dependencies"]}
    dists = importlib.metadata.packages_distributions()
    for module in sorted(third_party_imports(ROOT / "kanflow")):
        owners = {d.lower().replace("_", "-") for d in dists.get(module, [])}
        # a module may come with a declared package (jax.numpy with jax, flax with flax, ...)
        assert owners & declared or module in {"IPython"}, (module, owners)


def test_import_kanflow_needs_no_dev_dependency():
    blocker = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        f"        if name.split('.')[0] in {DEV_ONLY!r}:\n"
        "            raise ImportError(f'{name} is a dev-only dependency')\n"
        "sys.meta_path.insert(0, Block())\n"
        "import kanflow as kf, jax, jax.numpy as jnp\n"
        "m = kf.models.KAN((2, 3, 1))\n"
        "print(m.apply(m.init(jax.random.key(0), jnp.zeros((1, 2))), jnp.ones((4, 2))).shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True)
    assert out.returncode == 0 and "(4, 1)" in out.stdout, out.stderr[-2000:]


def test_import_kanflow_defers_slow_optional_imports():
    """scipy.stats (~1 s), grain and orbax (~0.3 s) load where they are used, not
    with ``import kanflow``: every fresh process (each benchmark, each CLI run)
    would pay for them."""
    code = (
        "import sys, kanflow\n"
        "slow = ['scipy.stats', 'scipy.integrate', 'grain', 'orbax.checkpoint']\n"
        "print([m for m in slow if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr[-2000:]


def test_installed_packages_are_kanflow_owned(tmp_path):
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    folders = {
        ".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "kanflow").rglob("__init__.py")
    }
    assert set(listed) == folders | {"kanflow_experiments"}
    # outside the checkout, the experiments import under kanflow's name only
    code = (
        "import importlib.util as u\n"
        "print(u.find_spec('kanflow_experiments') is not None, u.find_spec('experiments'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.split() == ["True", "None"], out.stdout + out.stderr


@pytest.mark.slow
def test_a_fresh_venv_with_only_runtime_dependencies_imports_kanflow(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, str(ROOT)], check=True)
    code = (
        "import kanflow, kanflow_experiments, sys; print(kanflow.__version__); "
        "assert 'pytest' not in sys.modules; assert kanflow_experiments.available()"
    )
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
