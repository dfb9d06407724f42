"""The CLI and the experiment runner, on tiny settings."""

import dataclasses
import json
import pathlib
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kanflow as kf
from kanflow import cli
from kanflow_experiments import runner
from kanflow_experiments.function_fitting import Config


def test_list(capsys):
    assert cli.main(["list"]) == 0
    assert "function_fitting" in capsys.readouterr().out


def test_function_fitting_quick_reaches_pykans_published_accuracy(tmp_path):
    # the README's first command, end to end: pykan documents test RMSE 1.5e-2 / 3.3e-4 /
    # 4.0e-5 at G = 3 / 10 / 20 for exp(sin(pi x) + y^2); kanflow measures 1.48e-2 / 4.24e-4 /
    # 3.69e-5 (seed 0). The bounds leave room for round-off across machines, not for a worse fit.
    out = tmp_path / "run"
    assert cli.main(["run", "function_fitting", "--quick", "--quiet", "--out", str(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    kan = metrics["results"]["exp_sin_sq"]["kan"]
    rmse = {p["grid_size"]: p["test_rmse"] for p in kan}
    paper = {p["grid_size"]: p["paper_test_rmse"] for p in kan}
    assert paper == {3: 1.5e-2, 10: 3.3e-4, 20: 4.0e-5}
    assert rmse[3] < 1.2 * paper[3] and rmse[10] < 1.5 * paper[10] and rmse[20] < 1.2 * paper[20]
    assert rmse[3] > rmse[10] > rmse[20]  # grid extension keeps improving the fit
    assert metrics["results"]["exp_sin_sq"]["mlp"]["params"] > 0
    config = json.loads((out / "config.json").read_text())
    assert config["grids"] == [3, 10, 20] and config["experiment"] == "function_fitting"
    table = (out / "table.md").read_text()
    assert "| exp_sin_sq | KAN [2, 1, 1] | 20 | 75 |" in table
    for png in ("rmse_vs_grid.png", "activations_exp_sin_sq.png", "loss_exp_sin_sq.png"):
        assert (out / png).stat().st_size > 0


def test_overrides_parse_and_errors():
    cfg = runner.apply_overrides(
        Config(), ["grids=(3,7)", "targets=xy,bessel_j0", "float64=False", "seed=2"]
    )
    assert cfg.grids == (3, 7) and cfg.targets == ("xy", "bessel_j0") and cfg.float64 is False
    assert runner.apply_overrides(Config(), ["targets=xy"]).targets == ("xy",)
    assert runner.apply_overrides(Config(), ["float64=false"]).float64 is False
    assert runner.apply_overrides(Config(float64=False), ["float64=TRUE"]).float64 is True
    with pytest.raises(ValueError, match="expected bool"):
        runner.apply_overrides(Config(), ["float64=yes"])
    with pytest.raises(ValueError, match="unknown config field 'grid'"):
        runner.apply_overrides(Config(), ["grid=3"])
    with pytest.raises(ValueError, match="expected int"):
        runner.apply_overrides(Config(), ["seed=abc"])
    with pytest.raises(ValueError, match="not key=value"):
        runner.apply_overrides(Config(), ["seed"])
    # optional fields: None, or a value of the other type, checked as that type
    from kanflow_experiments import pikan_benchmarks

    cfg = pikan_benchmarks.Config(stop=5)
    assert runner.apply_overrides(cfg, ["stop=None"]).stop is None
    assert runner.apply_overrides(cfg, ["stop=20000"]).stop == 20000
    with pytest.raises(ValueError, match="expected int"):
        runner.apply_overrides(cfg, ["stop=20k"])


def _fake_experiment(during_run):
    """An experiment module whose run calls ``during_run(out_parent)`` before returning."""

    @dataclasses.dataclass(frozen=True)
    class FakeConfig:
        seed: int = 0

    def run(config, workdir, quiet=False):
        (pathlib.Path(workdir) / "ours.txt").write_text("ours")
        during_run()
        return runner.Report(metrics={"seed": config.seed}, table="| ours |")

    return types.SimpleNamespace(Config=FakeConfig, quick_config=FakeConfig, run=run)


def test_run_never_deletes_a_folder_another_run_wrote_meanwhile(tmp_path, monkeypatch, capsys):
    # Two runs launched in the same second share a timestamped folder: the one that finishes
    # second must keep the first one's results and go beside them.
    import kanflow_experiments

    out = tmp_path / "stamp"

    def other_runs_finish():  # two of them: the folder and its first alternative are taken
        for folder in (out, tmp_path / "stamp-2"):
            folder.mkdir(exist_ok=True)
            (folder / "theirs.txt").write_text("theirs")

    monkeypatch.setattr(
        kanflow_experiments, "load", lambda name: _fake_experiment(other_runs_finish)
    )
    runner.run("fake", out=out, quiet=True, overrides=["seed=3"])
    for folder in ("stamp", "stamp-2"):
        assert sorted(p.name for p in (tmp_path / folder).iterdir()) == ["theirs.txt"]
    assert json.loads((tmp_path / "stamp-3" / "metrics.json").read_text())["seed"] == 3
    assert "written by another run meanwhile" in capsys.readouterr().out
    # with overwrite the folder is replaced, and nothing else is left behind
    runner.run("fake", out=out, quiet=True, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "metrics.json",
        "ours.txt",
        "table.md",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stamp", "stamp-2", "stamp-3"]


def test_unknown_experiment_exits_with_message(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "known experiments: " in err
    assert all(n in err for n in ("af_kan_mnist", "function_fitting", "pinn_quantum_wells"))


def test_run_pinn_quantum_wells_writes_results(tmp_path):
    out = tmp_path / "pinn"
    args = [
        "run",
        "pinn_quantum_wells",
        "--quiet",
        "--out",
        str(out),
        "potentials=barrier:10,",  # the infinite well is covered by tests/test_pinn.py
        "states=0,1",
        "models=mlp",
        "steps=200",
        "random_piecewise=1",
        "random_smooth=0",
    ]
    assert cli.main(args) == 0
    records = json.loads((out / "metrics.json").read_text())["results"]
    assert [(r["family"], r["spec"], r["state"]) for r in records] == [
        ("named", "barrier:10", 0),
        ("named", "barrier:10", 1),
        ("random_piecewise", "seed 0", 0),
        ("random_piecewise", "seed 0", 1),
    ]
    for r in records:
        assert r["energy_target_met"] and r["l2_target_met"], r
    table = (out / "table.md").read_text()
    assert "| barrier | 10 | 1 | mlp |" in table
    assert "| random_piecewise | mlp | 1 | 1 |" in table
    assert (out / "psi_barrier_10.png").stat().st_size > 0


def test_run_pikan_benchmarks_writes_results(tmp_path):
    out = tmp_path / "pikan"
    args = ["run", "pikan_benchmarks", "--quiet", "--out", str(out)]
    args += ["problems=diffusion,", "steps=60", "collocation=128", "learning_rate=0.01"]
    assert cli.main(args) == 0
    records = json.loads((out / "metrics.json").read_text())["results"]
    assert [(r["problem"], r["model"]) for r in records] == [
        ("diffusion", "kan"),
        ("diffusion", "mlp"),
    ]
    # the KAN ends on the last grid of the (scaled) schedule: G = 14, 88 edges x 19 + 17
    assert records[0]["params"] == 1689
    assert abs(records[1]["params"] - 1689) < 100  # the parameter-matched MLP
    for r in records:
        assert 0 < r["rel_l2"] < 1.5 and r["paper_adaptive_rel_l2"] == 0.000210
    assert "| diffusion | kan | 1689 |" in (out / "table.md").read_text()
    assert (out / "diffusion.png").stat().st_size > 0
    # the saved networks, reloaded, give the errors the table reports
    problem = kf.pinn.pdes.diffusion()
    ref = problem.reference_values
    for r in records:
        model, variables = kf.load(out / f"diffusion-{r['model']}")
        got = np.asarray(model.apply(variables, problem.eval_points.astype(np.float32)))[:, 0]
        err = np.linalg.norm(got - ref) / np.linalg.norm(ref)
        np.testing.assert_allclose(err, r["rel_l2"], rtol=1e-4)
    from kanflow_experiments import pikan_benchmarks

    bad = pikan_benchmarks.Config(problems=("poisson",))
    with pytest.raises(ValueError, match="unknown problem 'poisson'"):
        pikan_benchmarks.run(bad, str(tmp_path))
    bad = pikan_benchmarks.Config(parametrisation="torch")
    with pytest.raises(ValueError, match="unknown parametrisation 'torch'"):
        pikan_benchmarks.run(bad, str(tmp_path))


def test_pikan_benchmarks_passes_resampling_grid_margin_and_start(tmp_path, monkeypatch):
    from kanflow_experiments import pikan_benchmarks

    seen = []

    def stop(problem, model, steps, **kw):  # records the call instead of training
        seen.append(
            (kw["resample_at"], kw["grid_margin"], kw["variables"], problem.name, kw["causal_axis"])
        )
        raise StopIteration

    monkeypatch.setattr(kf.pinn.pde, "train", stop)
    given = {"params": {}}
    for flag, par, start in (
        (True, "pykan", None),
        (False, "pykan", None),
        (True, "jaxkan", given),
    ):
        cfg = pikan_benchmarks.Config(
            problems=("burgers",), models=("kan",), resample=flag, parametrisation=par
        )
        with pytest.raises(StopIteration):
            pikan_benchmarks.run(cfg, str(tmp_path), quiet=True, kan_start=start)
    # the paper's Burgers resamplings (50k, 75k of 1e5 steps), then none; jaxKAN's grid
    # updates widen the uniform grid by 0.01; a given start replaces model.init
    assert [s[:2] for s in seen] == [((50000, 75000), 0.0), ((), 0.0), ((50000, 75000), 0.01)]
    assert seen[0][2] is None and seen[2][2] is given
    # causal training in t for the evolution problems only
    assert [s[4] for s in seen] == [None] * 3
    seen.clear()
    for name in ("diffusion", "helmholtz", "burgers", "allen_cahn"):
        cfg = pikan_benchmarks.Config(problems=(name,), models=("kan",), causal=True)
        with pytest.raises(StopIteration):
            pikan_benchmarks.run(cfg, str(tmp_path), quiet=True)
    assert [s[3:] for s in seen] == [
        ("diffusion", 0),
        ("helmholtz", None),
        ("burgers", 0),
        ("allen_cahn", 0),
    ]


def test_pikan_benchmarks_stop_grid_fit_and_checkpoints(tmp_path, monkeypatch):
    from kanflow_experiments import pikan_benchmarks

    seen = []

    def stop(problem, model, steps, **kw):  # records the call instead of training
        keys = ("grid_sizes", "resample_at", "grid_update_start", "grid_update_every")
        seen.append((steps, *(kw[k] for k in keys), kw["checkpoint_dir"], kw["resume"]))
        raise StopIteration

    monkeypatch.setattr(kf.pinn.pde, "train", stop)
    ckpt = str(tmp_path / "ckpt")
    for fit, at, where, par, resume in (
        (True, None, None, "pykan", True),
        (False, 40000, None, "pykan", True),
        (True, 20000, None, "pykan", True),
        (False, 20001, ckpt, "pykan", False),
        (None, 20000, None, "pykan", True),
        (None, 20000, None, "jaxkan", True),
    ):
        cfg = pikan_benchmarks.Config(
            problems=("allen_cahn",),
            models=("kan",),
            grid_fit_at_start=fit,
            stop=at,
            checkpoint_dir=where,
            parametrisation=par,
            resume=resume,
        )
        with pytest.raises(StopIteration):
            pikan_benchmarks.run(cfg, str(tmp_path), quiet=True)
    # the schedule's events before the stop only; updates from step 0 or after one period
    # (by default: from 0 for the authors' parametrisation only); one checkpoint folder per run,
    # resumed unless resume=false
    grids, every = {0: 3, 8000: 8, 20000: 12}, 275
    assert seen == [
        (100000, grids, (20000, 30000, 40000, 50000, 60000), 0, every, None, True),
        (40000, grids, (20000, 30000), every, every, None, True),
        (20000, {0: 3, 8000: 8}, (), 0, every, None, True),
        (20001, grids, (20000,), every, every, f"{ckpt}/allen_cahn-kan", False),
        (20000, {0: 3, 8000: 8}, (), every, every, None, True),
        (20000, {0: 3, 8000: 8}, (), 0, every, None, True),
    ]
    for bad in (0, 100001):
        cfg = pikan_benchmarks.Config(problems=("allen_cahn",), stop=bad)
        with pytest.raises(ValueError, match="stop must be in"):
            pikan_benchmarks.run(cfg, str(tmp_path), quiet=True)


def test_pikan_jaxkan_parametrisation_averages_like_jaxkan():
    import optax

    from kanflow_experiments import pikan_benchmarks

    settings, opt = pikan_benchmarks._jaxkan_like(1e-3)
    model = kf.models.KAN((2, 8, 8, 1), grid_size=3, **settings)
    start = pikan_benchmarks._jaxkan_start(model, 0)
    params = start["params"]
    # every layer starts as jaxKAN's (1/in) sum_i (silu + spline): both scales 1/in
    for layer, n_in in (("layer_0", 2), ("layer_1", 8), ("layer_2", 8)):
        for name in ("scale_base", "scale_sp"):
            np.testing.assert_allclose(params[layer][name], 1 / n_in, rtol=1e-6)
    fresh = model.init(jax.random.key(0), np.zeros((1, 2)))
    np.testing.assert_array_equal(params["layer_1"]["coef"], fresh["params"]["layer_1"]["coef"])
    x = np.random.default_rng(0).uniform(-1, 1, (5, 2))  # layer 0 against the formula
    edges = model.layer(0).apply(
        {c: start[c]["layer_0"] for c in start}, x, per_edge=True
    )  # [5, 2, 8]: scale_base silu + scale_sp spline, per edge
    spline = model.layer(0).clone(base_activation=None)
    sp = spline.apply({c: start[c]["layer_0"] for c in start}, x, per_edge=True)
    silu = x / (1 + np.exp(-x))
    np.testing.assert_allclose(edges, (silu[:, :, None] + 2 * np.asarray(sp)) / 2, rtol=1e-5)
    # coefficients N(0, 0.1^2) at G = 3 (6 per edge), as jaxKAN's
    assert 0.07 < np.std(params["layer_1"]["coef"]) < 0.13
    # Adam's steps on the scales are divided by the layer's inputs, the rest unchanged
    grads = jax.tree.map(lambda p: np.random.default_rng(1).normal(size=p.shape), params)
    plain = optax.adam(1e-3, nesterov=True)
    got = opt.update(grads, opt.init(params), params)[0]
    want = plain.update(grads, plain.init(params), params)[0]
    for layer, n_in in (("layer_0", 2), ("layer_1", 8), ("layer_2", 8)):
        for name, w in got[layer].items():
            div = n_in if name in ("scale_base", "scale_sp") else 1
            np.testing.assert_allclose(w, np.asarray(want[layer][name]) / div, rtol=1e-6)


def test_run_af_kan_mnist_on_digits_writes_results(tmp_path):
    out = tmp_path / "af"
    args = [
        "run",
        "af_kan_mnist",
        "--quiet",
        "--out",
        str(out),
        "models=mlp,",  # AF-KAN runs in the tfds test below; it learns in test_afkan.py
        "epochs=3",
        "seeds=0,1",
    ]
    assert cli.main(args) == 0
    res = json.loads((out / "metrics.json").read_text())["results"]["digits"]
    assert set(res) == {"mlp"}
    assert res["mlp"]["params"] == 2 * 64 + 64 * 64 + 2 * 64 + 64 * 10  # LN + bias-free linear
    r = res["mlp"]
    assert len(r["accuracy"]) == 2 and r["accuracy_mean"] > 0.5 and r["flops"] > 0
    assert "| digits | mlp | 64-64-10 | 3 |" in (out / "table.md").read_text()
    assert (out / "accuracy.png").stat().st_size > 0


def test_af_kan_mnist_reads_tfds_mnist(tmp_path, monkeypatch):
    import tensorflow_datasets as tfds

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    with tfds.testing.mock_data(num_examples=128):
        args = [
            "run",
            "af_kan_mnist",
            "--quiet",
            "--out",
            str(tmp_path / "m"),
            "datasets=mnist",
            "models=af_kan_quad1",
            "epochs_override=1",
            "seeds=0,",
            "hidden=8",
        ]
        assert cli.main(args) == 0
    res = json.loads((tmp_path / "m" / "metrics.json").read_text())["results"]["mnist"]
    assert res["af_kan_quad1"]["widths"] == [784, 8, 10]


def test_af_kan_mnist_rejects_unknown_model(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "af_kan_mnist", "--quiet", "--out", str(tmp_path), "models=kan9"])
    assert "unknown model 'kan9'" in capsys.readouterr().err


def test_run_activation_zoo_writes_results(tmp_path):
    out = tmp_path / "zoo"
    args = [
        "run",
        "activation_zoo",
        "--quiet",
        "--out",
        str(out),
        "models=mlp,vit",
        "activations=relu,",
        "epochs=2",
        "seeds=0,",
    ]
    assert cli.main(args) == 0
    res = json.loads((out / "metrics.json").read_text())["results"]
    assert set(res) == {"mlp", "vit"} and set(res["mlp"]) == {"relu"}
    assert res["mlp"]["relu"]["params"] == 64 * 128 + 128 + 128 * 128 + 128 + 128 * 10 + 10
    assert 0.0 < res["mlp"]["relu"]["density"]["act_0"] < 1.0  # relu zeroes some units
    assert res["vit"]["relu"]["accuracy_mean"] > 0.2  # learning (chance is 0.1) after 2 epochs
    assert (out / "shapes.png").stat().st_size > 0


def test_run_karat_vit_on_tfds_cifar10_writes_results(tmp_path, monkeypatch):
    # one end-to-end run: tfds data (mocked), Fourier-KArAt, the recipe but RandAugment
    # (covered by tests/test_augment.py, off here to keep compile time down), maps, table
    import tensorflow_datasets as tfds

    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path))
    out = tmp_path / "karat"
    with tfds.testing.mock_data(num_examples=32):
        args = [
            "run",
            "karat_vit",
            "--quiet",
            "--out",
            str(out),
            "dataset=cifar10",
            "size=custom",
            "image_size=8",
            "patch_size=2",
            "width=8",
            "depth=1",
            "num_heads=2",
            "karat_rank=4",
            "attentions=fourier_karat_blockwise,",
            "epochs=1",
            "batch_size=16",
            "seeds=0,",
            "randaugment_n=0",
        ]
        assert cli.main(args) == 0
    res = json.loads((out / "metrics.json").read_text())["results"]
    assert set(res) == {"fourier_karat_blockwise"}
    softmax = kf.models.ViT(
        10, image_size=8, patch_size=2, width=8, depth=1, num_heads=2, mlp_ratio=2
    )
    shapes = jax.eval_shape(softmax.init, jax.random.key(0), jnp.zeros((1, 8, 8, 3)))
    per_head = (2 * 3 + 3) * 17 * 4  # (2G + 3) N r
    assert res["fourier_karat_blockwise"]["params"] - kf.count_params(shapes) == 2 * per_head
    assert "| cifar10 | custom | fourier_karat_blockwise |" in (out / "table.md").read_text()
    assert (out / "attention_maps.png").stat().st_size > 0


def test_run_skan_function_fitting_writes_results(tmp_path):
    out = tmp_path / "skan"
    args = [
        "run",
        "skan_function_fitting",
        "--quiet",
        "--out",
        str(out),
        "targets=xy,",
        "models=kan_bspline,skan",
        "skan_spaces=bspline,chebyshev",  # the 12-space pool trains in tests/test_skan.py
        "steps=40",
        "seeds=0,",
        "n_train=200",
        "n_test=100",
    ]
    assert cli.main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    rows = metrics["results"]["xy"]
    assert rows["kan_bspline"]["params"] == 5 * 3 * (8 + 2)  # the reference budget
    assert len(rows["skan"]["test_rmse"]) == 1
    assert 0.0 <= rows["skan"]["selection_entropy"][0] <= 1.0 + 1e-5
    assert rows["skan"]["rmse_before_selection"][0] > 0
    assert rows["skan"]["rmse_after_selection"][0] > 0
    hidden = rows["skan"]["hidden"]
    chosen = rows["skan"]["chosen_per_node"][0]  # per layer, after pruning
    assert 1 <= len(chosen[0]) <= hidden and len(chosen[1]) == 1
    assert len(metrics["chosen_spaces"]["xy"]) > 0
    assert rows["skan"]["params"] <= rows["kan_bspline"]["params"]  # pruned to the budget
    labels = [lab for layer in chosen for lab in layer]
    oracle = rows["skan"]["oracle"]
    assert oracle["best_single"] == "kan_bspline"  # the only single-basis KAN here
    assert oracle["match_rate"] == labels.count("bspline G5 k3") / len(labels)
    assert rows["skan_oracle"]["space"] == "bspline"
    assert rows["skan_oracle"]["chosen_per_node"][0][0][0] == "bspline G5 k3"
    assert rows["skan_oracle"]["params"] <= rows["kan_bspline"]["params"]
    table = (out / "table.md").read_text()
    assert "S-KAN beats every single-basis KAN on" in table
    assert "skan_oracle (bspline)" in table and "- xy: S-KAN" in table
    assert "mean normalised entropy" in table
    assert (out / "skan_fitting.png").stat().st_size > 0


def test_run_skan_image_classification_writes_results(tmp_path):
    out = tmp_path / "sconv"
    args = [
        "run",
        "skan_image_classification",
        "--quiet",
        "--out",
        str(out),
        "epochs=3",
        "channels=4,8",
        "spaces=bspline,chebyshev",
        "seeds=0,",
        "models=cnn,sconvkan",
    ]
    assert cli.main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    res = metrics["results"]["digits"]
    assert set(res) == {"cnn", "sconvkan"}
    # the CNN is sized to the ConvKAN's parameter count
    convkan = kf.models.ConvNet(10, channels=(4, 8), conv="kan")
    n_kan = kf.count_params(
        jax.eval_shape(convkan.init, jax.random.key(0), jnp.zeros((1, 8, 8, 1)))
    )
    assert abs(res["cnn"]["params"] - n_kan) < 0.2 * n_kan
    labels = metrics["chosen_spaces"]["digits"][0]
    kept = metrics["sconvkan_channels"]["digits"][0]  # after pruning (3 epochs: one per stage)
    assert [len(layer) for layer in labels] == kept and all(
        1 <= k <= c for k, c in zip(kept, [4, 8], strict=True)
    )


def test_symbolic_regression_quick_recovers_pykans_formula(tmp_path):
    # kf.symbolic.discover on pykan's first example, 1000 samples, seed 0: the formula is
    # exactly the truth after rounding (pykan documents exp(x_2^2 + sin(3.1416 x_1))), and
    # unrounded it is the truth to float64 round-off on fresh points
    out = tmp_path / "run"
    assert cli.main(["run", "symbolic_regression", "--quick", "--quiet", "--out", str(out)]) == 0
    r = json.loads((out / "metrics.json").read_text())["results"]["exp_sin_sq"]
    assert r["exact"] and r["formula"] == "exp(x_2**2 + sin(3.1416*x_1))", r["formula"]
    assert r["widths"] == [2, 1, 1]
    assert r["exact_formula_fresh_rmse"] < 1e-7  # y spans [0.37, 7.4]
    assert 1e-6 < r["fresh_rmse"] < 1e-4  # 3.1416 for pi: the rounded formula's own error
    assert [e["name"] for e in r["edges"]] == ["sin", "x^2", "exp"]
    assert r["outside_domain"] == []  # exp, sin and x^2 are defined everywhere
    table = (out / "table.md").read_text()
    assert (
        "| exp_sin_sq | `exp(sin(pi*x_1) + x_2**2)` | `exp(x_2**2 + sin(3.1416*x_1))` | yes |"
        in table
    )
