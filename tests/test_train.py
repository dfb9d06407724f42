"""Training core: convergence, single compilation, exact resume, NaN stop, sharding."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import kanflow as kf
from kanflow import train


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
    y = (np.sin(np.pi * x[:, :1]) + x[:, 1:] ** 2).astype(np.float32)
    return {"x": x, "y": y}


def kan_setup(widths=(2, 3, 1)):
    model = kf.models.KAN(widths, grid_size=4)
    variables = model.init(jax.random.key(0), jnp.zeros((1, widths[0])))
    loss_fn = train.supervised_loss(model)
    return model, variables, loss_fn


def run(loss_fn, variables, steps, **kw):
    return train.fit(
        loss_fn,
        variables["params"],
        regression_data(),
        model_state={"grid": variables["grid"]},
        optimizer=train.make_optimizer("adam", 1e-2),
        steps=steps,
        quiet=True,
        **kw,
    )


def test_fit_decreases_loss_and_compiles_once():
    _, variables, loss_fn = kan_setup()
    guarded = chex.assert_max_traces(loss_fn, n=1)  # a retrace would raise
    result = run(guarded, variables, 40, batch_size=16)
    h = result.history
    assert h["step"] == list(range(40))
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    assert set(h) >= {"step", "time", "loss", "rmse", "grad_norm"}
    np.testing.assert_allclose(np.sqrt(h["loss"]), h["rmse"], rtol=1e-5)
    assert int(result.state.step) == 40


def test_resume_after_crash_gives_the_same_curve(tmp_path):
    _, variables, loss_fn = kan_setup()
    full = run(loss_fn, variables, 20, batch_size=16)

    def crash(step, metrics):
        if step == 12:
            raise RuntimeError("simulated crash")

    ckpt = tmp_path / "ckpt"
    with pytest.raises(RuntimeError, match="simulated"):
        run(
            loss_fn,
            variables,
            20,
            batch_size=16,
            checkpoint_dir=ckpt,
            checkpoint_every=5,
            callback=crash,
        )
    assert train.Checkpointer(ckpt).latest_step == 10
    resumed = run(loss_fn, variables, 20, batch_size=16, checkpoint_dir=ckpt, checkpoint_every=5)
    assert resumed.history["step"] == full.history["step"]
    np.testing.assert_allclose(resumed.history["loss"], full.history["loss"], rtol=1e-5)
    chex.assert_trees_all_close(resumed.params, full.params, rtol=1e-5, atol=1e-7)


def test_keyboard_interrupt_saves_then_resumes(tmp_path):
    _, variables, loss_fn = kan_setup()
    full = run(loss_fn, variables, 12, batch_size=16)

    def interrupt(step, metrics):
        if step == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run(
            loss_fn,
            variables,
            12,
            batch_size=16,
            checkpoint_dir=tmp_path,
            checkpoint_every=100,
            callback=interrupt,
        )
    assert train.Checkpointer(tmp_path).latest_step == 8  # updates 0..7 were applied
    resumed = run(
        loss_fn, variables, 12, batch_size=16, checkpoint_dir=tmp_path, checkpoint_every=100
    )
    np.testing.assert_allclose(resumed.history["loss"], full.history["loss"], rtol=1e-5)


def test_checkpoints_keep_the_newest(tmp_path):
    _, variables, loss_fn = kan_setup()
    run(loss_fn, variables, 20, checkpoint_dir=tmp_path, checkpoint_every=5, keep_checkpoints=2)
    assert train.Checkpointer(tmp_path).all_steps() == [15, 20]
    every5 = train.Checkpointer(tmp_path, every=5)
    assert [s for s in range(21) if every5.is_due(s)] == [0, 5, 10, 15, 20]


def test_an_optimiser_state_that_overflows_is_refused():
    # a huge but finite gradient (1e20) overflows Adam's second moment to inf: the update
    # must be refused, not kept (the parameter would then never move again)
    def loss_fn(params, model_state, batch, rng):
        return batch["scale"][0] * jnp.sum(params["w"]), {}

    opt = train.make_optimizer("adam", 1e-2)
    step = train.make_train_step(loss_fn, opt)
    fresh = train.create_state({"w": jnp.zeros(2)}, opt)
    state, metrics = step(jax.tree.map(jnp.copy, fresh), {"scale": jnp.array([1e20])})
    assert not bool(metrics["finite"]) and int(state.step) == 0
    chex.assert_trees_all_equal(state.opt_state, fresh.opt_state)
    for _ in range(5):  # and training goes on from the last good state
        state, metrics = step(state, {"scale": jnp.array([1.0])})
    assert bool(metrics["finite"]) and np.all(np.asarray(state.params["w"]) < -0.04)


def test_non_finite_stops_with_last_good_state(tmp_path):
    # w climbs by 1 per step; the loss turns NaN once w > 3.5
    def loss_fn(params, model_state, batch, rng):
        w = params["w"]
        return -w + jnp.where(w > 3.5, jnp.nan, 0.0), {}

    with pytest.raises(train.NonFiniteError, match="step 4.*last finite loss: -3.0") as err:
        train.fit(
            loss_fn,
            {"w": jnp.zeros(())},
            {"x": np.zeros(1)},
            optimizer=optax.sgd(1.0),
            steps=10,
            quiet=True,
            checkpoint_dir=tmp_path,
            checkpoint_every=100,
        )
    assert (
        float(err.value.state.params["w"]) == 4.0
    )  # after 4 good steps; the bad update was refused
    assert err.value.checkpoint == 4
    assert train.Checkpointer(tmp_path).latest_step == 4


def test_non_finite_data_is_rejected():
    _, variables, loss_fn = kan_setup()
    data = regression_data()
    data["x"][3, 1] = np.nan
    with pytest.raises(ValueError, match=r"data\['x'\] has 1 non-finite"):
        train.fit(
            loss_fn, variables["params"], data, optimizer=optax.adam(1e-3), steps=1, quiet=True
        )


def test_lbfgs_solves_least_squares(x64):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 4)), rng.normal(size=50)
    loss_fn = lambda p, s, batch, r: (jnp.mean((batch["a"] @ p["w"] - batch["b"]) ** 2), {})
    result = train.fit(
        loss_fn,
        {"w": jnp.zeros(4)},
        {"a": a, "b": b},
        optimizer=train.make_optimizer("lbfgs"),
        steps=30,
        quiet=True,
    )
    np.testing.assert_allclose(result.params["w"], np.linalg.lstsq(a, b, rcond=None)[0], rtol=1e-8)


def test_data_parallel_matches_single_device():
    assert jax.device_count() == 4, "conftest sets four host devices"
    _, variables, loss_fn = kan_setup()
    single = run(loss_fn, variables, 10, batch_size=32)
    mesh = train.data_mesh()
    sharded = run(loss_fn, variables, 10, batch_size=32, mesh=mesh)
    np.testing.assert_allclose(sharded.history["loss"], single.history["loss"], rtol=1e-5)
    chex.assert_trees_all_close(sharded.params, single.params, rtol=1e-4, atol=1e-6)
    leaf = jax.tree_util.tree_leaves(sharded.params)[0]
    assert len(leaf.sharding.device_set) == 4
    with pytest.raises(ValueError, match="divisible by the 4 devices"):
        train.shard_batch({"x": np.zeros((6, 2))}, mesh)


def test_schedules_match_closed_forms():
    sched = train.make_schedule(1.0, "cosine", steps=100, warmup_steps=10, end_value=0.1)
    np.testing.assert_allclose(sched(5), 0.5, rtol=1e-6)
    t = (55 - 10) / 90
    np.testing.assert_allclose(sched(55), 0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * t)), rtol=1e-5)
    expo = train.make_schedule(1e-3, "exponential", decay_rate=0.8, transition_steps=10)
    np.testing.assert_allclose(expo(25), 1e-3 * 0.8**2, rtol=1e-6)
    with pytest.raises(ValueError, match="schedule must be"):
        train.make_schedule(1.0, "linear")
    with pytest.raises(ValueError, match="optimizer must be"):
        train.make_optimizer("adagrad")
    with pytest.raises(ValueError, match="steps must be"):
        train.fit(lambda *a: (0.0, {}), {}, {"x": np.zeros(1)}, optimizer=optax.sgd(1.0), steps=-1)


def test_lbfgs_step_compiles_once_across_fits_and_finds_lbfgs():
    opt = train.make_optimizer("lbfgs")
    assert train.uses_linesearch(opt) and not train.uses_linesearch(optax.adam(1e-3))
    _, variables, plain_loss = kan_setup()
    traces = []

    def loss_fn(*args, **kwargs):  # Python runs only while JAX traces
        traces.append(1)
        return plain_loss(*args, **kwargs)

    step = train.make_train_step(loss_fn, opt)
    kw = dict(optimizer=opt, quiet=True, step_fn=step, model_state={"grid": variables["grid"]})
    first = train.fit(loss_fn, variables["params"], regression_data(), steps=5, **kw)
    after_first = len(traces)
    second = train.fit(loss_fn, first.params, regression_data(), steps=5, **kw)
    assert after_first > 0 and len(traces) == after_first  # the second fit reuses the compiled step
    assert second.history["loss"][-1] < first.history["loss"][0]


def test_grid_schedule_extends_and_improves(x64):
    data = regression_data(200)
    model = kf.models.KAN((2, 1, 1), param_dtype=jnp.float64)
    phases = kf.recipes.fit_grid_schedule(
        model,
        data["x"].astype(np.float64),
        data["y"].astype(np.float64),
        (3, 6),
        steps_per_grid=40,
        restarts=2,
        restart_steps=10,
    )
    assert [p.grid_size for p in phases] == [3, 6]
    assert phases[1].variables["params"]["layer_0"]["coef"].shape == (2, 9, 1)
    assert phases[1].history["loss"][-1] < phases[0].history["loss"][-1]
    assert phases[0].history["step"] == list(range(40))
    with pytest.raises(ValueError, match="restart_steps"):
        kf.recipes.fit_grid_schedule(
            model, data["x"], data["y"], (3,), steps_per_grid=5, restart_steps=10
        )


def test_eval_fn_runs_on_schedule_and_at_the_end():
    model, variables, loss_fn = kan_setup()
    data = regression_data()
    seen = []

    def eval_fn(params, model_state):
        seen.append(1)
        pred = model.apply({"params": params, **model_state}, data["x"])
        return {"rmse": jnp.sqrt(jnp.mean((pred - data["y"]) ** 2))}

    result = run(loss_fn, variables, 12, eval_fn=eval_fn, eval_every=5, log_every=4)
    h = result.history
    assert h["eval_step"] == [5, 10, 12] and len(seen) == 3
    assert h["step"] == [0, 4, 8, 11]  # every log_every steps, and the last
    assert h["eval_rmse"][-1] < h["eval_rmse"][0]


def test_best_of_restarts_keeps_the_lowest_training_loss():
    data = regression_data()
    model = kf.models.MLP((2, 8, 1))
    best = kf.recipes.best_of_restarts(
        model, data, restarts=3, steps=15, seed=4, optimizer=train.make_optimizer("adam", 1e-2)
    )
    finals = []
    for s in (4, 5, 6):  # each seed alone, from the same init the helper uses
        params = jax.jit(model.init)(jax.random.key(s), data["x"][:1])["params"]
        res = train.fit(
            train.supervised_loss(model),
            params,
            data,
            steps=15,
            quiet=True,
            optimizer=train.make_optimizer("adam", 1e-2),
        )
        finals.append(res.history["loss"][-1])
    assert best.seed == 4 + int(np.argmin(finals))
    np.testing.assert_allclose(best.history["loss"][-1], min(finals), rtol=1e-6)
    with pytest.raises(ValueError, match="restarts >= 1"):
        kf.recipes.best_of_restarts(model, data, restarts=0, steps=5)


def test_train_classifier_on_digits_reports_accuracy_cost_and_resumes(tmp_path):
    train = kf.data.image_source("digits", "train")
    test = kf.data.image_source("digits", "test")
    model = kf.models.MLP((64, 32, 10), activation="relu")

    def flat(b):
        return {"image": b["image"].reshape(len(b["label"]), -1), "label": b["label"]}

    def run(epochs, seed=0):
        return kf.recipes.train_classifier(
            model,
            train,
            test,
            kf.train.make_optimizer("adam", 3e-3),
            epochs=epochs,
            batch_size=64,
            seed=seed,
            transform=flat,
            checkpoint_dir=tmp_path,
            quiet=True,
        )

    first = run(2)
    with pytest.raises(ValueError, match="another run's: seed 0 there, 1 here"):
        run(4, seed=1)  # other batches: not a continuation
    res = run(4)  # resumes from the 2-epoch checkpoint
    assert res.history["step"][0] == 0 and res.history["step"][-1] == 4 * (1437 // 64) - 1
    # accuracy measured independently of evaluate_accuracy
    x = flat(kf.data.load_arrays(test))
    pred = np.argmax(model.apply(res.variables, x["image"]), -1)
    assert res.test_accuracy == pytest.approx(np.mean(pred == x["label"]))
    assert res.test_accuracy > 0.85 and res.test_accuracy >= first.test_accuracy - 0.05
    assert res.params == 64 * 32 + 32 + 32 * 10 + 10
    # XLA's count is at least the two matmuls' multiply-adds
    assert res.flops >= 2 * (64 * 32 + 32 * 10)
    assert res.epoch_time_s > 0
    with pytest.raises(ValueError, match="batch_size=5000 is larger than the train split"):
        kf.recipes.train_classifier(model, train, test, optax.adam(1e-3), epochs=1, batch_size=5000)


@pytest.mark.parametrize("processes", [1, 2, 4])
def test_each_process_feeds_its_own_slice_of_the_global_batch(processes):
    # simulated hosts: each computes the same global batch and keeps its own rows, so over an
    # epoch every example is fed exactly once across all processes (none twice)
    data = {"x": np.arange(24.0)[:, None], "y": np.arange(24)}
    batch_fn = kf.train.array_batches(data, 8, seed=3)
    fed = []
    for step in range(3):  # one epoch of 24 / 8 steps
        slices = [kf.train.process_slice(batch_fn(step), i, processes) for i in range(processes)]
        assert all(len(s["y"]) == 8 // processes for s in slices)
        np.testing.assert_array_equal(np.concatenate([s["y"] for s in slices]), batch_fn(step)["y"])
        fed.extend(int(v) for s in slices for v in s["y"])
    assert sorted(fed) == list(range(24))
    with pytest.raises(ValueError, match="divisible by the 3 processes"):
        kf.train.process_slice(batch_fn(0), 0, 3)
    with pytest.raises(ValueError, match="process_index 2 is not in"):
        kf.train.process_slice(batch_fn(0), 2, 2)


def test_grid_schedule_padding_keeps_the_function_and_its_gradients(x64):
    """The schedule trains every grid inside the largest one: zero-padded, masked
    coefficients and knots continued to the right must change nothing."""
    from kanflow.recipes import grids

    model = kf.models.KAN((2, 3, 1), grid_size=4, param_dtype=jnp.float64)
    x = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (64, 2)))
    y = jnp.sin(3 * x[:, :1]) * x[:, 1:]
    variables = model.init(jax.random.key(0), x)
    model, variables = kf.grid.update(model, variables, x)  # non-uniform knots, as in training
    x = jnp.concatenate([x, jnp.array([[1.4, 1.3], [1.2, -1.5]])])  # beyond the grid, where
    y = jnp.sin(3 * x[:, :1]) * x[:, 1:]  # the padded functions do not vanish: the mask must act
    n_max = model.clone(grid_size=11).space.num_basis()
    padded = grids._pad_basis(variables, n_max)
    big = model.clone(grid_size=11)
    assert padded["params"]["layer_0"]["coef"].shape == (2, n_max, 3)

    plain = kf.train.supervised_loss(model)
    masked = grids._masked(kf.train.supervised_loss(big))
    state = lambda v: {k: w for k, w in v.items() if k != "params"}
    rng = jax.random.key(1)
    (l0, _), g0 = jax.value_and_grad(plain, has_aux=True)(
        variables["params"], state(variables), {"x": x, "y": y}, rng
    )
    (l1, _), g1 = jax.value_and_grad(masked, has_aux=True)(
        padded["params"], state(padded), {"x": x, "y": y}, rng
    )
    np.testing.assert_allclose(l1, l0, rtol=1e-12)
    for layer in ("layer_0", "layer_1"):
        n = variables["params"][layer]["coef"].shape[1]
        np.testing.assert_allclose(g1[layer]["coef"][:, :n], g0[layer]["coef"], atol=1e-12)
        np.testing.assert_array_equal(g1[layer]["coef"][:, n:], 0.0)  # the padding stays zero
        np.testing.assert_allclose(g1[layer]["scale_base"], g0[layer]["scale_base"], atol=1e-12)
    back = grids._unpad_basis(padded)
    jax.tree.map(np.testing.assert_array_equal, back, variables)


def test_padded_grid_extension_matches_extend_and_compiles_once(x64):
    from kanflow.recipes import grids as rg

    model = kf.models.KAN((2, 3, 1), grid_size=3, param_dtype=jnp.float64)
    x = np.random.default_rng(0).uniform(-1, 1, (300, 2))
    variables = model.init(jax.random.key(0), x[:1])
    variables = {
        **variables,
        "params": jax.tree.map(
            lambda v: v + 0.3 * np.random.default_rng(1).normal(size=v.shape), variables["params"]
        ),
    }
    largest = model.clone(grid_size=12)
    n_max = largest.space.num_basis()
    steps = [(model, variables)]
    sizes = []
    for g in (7, 12):
        prev_model, prev = steps[-1]
        want_model, want = kf.grid.extend(prev_model, prev, x, g)
        before = rg._refit._cache_size()
        got = rg._unpad_basis(rg._extend_padded(largest, rg._pad_basis(prev, n_max), x, g))
        sizes.append(rg._refit._cache_size() - before)
        jax.tree.map(
            lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11), got, want
        )
        np.testing.assert_allclose(
            want_model.apply(got, x), want_model.apply(want, x), rtol=1e-9, atol=1e-11
        )
        steps.append((want_model, want))
    assert sizes[1] == 0  # the second extension reuses the first one's compiled refits
