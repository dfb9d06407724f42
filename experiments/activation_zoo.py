"""The learnable-activation zoo against ReLU and GELU, in an MLP and a tiny ViT.

Run::

    kanflow run activation_zoo --quick   # 1 seed, 5 epochs: about a minute on 2 CPU cores
    kanflow run activation_zoo           # 3 seeds, 20 epochs: several minutes

Activations (``kanflow.activations``): ``relu`` and ``gelu`` (fixed
baselines), ``crrelu`` (CRReLU), ``series`` (PanGu-π series-informed, n = 4
ReLU terms), ``dice`` (DIN's Dice, batch statistics in training and running
averages at test), ``evonorm_b0`` and ``evonorm_s0`` (8 groups). Each takes
the place of every hidden activation of

* ``mlp``: 64-128-128-10 on the flattened 8×8 digits, and
* ``vit``: a ViT on 8×8 digits with 2×2 patches (17 tokens), width 32,
  depth 2, 2 heads, MLP ratio 4 (the activation sits in each block's MLP).

Both are trained from scratch per seed with AdamW (lr 3e-3 with cosine decay
to 0, weight decay 1e-4), batch 64, on the built-in digits train split and
scored on its test split after the last epoch. Reported: test accuracy
(mean ± std over seeds), parameters, training time per epoch, and for the
MLP the activation density (fraction of non-zero hidden activations on the
test split, "The Lazy Neuron Phenomenon"; 1 - density is the sparsity).
The figure ``shapes.png`` shows the learned element-wise activations of the
first MLP layer (seed 0) against their initial shapes; EvoNorms are not
element-wise (their output depends on batch or group statistics) and are
left out of it.

What to expect: the zoo papers report gains on large models and data sets;
on 1.4k digits every activation reaches roughly the same accuracy, so the
differences here are within a few standard deviations.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os

import jax
import jax.numpy as jnp
import numpy as np

import kanflow as kf

from .runner import Report, accuracy_summary, check_names, markdown_table, pct, sweep

NAME = "activation_zoo"
DESCRIPTION = "CRReLU, series, Dice, EvoNorm-B0/S0 vs ReLU/GELU in an MLP and a tiny ViT (digits)"

ACTIVATIONS = {
    "relu": "relu",
    "gelu": "gelu",
    "crrelu": kf.activations.CRReLU,
    "series": functools.partial(kf.activations.SeriesActivation, n=4),
    "dice": kf.activations.Dice,
    "evonorm_b0": kf.activations.EvoNormB0,
    "evonorm_s0": functools.partial(kf.activations.EvoNormS0, groups=8),
}
MODELS = ("mlp", "vit")


@dataclasses.dataclass(frozen=True)
class Config:
    """Activation-zoo settings (override any field with ``key=value``).

    Attributes:
      activations: keys of ``ACTIVATIONS``.
      models: ``"mlp"`` and/or ``"vit"``.
      epochs, batch_size, learning_rate, weight_decay: the training recipe.
      seeds: one run per seed.
    """

    activations: tuple[str, ...] = tuple(ACTIVATIONS)
    models: tuple[str, ...] = MODELS
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    seeds: tuple[int, ...] = (0, 1, 2)


def quick_config() -> Config:
    """One seed, five epochs."""
    return Config(epochs=5, seeds=(0,))


def build_model(model: str, activation: str, num_classes: int = 10):
    """``"mlp"`` or ``"vit"`` with the zoo activation ``activation``."""
    check_names("activation", (activation,), tuple(ACTIVATIONS))
    act = ACTIVATIONS[activation]
    if model == "mlp":
        return kf.models.MLP((64, 128, 128, num_classes), activation=act)
    if model == "vit":
        return kf.models.ViT(
            num_classes, image_size=8, patch_size=2, width=32, depth=2, num_heads=2, activation=act
        )
    raise ValueError(f"unknown model {model!r}; expected one of {MODELS}")


def _flatten(batch: dict) -> dict:
    return {"image": batch["image"].reshape(len(batch["label"]), -1), "label": batch["label"]}


def _plot_shapes(trained: dict, path: str) -> None:
    """Learned element-wise activations of the first MLP layer."""
    import matplotlib.pyplot as plt

    xs = jnp.linspace(-4, 4, 401)
    names = [n for n in ("crrelu", "series", "dice") if n in trained]
    fig, axes = plt.subplots(
        1,
        max(1, len(names)),
        figsize=(3.2 * max(1, len(names)), 3.0),
        squeeze=False,
        constrained_layout=True,
    )
    for ax, name in zip(axes[0], names, strict=False):
        variables = trained[name]
        module = kf.activations.build(ACTIVATIONS[name])
        sub = {k: v["act_0"] for k, v in variables.items() if "act_0" in v}
        init = module.init(jax.random.key(0), xs[:, None], **_kw(module, True))
        if name == "dice":  # per feature: show four features with their running statistics
            x_in = jnp.broadcast_to(xs[:, None], (len(xs), sub["params"]["alpha"].shape[0]))
            y = module.apply(sub, x_in, train=False)
            for j in range(4):
                ax.plot(xs, y[:, j], label=f"feature {j}")
        else:
            ax.plot(xs, module.apply(sub, xs), label="learned")
            ax.plot(xs, module.apply(init, xs), "--", color="gray", label="initial")
        ax.plot(xs, jax.nn.relu(xs), ":", color="k", lw=0.8, label="relu")
        ax.set_title(name)
        ax.set_xlabel("x")
        ax.legend(fontsize=7)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _kw(module, train: bool) -> dict:
    return {"train": train} if getattr(module, "needs_train", False) else {}


def run(cfg: Config, out_dir: str, quiet: bool = False) -> Report:
    """Trains every (model, activation, seed); returns the table."""
    check_names("activation", cfg.activations, tuple(ACTIVATIONS))
    check_names("model", cfg.models, MODELS)
    train = kf.data.image_source("digits", "train")
    test = kf.data.image_source("digits", "test")

    def optimizer(steps_per_epoch: int):
        sched = kf.train.make_schedule(
            cfg.learning_rate, "cosine", steps=cfg.epochs * steps_per_epoch
        )
        return kf.train.make_optimizer("adamw", sched, weight_decay=cfg.weight_decay)

    def train_one(key: tuple[str, str], seed: int) -> kf.recipes.ClassifierResult:
        model_name, act = key
        return kf.recipes.train_classifier(
            build_model(model_name, act),
            train,
            test,
            optimizer,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            seed=seed,
            transform=_flatten if model_name == "mlp" else None,
            train_kwargs={"train": True},
            eval_kwargs={"train": False},
            quiet=quiet,
            desc=f"{model_name} {act} s{seed}",
        )

    keys = list(itertools.product(cfg.models, cfg.activations))
    runs = sweep(keys, cfg.seeds, train_one, quiet=quiet)
    results: dict[str, dict] = {m: {} for m in cfg.models}
    shapes: dict[str, dict] = {}
    x_test = _flatten(kf.data.load_arrays(test))["image"]
    for (model_name, act), rs in runs.items():
        row = accuracy_summary(rs)
        if model_name == "mlp":
            model = build_model(model_name, act)
            dens = [
                kf.activations.activation_density(
                    model, r.variables, [x_test], apply_kwargs={"train": False}
                )
                for r in rs
            ]
            row["density"] = {k: float(np.mean([d[k] for d in dens])) for k in dens[0]}
            shapes[act] = rs[0].variables
        results[model_name][act] = row
    if shapes:
        _plot_shapes(shapes, os.path.join(out_dir, "shapes.png"))
    rows = []
    for model_name, by_act in results.items():
        for act, r in by_act.items():
            dens = r.get("density")
            dens_txt = " / ".join(f"{v:.2f}" for v in dens.values()) if dens else "—"
            rows.append(
                [model_name, act, pct(r), f"{r['params']:,}", dens_txt, f"{r['epoch_time_s']:.2f}"]
            )
    headers = [
        "model",
        "activation",
        "test acc. % (mean ± std)",
        "params",
        "density per hidden layer",
        "s / epoch",
    ]
    table = (
        f"## Activation zoo on digits (seeds {list(cfg.seeds)}, {cfg.epochs} epochs, batch "
        f"{cfg.batch_size}, AdamW {cfg.learning_rate:g} cosine, wd {cfg.weight_decay:g})\n\n"
        + markdown_table(headers, rows)
        + "\nDensity: fraction of non-zero hidden activations on the test split (MLP only).\n"
    )
    return Report(metrics={"config": dataclasses.asdict(cfg), "results": results}, table=table)
