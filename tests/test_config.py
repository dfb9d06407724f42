"""One KAN edge configuration: every model family is built from the same object."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kanflow as kf

CONFIG = kf.layers.KANConfig(
    basis="chebyshev",
    grid_size=4,
    order=4,
    grid_range=(-2.0, 2.0),
    base_activation=jnp.tanh,
    noise_scale=0.3,
    scale_base_mu=0.2,
    scale_base_sigma=0.5,
    scale_sp=0.7,
    use_bias=True,
    param_dtype=jnp.float64,
)


def kan_layers_inside(model, variables, x, **kwargs) -> list[nn.Module]:
    """Every KANLayer the model calls, as it was built."""
    seen = []

    def grab(next_fun, args, kw, context):
        if isinstance(context.module, kf.layers.KANLayer) and context.method_name == "__call__":
            seen.append(context.module)
        return next_fun(*args, **kw)

    with nn.intercept_methods(grab):
        model.apply(variables, x, **kwargs)
    return seen


def test_every_kan_family_passes_the_configuration_through(x64):
    settings = CONFIG.kan_settings()
    images = jnp.asarray(np.random.default_rng(0).uniform(-1, 1, (2, 6, 6, 1)))
    points = jnp.linspace(0.1, 0.9, 7)
    built = {
        "KAN": (kf.models.KAN((2, 3, 1), **settings), jnp.ones((4, 2))),
        "KANConv": (kf.layers.KANConv(3, **settings), images),
        "ConvNet": (kf.models.ConvNet(10, channels=(2, 3), conv="kan", **settings), images),
        "wavefunction": (kf.models.wavefunction("kan", **settings), points),
        "ViT": (
            kf.models.ViT(
                10, image_size=6, patch_size=3, width=4, depth=2, num_heads=2, mlp="kan", **settings
            ),
            images,
        ),
    }
    for family, (model, x) in built.items():
        variables = model.init(jax.random.key(0), x)
        layers = kan_layers_inside(model, variables, x)
        assert layers, family
        for layer in layers:
            assert layer.kan_settings() == settings, family
            assert layer.space == CONFIG.space


def test_skan_families_take_the_space_and_the_edge_parametrisation(x64):
    x = jnp.asarray(np.random.default_rng(1).uniform(-1, 1, (5, 2)))
    edge = CONFIG.edge_settings()
    skan = kf.models.SKAN((2, 3), spaces=(CONFIG.space,), **edge)
    kan = kf.models.KAN((2, 3), **CONFIG.kan_settings())
    v = kan.init(jax.random.key(0), x)
    p = v["params"]["layer_0"]
    # a one-space pool has selection weight 1: S-KAN is then exactly the KAN
    sp = {"params": {"layer_0": {**p, "coef_0": p["coef"], "select_logits": jnp.zeros((1, 3))}}}
    del sp["params"]["layer_0"]["coef"]
    np.testing.assert_allclose(skan.apply(sp, x), kan.apply(v, x), rtol=1e-12)
    conv = kf.layers.SKANConv(3, spaces=(CONFIG.space,), **edge)
    assert conv.edge_layer().edge_settings() == edge


def test_kan_defaults_are_the_space_defaults():
    assert kf.layers.KANConfig().space == kf.layers.Space()
    assert kf.models.KAN((1, 1)).kan_settings() == kf.layers.KANConfig().kan_settings()


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(basis="splinez"), "splinez"),
        (dict(grid_size=0), "grid_size must be an int >= 1"),
        (dict(order=-1), "order must be an int >= 0"),
        (dict(grid_range=(1.0, -1.0)), "grid_range must be finite"),
        (dict(grid_range=(0.0, float("inf"))), "grid_range must be finite"),
    ],
)
def test_every_family_validates_the_same_way(bad, match):
    for build in (
        lambda: kf.layers.KANConfig(**bad),
        lambda: kf.layers.KANLayer(2, **bad),
        lambda: kf.models.KAN((2, 1), **bad),
        lambda: kf.layers.KANConv(2, **bad),
        lambda: kf.models.ConvNet(10, conv="kan", **bad),
    ):
        with pytest.raises(ValueError, match=match):
            build()
