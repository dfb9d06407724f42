"""The CLI and the experiment runner, on tiny settings."""

import json

import pytest

from experiments import runner
from experiments.function_fitting import Config
from kanflow import cli


def test_list(capsys):
    assert cli.main(["list"]) == 0
    assert "function_fitting" in capsys.readouterr().out


def test_run_function_fitting_writes_results(tmp_path):
    out = tmp_path / "run"
    args = ["run", "function_fitting", "--quiet", "--out", str(out), "targets=xy",
            "grids=3,5", "steps_per_grid=30", "restarts=2", "restart_steps=10", "n_train=200",
            "n_test=100"]  # fmt: skip
    assert cli.main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    kan = metrics["results"]["xy"]["kan"]
    assert [p["grid_size"] for p in kan] == [3, 5]
    assert kan[-1]["test_rmse"] < 0.05  # x*y is exactly representable by a [2, 2, 1] KAN
    assert metrics["results"]["xy"]["mlp"]["params"] > 0
    config = json.loads((out / "config.json").read_text())
    assert config["grids"] == [3, 5] and config["experiment"] == "function_fitting"
    table = (out / "table.md").read_text()
    assert "| xy | KAN [2, 2, 1] | 5 |" in table
    for png in ("rmse_vs_grid.png", "activations_xy.png", "loss_xy.png"):
        assert (out / png).stat().st_size > 0


def test_overrides_parse_and_errors():
    cfg = runner.apply_overrides(
        Config(), ["grids=(3,7)", "targets=xy,bessel_j0", "float64=False", "seed=2"]
    )
    assert cfg.grids == (3, 7) and cfg.targets == ("xy", "bessel_j0") and cfg.float64 is False
    assert runner.apply_overrides(Config(), ["targets=xy"]).targets == ("xy",)
    with pytest.raises(ValueError, match="unknown config field 'grid'"):
        runner.apply_overrides(Config(), ["grid=3"])
    with pytest.raises(ValueError, match="expected int"):
        runner.apply_overrides(Config(), ["seed=abc"])
    with pytest.raises(ValueError, match="not key=value"):
        runner.apply_overrides(Config(), ["seed"])


def test_unknown_experiment_exits_with_message(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "nope"])
    assert exc.value.code == 2
    assert "known experiments: function_fitting, pinn_quantum_wells" in capsys.readouterr().err


def test_run_pinn_quantum_wells_writes_results(tmp_path):
    out = tmp_path / "pinn"
    args = ["run", "pinn_quantum_wells", "--quiet", "--out", str(out),
            "potentials=infinite,barrier:10", "states=0,1", "models=mlp", "steps=200"]  # fmt: skip
    assert cli.main(args) == 0
    records = json.loads((out / "metrics.json").read_text())["results"]
    assert [(r["spec"], r["state"]) for r in records] == [
        ("infinite", 0),
        ("infinite", 1),
        ("barrier:10", 0),
        ("barrier:10", 1),
    ]
    for r in records:
        assert r["rayleigh_rel_error"] < 1e-3, r  # loose: 200 steps only
    assert "| barrier | 10 | 1 | mlp |" in (out / "table.md").read_text()
    assert (out / "psi_barrier_10.png").stat().st_size > 0
