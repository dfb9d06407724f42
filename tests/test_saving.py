"""kf.save / kf.load: every model family round-trips; bad folders get clear errors."""

import functools
import json
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kanflow as kf
from kanflow.models import skan

IMAGES = jnp.asarray(np.random.default_rng(0).uniform(size=(2, 8, 8, 1)), jnp.float32)
POINTS = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (5, 2)), jnp.float32)


def round_trip(tmp_path, model, variables, x, **apply_kw):
    kf.save(tmp_path / "model", model, variables)
    loaded, restored = kf.load(tmp_path / "model")
    # the same configuration (partials do not compare equal, their descriptions do)
    assert kf.saving.model_to_config(loaded) == kf.saving.model_to_config(model)
    assert jax.tree.structure(restored) == jax.tree.structure(variables)
    np.testing.assert_array_equal(
        loaded.apply(restored, x, **apply_kw), model.apply(variables, x, **apply_kw)
    )
    return loaded, restored


def test_kan_after_grid_extension(tmp_path):
    model = kf.models.KAN((2, 3, 1), grid_size=3, base_activation=jnp.tanh, scale_sp=0.5)
    v = model.init(jax.random.key(0), POINTS)
    model, v = kf.grid.extend(model, v, POINTS, 7)
    loaded, _ = round_trip(tmp_path, model, v, POINTS)
    assert loaded.grid_size == 7 and loaded.base_activation is jnp.tanh


def test_skan_after_selection_and_pruning(tmp_path):
    model = kf.models.SKAN((2, 4, 1), spaces=("bspline", kf.layers.Space("rbf", 6, 0)))
    v = model.init(jax.random.key(0), POINTS)
    model, v = skan.select(model, v)
    model, v = skan.prune(model, v, POINTS, threshold=0.0)
    loaded, _ = round_trip(tmp_path, model, v, POINTS)
    assert loaded.selections == model.selections
    assert loaded.spaces[1] == kf.layers.Space("rbf", 6, 0)


@pytest.mark.parametrize("conv", ["cnn", "kan", "skan"])
def test_convnets(tmp_path, conv):
    model = kf.models.ConvNet(10, channels=(2, 3), conv=conv, spaces=("chebyshev", "rbf"))
    v = model.init(jax.random.key(0), IMAGES)
    if conv == "skan":
        model, v = kf.models.select_conv(model, v)
    round_trip(tmp_path, model, v, IMAGES)


@pytest.mark.parametrize(
    "attention, mlp",
    [("softmax", "kan"), ("fourier_karat_blockwise", "dense"), ("karat_universal", "dense")],
)
def test_vits(tmp_path, attention, mlp):
    # softmax with a KAN MLP, a Fourier and a general-basis KArAt (blockwise and universal)
    model = kf.models.ViT(
        10,
        image_size=8,
        patch_size=4,
        width=8,
        depth=1,
        num_heads=2,
        attention=attention,
        karat_basis="rbf",
        activation=kf.activations.CRReLU,
        mlp=mlp,
        basis="rbf",
    )
    round_trip(tmp_path, model, model.init(jax.random.key(0), IMAGES), IMAGES)


def test_af_kan_relu_kan_and_an_mlp_with_a_partial_activation(tmp_path):
    x = jnp.asarray(np.random.default_rng(2).uniform(size=(4, 6)), jnp.float32)
    for i, model in enumerate(
        [
            kf.models.af_kan((6, 5, 3), combination="quad1"),
            kf.models.relu_kan((6, 5, 3), grid_size=3, order=2),
            kf.models.MLP(
                (6, 5, 3), activation=functools.partial(kf.activations.SeriesActivation, n=3)
            ),
        ]
    ):
        round_trip(tmp_path / str(i), model, model.init(jax.random.key(0), x), x)


@pytest.mark.parametrize("kind", ["mlp", "kan"])
def test_wavefunctions(tmp_path, kind, x64):
    model = kf.models.wavefunction(kind, jumps=(0.4,))
    x = jnp.linspace(0.0, 1.0, 9)
    round_trip(tmp_path, model, model.init(jax.random.key(0), x), x)


def test_load_in_a_new_process(tmp_path):
    model = kf.models.KAN((2, 3, 1), basis="chebyshev", order=4)
    v = model.init(jax.random.key(0), POINTS)
    kf.save(tmp_path / "m", model, v)
    want = np.asarray(model.apply(v, POINTS))
    np.save(tmp_path / "x.npy", np.asarray(POINTS))
    code = (
        "import numpy as np, kanflow as kf, sys\n"
        f"model, v = kf.load({str(tmp_path / 'm')!r})\n"
        f"print(np.asarray(model.apply(v, np.load({str(tmp_path / 'x.npy')!r}))).tolist())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    np.testing.assert_array_equal(np.array(json.loads(out.stdout)), want)


def test_clear_errors(tmp_path):
    model = kf.models.KAN((2, 1))
    v = model.init(jax.random.key(0), POINTS)
    kf.save(tmp_path / "m", model, v)
    with pytest.raises(ValueError, match="exists; pass overwrite=True"):
        kf.save(tmp_path / "m", model, v)
    kf.save(tmp_path / "m", model, v, overwrite=True)
    with pytest.raises(ValueError, match="cannot save field .*base_activation"):
        kf.save(tmp_path / "l", model.clone(base_activation=lambda x: x), v)
    # a training checkpoint is not a saved model
    loss = kf.train.supervised_loss(model)
    data = {"x": np.asarray(POINTS), "y": np.zeros((5, 1), np.float32)}
    kf.train.fit(
        loss,
        v["params"],
        data,
        model_state={"grid": v["grid"]},
        optimizer=kf.train.make_optimizer("adam", 1e-3),
        steps=2,
        checkpoint_dir=tmp_path / "ckpt",
        quiet=True,
    )
    with pytest.raises(ValueError, match="holds training checkpoints"):
        kf.load(tmp_path / "ckpt")
    with pytest.raises(FileNotFoundError, match="no saved model"):
        kf.load(tmp_path / "nothing")
    config = tmp_path / "m" / "kanflow_model.json"
    newer = json.loads(config.read_text())
    newer["version"] = kf.saving.FORMAT_VERSION + 1
    config.write_text(json.dumps(newer))
    with pytest.raises(ValueError, match="saved in format 2 by a newer kanflow"):
        kf.load(tmp_path / "m")
    for bad in (None, 0, -5, "1"):  # loaded as if current, or a TypeError
        newer["version"] = bad
        config.write_text(json.dumps(newer))
        with pytest.raises(ValueError, match="no valid format version"):
            kf.load(tmp_path / "m")
    newer["version"] = 1
    newer["model"]["__class__"] = "os:system"
    config.write_text(json.dumps(newer))
    with pytest.raises(ValueError, match="refusing to import 'os:system'"):
        kf.load(tmp_path / "m")
