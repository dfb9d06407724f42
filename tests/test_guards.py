"""No silent wrong results: bad input gets a clear error, failures lose no work."""

import json
import os
import warnings
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
import orbax.checkpoint as ocp
import pytest

import kanflow as kf
from kanflow import cli

TINY_FIT = [
    "targets=xy,",
    "grids=3,",
    "steps_per_grid=2",
    "restarts=1",
    "restart_steps=1",
    "n_train=20",
    "n_test=10",
    "mlp=False",
]


def run_cli(out, *extra):
    return cli.main(["run", "function_fitting", "--quiet", "--out", str(out), *TINY_FIT, *extra])


def test_run_never_overwrites_silently_and_a_failed_run_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_cli(out) == 0
    first = (out / "metrics.json").read_text()
    with pytest.raises(SystemExit) as exc:  # a second run into the same folder is refused
        run_cli(out, "seed=1")
    assert exc.value.code == 2 and "--overwrite" in capsys.readouterr().err
    assert (out / "metrics.json").read_text() == first
    with pytest.raises(SystemExit):  # a failing run (unknown target) writes nothing
        run_cli(tmp_path / "bad", "targets=nope,")
    assert "unknown target 'nope'" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["run"]  # no partial folder left beside it
    assert (
        cli.main(
            [
                "run",
                "function_fitting",
                "--quiet",
                "--overwrite",
                "--out",
                str(out),
                *TINY_FIT,
                "seed=1",
            ]
        )
        == 0
    )
    assert json.loads((out / "config.json").read_text())["seed"] == 1
    assert json.loads((out / "metrics.json").read_text())["config"]["seed"] == 1


def test_cli_errors_name_the_bad_key_in_one_line(tmp_path, capsys):
    cases = [
        (["function_fitting", "grids=abc"], "override grids='abc'"),
        (["pinn_quantum_wells", "states=x"], "override states='x'"),
        (["pinn_quantum_wells", "potentials=well:abc"], "potential spec 'well:abc'"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exc:
            cli.main(["run", args[0], "--quiet", "--out", str(tmp_path / "x"), *args[1:]])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and message in err and "Traceback" not in err, err
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as exc:  # an --out that cannot be created
        run_cli(blocker / "sub")
    assert exc.value.code == 2 and "kanflow: error:" in capsys.readouterr().err


def classifier_data(labels):
    x = np.random.default_rng(0).normal(size=(len(labels), 4)).astype(np.float32)
    return {"x": x, "y": np.asarray(labels)}


@pytest.mark.parametrize(
    "labels, match",
    [
        ([0, 1, -1, 2], r"must lie in \[0, 3\)"),
        ([0, 1, 3, 2], r"must lie in \[0, 3\)"),
        ([0.0, 1.0, 2.0, 1.0], "integer class indices"),
        ([[0], [1], [2], [1]], r"must have shape \(4,\) .*got \(4, 1\)"),  # broadcast to [B, B]
    ],
)
def test_cross_entropy_labels_are_checked_on_the_host(labels, match):
    model = kf.models.MLP((4, 3))
    params = model.init(jax.random.key(0), jnp.zeros((1, 4)))["params"]
    loss = kf.train.supervised_loss(model, "cross_entropy")
    opt = optax.sgd(0.1)
    with pytest.raises(ValueError, match=match):
        kf.train.fit(loss, params, classifier_data(labels), optimizer=opt, steps=1, quiet=True)
    batch = classifier_data(labels)  # and through a batch_fn, batch by batch
    with pytest.raises(ValueError, match=match):
        kf.train.fit(loss, params, lambda step: batch, optimizer=opt, steps=1, quiet=True)


def test_regression_targets_and_batches_are_checked():
    model = kf.models.KAN((2, 1), basis="rbf")
    params = model.init(jax.random.key(0), jnp.zeros((1, 2)))["params"]
    loss, opt = kf.train.supervised_loss(model), optax.sgd(0.1)
    x = np.zeros((8, 2), np.float32)
    with pytest.raises(ValueError, match=r"has shape \(8, 2\) but the model outputs \(8, 1\)"):
        kf.train.fit(loss, params, {"x": x, "y": np.zeros((8, 2))}, optimizer=opt, steps=1)
    with pytest.raises(ValueError, match="has no 'y' entry"):
        kf.train.fit(loss, params, lambda s: {"x": x}, optimizer=opt, steps=1, quiet=True)
    with pytest.raises(ValueError, match="no examples"):
        kf.train.fit(loss, params, {"x": x[:0], "y": x[:0, :1]}, optimizer=opt, steps=1)
    with pytest.raises(ValueError, match="non-empty dict"):
        kf.train.fit(loss, params, {}, optimizer=opt, steps=1)


def test_optimizer_settings_that_would_be_ignored_or_reverse_training_are_refused():
    cases = [
        (dict(name="adam", weight_decay=1e-4), "weight_decay is only used by 'adamw'"),
        (dict(name="sgd", weight_decay=1e-4), "weight_decay is only used by 'adamw'"),
        (dict(name="adamw", weight_decay=-1e-4), "weight_decay must be >= 0"),
        (dict(name="sgd", grad_clip=-1.0), "grad_clip must be > 0"),  # reversed the update
        (dict(name="adam", grad_clip=0.0), "grad_clip must be > 0"),  # froze training
        (dict(name="sgd", learning_rate=jnp.asarray(-0.1)), "learning_rate must be a finite"),
    ]
    for kw, match in cases:
        with pytest.raises(ValueError, match=match):
            kf.train.make_optimizer(**kw)
    schedules = [
        (dict(schedule="cosine", steps=10, end_value=-1.0), "end_value must be >= 0"),
        (dict(schedule="exponential", decay_rate=-0.5), "decay_rate must be in"),
        (dict(schedule="exponential", transition_steps=0), "transition_steps >= 1"),
        (dict(schedule="constant", warmup_steps=-2), "warmup_steps must be >= 0"),
    ]
    for kw, match in schedules:
        with pytest.raises(ValueError, match=match):
            kf.train.make_schedule(0.1, **kw)


@pytest.mark.parametrize("lr", [-1e-3, 0.0, float("nan"), float("inf")])
def test_learning_rate_must_be_finite_and_positive(lr):
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        kf.train.make_optimizer("adam", lr)
    with pytest.raises(ValueError, match="learning_rate must be a finite number > 0"):
        kf.train.make_schedule(lr, "cosine", steps=10)


def quadratic_loss(params, model_state, batch, rng):
    return jnp.sum(params["w"] ** 2), {}


def test_a_finite_divergence_stops_training():
    # plain gradient descent with step 1.5 on |w|^2 multiplies w by -2 per step
    with pytest.raises(kf.train.DivergenceError, match="more than 1e\\+06 times") as exc:
        kf.train.fit(
            quadratic_loss, {"w": jnp.ones(3)}, lambda s: {}, optimizer=optax.sgd(1.5), steps=50
        )
    assert exc.value.step < 15 and np.isfinite(exc.value.loss)
    res = kf.train.fit(  # the guard can be turned off
        quadratic_loss,
        {"w": jnp.ones(3)},
        lambda s: {},
        optimizer=optax.sgd(1.5),
        steps=12,
        divergence=None,
        quiet=True,
    )
    assert res.history["loss"][-1] > 1e6


def train(ckpt, steps, every=5, **kw):
    return kf.train.fit(
        quadratic_loss,
        {"w": jnp.arange(3.0)},
        lambda s: {},
        optimizer=optax.sgd(0.01),
        steps=steps,
        checkpoint_dir=ckpt,
        checkpoint_every=every,
        quiet=True,
        **kw,
    )


def test_resuming_with_fewer_steps_is_refused(tmp_path):
    train(tmp_path / "c", 10)
    with pytest.raises(ValueError, match="at step 10, past steps=5"):
        train(tmp_path / "c", 5)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        train(blocker, 5)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"w": jnp.arange(4.0)}, r"w is float32\[3\] there, float32\[4\] here"),
        ({"w": jnp.arange(3.0), "b": jnp.zeros(())}, r"b is absent there, float32\[\] here"),
    ],
)
def test_another_networks_checkpoint_is_refused_and_kept(tmp_path, params, match):
    ckpt = tmp_path / "c"
    train(ckpt, 10)
    before = sorted(os.listdir(ckpt))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # not "skipping ... unreadable"
        with pytest.raises(ValueError, match=f"checkpoint {ckpt}/10 holds another state.*{match}"):
            kf.train.fit(
                quadratic_loss,
                params,
                lambda s: {},
                optimizer=optax.sgd(0.01),
                steps=20,
                checkpoint_dir=ckpt,
                checkpoint_every=5,
                quiet=True,
            )
    assert sorted(os.listdir(ckpt)) == before  # nothing set aside, nothing new saved
    assert int(train(ckpt, 20).state.step) == 20  # its own run still resumes from it


def test_starting_afresh_sets_an_earlier_runs_checkpoints_aside(tmp_path):
    """A run started with resume=False in a folder of an earlier run's checkpoints (steps
    10-20), interrupted at step 3 and resumed, ends where it would have uninterrupted: before,
    its resume restored the earlier run's step 20."""
    ckpt = tmp_path / "c"
    train(ckpt, 20)
    faster = dict(optimizer=optax.sgd(0.1), steps=30, checkpoint_every=5, quiet=True)

    def interrupt(step, metrics):
        if step == 3:
            raise KeyboardInterrupt

    run = partial(kf.train.fit, quadratic_loss, {"w": jnp.arange(3.0)}, lambda s: {}, **faster)
    with pytest.warns(RuntimeWarning, match="10.superseded, 15.superseded, 20.superseded"):
        with pytest.raises(KeyboardInterrupt):
            run(checkpoint_dir=ckpt, resume=False, callback=interrupt, log_every=1)
    assert sorted(os.listdir(ckpt)) == ["10.superseded", "15.superseded", "20.superseded", "4"]
    resumed = run(checkpoint_dir=ckpt)
    assert resumed.history["step"][0] == 0
    np.testing.assert_array_equal(resumed.params["w"], run().params["w"])


def test_a_checkpoint_of_another_run_id_is_refused_and_kept(tmp_path):
    ckpt = tmp_path / "c"
    train(ckpt, 10, run_id={"lr": 0.01, "data": "a"})
    before = sorted(os.listdir(ckpt))
    cases = [
        ({"lr": 0.1, "data": "a"}, "another run's: lr 0.01 there, 0.1 here"),
        ({"lr": 0.01}, "another run's: data a there, None here"),
        (None, "saved with run_id .*this run has none"),
    ]
    for run_id, match in cases:
        with pytest.raises(ValueError, match=match):
            train(ckpt, 20, run_id=run_id)
    assert sorted(os.listdir(ckpt)) == before
    res = train(ckpt, 20, run_id={"data": "a", "lr": 0.01})  # its own run continues
    assert res.history["step"][0] == 0 and "run_id" not in res.history
    np.testing.assert_array_equal(res.params["w"], train(tmp_path / "ref", 20).params["w"])
    with pytest.raises(ValueError, match="saved without a run_id, this run's is"):
        train(tmp_path / "ref", 20, run_id={"lr": 0.01})
    with pytest.raises(ValueError, match="run_id must be a JSON-able dict"):
        train(tmp_path / "x", 20, run_id={"lr": object()})


def history_file(step_dir):
    found = [os.path.join(d, f) for d, _, fs in os.walk(step_dir) for f in fs if "history" in d]
    assert found, step_dir
    return found[0]


def array_file(step_dir):
    found = [
        os.path.join(d, f)
        for d, _, fs in os.walk(step_dir)
        for f in fs
        if "state" in d and os.path.getsize(os.path.join(d, f)) > 64
    ]
    assert found, step_dir
    return max(found, key=os.path.getsize)


@pytest.mark.parametrize("damage", ["history", "array", "empty_folder"])
def test_a_corrupted_latest_checkpoint_falls_back_to_an_intact_one(tmp_path, damage):
    ckpt = tmp_path / "c"
    full = train(tmp_path / "ref", 20)  # the uninterrupted run
    train(ckpt, 10)
    if damage == "history":
        with open(history_file(ckpt / "10"), "w") as f:
            f.write("{not json")
        expect = 5
    elif damage == "array":
        path = array_file(ckpt / "10")
        with open(path, "r+b") as f:
            f.truncate(os.path.getsize(path) // 2)
        expect = 5
    else:
        os.makedirs(ckpt / "15")
        expect = 10
    with pytest.warns(RuntimeWarning, match="skipping checkpoint .*unreadable"):
        state, history = kf.train.Checkpointer(ckpt).restore(full.state)
    assert int(state.step) == expect and history["step"][-1] == expect - 1
    assert os.path.isdir(ckpt / f"{10 if damage != 'empty_folder' else 15}.unreadable")
    res = train(ckpt, 20)  # resumes from there and ends where the uninterrupted run did
    assert res.history["step"][0] == 0 and res.history["step"][-1] == 19
    np.testing.assert_allclose(res.params["w"], full.params["w"], rtol=1e-6)


def test_ctrl_c_during_a_checkpoint_save_keeps_the_work(tmp_path, monkeypatch):
    ckpt = tmp_path / "c"
    real_save = ocp.CheckpointManager.save
    calls = {"n": 0}

    def interrupted_save(self, step, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second save dies half-way: its temporary folder stays behind
            os.makedirs(os.path.join(self.directory, f"{step}.orbax-checkpoint-tmp-1"))
            raise KeyboardInterrupt
        return real_save(self, step, *args, **kwargs)

    monkeypatch.setattr(ocp.CheckpointManager, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        train(ckpt, 20)
    assert not [n for n in os.listdir(ckpt) if "tmp" in n]
    assert kf.train.Checkpointer(ckpt).latest_step == 10  # the interrupted save, redone
    monkeypatch.setattr(ocp.CheckpointManager, "save", real_save)
    res = train(ckpt, 20)
    full = train(tmp_path / "ref", 20)
    np.testing.assert_allclose(res.params["w"], full.params["w"], rtol=1e-6)


def test_basis_helpers_refuse_nonsense():
    for call, match in [
        (lambda: kf.basis.uniform_knots(0, 3), "grid_size must be an int >= 1"),
        (lambda: kf.basis.uniform_knots(-2, 3), "grid_size must be an int >= 1"),
        (lambda: kf.basis.uniform_knots(5, 3, (1.0, -1.0)), "grid_range must be finite"),
        (lambda: kf.basis.registry.relu_kan_grid(0, 3, (0.0, 1.0)), "grid_size"),
        (lambda: kf.basis.gaussian_rbf(jnp.zeros(3), jnp.zeros(2), 0.0), "width must be > 0"),
        (lambda: kf.basis.mexican_hat(jnp.zeros(3), jnp.zeros(2), -1.0), "width must be > 0"),
        (lambda: kf.basis.uniform_centers(3, (2.0, 2.0)), "grid_range must be finite"),
    ]:
        with pytest.raises(ValueError, match=match):
            call()
    assert kf.basis.uniform_knots(np.int64(3), np.int32(1)).shape == (6,)


def test_bspline_is_zero_at_infinity_and_keeps_nan():
    knots = kf.basis.uniform_knots(4, 3)
    x = jnp.array([-jnp.inf, jnp.inf, jnp.nan, 0.1])
    b = kf.basis.bspline(x, knots, 3)
    np.testing.assert_array_equal(b[:2], 0.0)
    assert np.all(np.isnan(b[2])) and np.isclose(b[3].sum(), 1.0)
    g = jax.grad(lambda x: kf.basis.bspline(x, knots, 3).sum())(jnp.inf)
    assert g == 0.0


def test_models_take_numpy_ints_lists_and_refuse_integer_images():
    model = kf.models.KAN((np.int64(2), np.int32(3), 1), grid_size=np.int64(4))
    assert model.widths == (2, 3, 1) and type(model.widths[0]) is int
    v = model.init(jax.random.key(0), jnp.zeros((1, 2)))
    np.testing.assert_allclose(
        model.apply(v, [[0.1, 0.2]]), model.apply(v, jnp.array([[0.1, 0.2]])), rtol=1e-6
    )
    assert kf.layers.KANLayer(np.int64(2)).features == 2
    with pytest.raises(ValueError, match="widths must be >= 2 positive ints"):
        kf.models.KAN((2.0, 1))
    net = kf.models.ConvNet(10, channels=(np.int64(2),))
    with pytest.raises(ValueError, match="float images scaled to"):
        net.init(jax.random.key(0), np.zeros((1, 8, 8, 1), np.uint8))
    with pytest.raises(ValueError, match="energy_every must be an int >= 1"):
        kf.pinn.solve(kf.pinn.InfiniteWell(), energy_every=0, method="residual")
    with pytest.raises(ValueError, match="check_every must be an int >= 1"):
        kf.pinn.solve(kf.pinn.InfiniteWell(), check_every=0)
    with pytest.raises(ValueError, match="state must be an int >= 0"):
        kf.pinn.solve(kf.pinn.InfiniteWell(), state=-1)


def test_image_batches_never_repeat_examples_silently_and_downloads_fail_plainly(monkeypatch):
    digits = kf.data.image_source("digits", "test")
    with pytest.raises(ValueError, match="larger than the 360 examples"):
        kf.data.batches(digits, 361)
    import tensorflow_datasets as tfds

    def offline(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'some_download_dependency'")

    monkeypatch.setattr(tfds, "data_source", offline)
    with pytest.raises(OSError, match="downloading and preparing data set 'mnist' failed"):
        kf.data.image_source("mnist", "train", download=True)
