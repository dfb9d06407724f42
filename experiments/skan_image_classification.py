"""S-ConvKAN against ConvKAN and a CNN on image classification (Yang et al. 2024).

Run::

    kanflow run skan_image_classification --quick   # digits, 1 seed: a few minutes on 2 cores
    kanflow run skan_image_classification           # digits, 3 seeds
    TFDS_DATA_DIR=/data kanflow run skan_image_classification \\
        datasets=mnist,fashion_mnist,cifar10,cifar100 epochs=20 seeds=0,
        # the paper's four data sets (prepared tfds data needed)

Models (:class:`kanflow.models.ConvNet`: two 3×3 convolution blocks with
``channels``, 2×2 average pooling between them, global average pooling,
linear head):

* ``sconvkan``: S-ConvKAN, SKANConv blocks over ``spaces``, trained by
  :func:`kanflow.recipes.fit_sconvkan`: mixed for half the epochs, selective
  (every output channel keeps its strongest space, the others dropped) for a
  quarter, then channels whose edges all fall below ``prune_threshold`` are
  pruned and the network is fine-tuned for the last quarter.
* ``convkan``: KANConv blocks with B-spline G5 k3 edges;
* ``cnn``: ``flax.linen.Conv`` + ReLU blocks whose width ``(c, 2c)`` is chosen
  to match the ConvKAN's parameter count.

Adam with cosine decay from ``learning_rate``, batch 64, images in
``[0, 1]``; test accuracy after the last epoch (mean ± std over seeds),
parameters (S-ConvKAN: after selection and pruning) and training time per
epoch (S-ConvKAN: averaged over its stages).
The paper's tables are not public: no figures to put beside.

What to expect (default digits run, 3 seeds, measured in the README): test
accuracy S-ConvKAN 95.7 ± 0.7 %, ConvKAN 96.2 ± 0.6 %, CNN 94.2 ± 1.4 %, at
about 12k parameters each.
"""

from __future__ import annotations

import dataclasses
import itertools
import os

import jax
import numpy as np

import kanflow as kf

from .runner import Report, accuracy_summary, check_names, markdown_table, pct, sweep

NAME = "skan_image_classification"
DESCRIPTION = "S-ConvKAN vs ConvKAN vs a parameter-matched CNN (digits built in; tfds data sets)"

MODELS = ("cnn", "convkan", "sconvkan")


@dataclasses.dataclass(frozen=True)
class Config:
    """S-ConvKAN image-table settings (override any field with ``key=value``).

    Attributes:
      datasets: ``"digits"`` and/or tfds names.
      models: names from ``MODELS``.
      channels: KAN convolution widths.
      spaces: the S-ConvKAN pool (registry names, pool defaults).
      epochs, batch_size, learning_rate: training.
      prune_threshold: S-ConvKAN stage-3 edge threshold.
      seeds: one run per seed.
    """

    datasets: tuple[str, ...] = ("digits",)
    models: tuple[str, ...] = MODELS
    channels: tuple[int, ...] = (8, 16)
    spaces: tuple[str, ...] = ("bspline", "rbf", "chebyshev", "gram", "mexican_hat", "relu_kan")
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 1e-2
    prune_threshold: float = 1e-2
    seeds: tuple[int, ...] = (0, 1, 2)


def quick_config() -> Config:
    """Digits, one seed, 10 epochs."""
    return Config(epochs=10, seeds=(0,))


def cnn_width(kan_params: int, in_c: int, classes: int, k: int = 3) -> int:
    """``c`` such that a ``(c, 2c)`` CNN has about ``kan_params`` parameters."""

    def count(c):
        return (k * k * in_c + 1) * c + (k * k * c + 1) * 2 * c + (2 * c + 1) * classes

    return min(range(1, 512), key=lambda c: abs(count(c) - kan_params))


def _optimizer(cfg: Config, epochs: int):
    def make(steps_per_epoch: int):
        sched = kf.train.make_schedule(
            cfg.learning_rate, "cosine", steps=max(2, epochs * steps_per_epoch)
        )
        return kf.train.make_optimizer("adam", sched)

    return make


def _run_model(name, cfg, train, test, seed, quiet, cnn_c):
    common = dict(num_classes=train.num_classes, kernel_size=3)
    if name == "cnn":
        model = kf.models.ConvNet(channels=(cnn_c, 2 * cnn_c), conv="cnn", **common)
    elif name == "convkan":
        model = kf.models.ConvNet(channels=cfg.channels, conv="kan", **common)
    else:
        model = kf.models.ConvNet(channels=cfg.channels, conv="skan", spaces=cfg.spaces, **common)
    kw = dict(batch_size=cfg.batch_size, seed=seed, quiet=quiet)
    if name != "sconvkan":
        return model, kf.recipes.train_classifier(
            model, train, test, _optimizer(cfg, cfg.epochs), epochs=cfg.epochs, desc=name, **kw
        )
    mixed = max(1, cfg.epochs // 2)
    selective = max(1, cfg.epochs // 4)
    pruned = max(0, cfg.epochs - mixed - selective)
    phases = kf.recipes.fit_sconvkan(
        model,
        train,
        test,
        epochs=(mixed, selective, pruned),
        learning_rate=cfg.learning_rate,
        batch_size=cfg.batch_size,
        prune_threshold=cfg.prune_threshold,
        seed=seed,
        quiet=quiet,
    )
    res = phases[-1].result
    epochs = (mixed, selective, pruned)[: len(phases)]
    res.epoch_time_s = float(np.average([p.result.epoch_time_s for p in phases], weights=epochs))
    return phases[-1].model, res


def run(cfg: Config, out_dir: str, quiet: bool = False) -> Report:
    """Trains every model on every data set; returns the table."""
    check_names("model", cfg.models, MODELS)
    sources, cnn_c = {}, {}
    for ds in cfg.datasets:
        train = kf.data.image_source(ds, "train")
        sources[ds] = (train, kf.data.image_source(ds, "test"))
        probe = kf.models.ConvNet(train.num_classes, channels=cfg.channels, conv="kan")
        shapes = jax.eval_shape(
            probe.init, jax.random.key(0), np.zeros((1, *train.image_shape), np.float32)
        )
        n_kan = kf.count_params(shapes["params"])
        cnn_c[ds] = cnn_width(n_kan, train.image_shape[-1], train.num_classes)

    def train_one(key: tuple[str, str], seed: int):
        ds, name = key
        return _run_model(name, cfg, *sources[ds], seed, quiet, cnn_c[ds])

    keys = list(itertools.product(cfg.datasets, cfg.models))
    runs = sweep(keys, cfg.seeds, train_one, quiet=quiet, score=lambda r: r[1].test_accuracy)
    results: dict[str, dict] = {ds: {} for ds in cfg.datasets}
    chosen: dict[str, list] = {}
    kept: dict[str, list] = {}
    pool = kf.layers.skan.resolve_spaces(cfg.spaces)
    for (ds, name), rs in runs.items():
        results[ds][name] = accuracy_summary([r for _, r in rs])
        if name == "sconvkan":
            for model, _ in rs:
                chosen.setdefault(ds, []).append(
                    [[pool[s].label for s in sel] for sel in model.selections]
                )
                kept.setdefault(ds, []).append(list(model.channels))
    rows = [
        [
            ds,
            name,
            pct(r),
            f"{r['params']:,}",
            f"{r['epoch_time_s']:.2f}",
        ]
        for ds, by in results.items()
        for name, r in by.items()
    ]
    table = (
        f"## S-ConvKAN image classification (channels {list(cfg.channels)}, {cfg.epochs} "
        f"epochs, batch {cfg.batch_size}, Adam {cfg.learning_rate:g} cosine, seeds "
        f"{list(cfg.seeds)})\n\n"
        + markdown_table(["data", "model", "test acc. % (mean ± std)", "params", "s / epoch"], rows)
        + f"\nS-ConvKAN parameters are counted after selection and pruning (channels kept per "
        f"run: {kept}). The paper's tables are not public.\n"
    )
    metrics = {
        "config": dataclasses.asdict(cfg),
        "results": results,
        "chosen_spaces": chosen,
        "sconvkan_channels": kept,
    }
    with open(os.path.join(out_dir, "chosen_spaces.txt"), "w") as f:
        for ds, runs in chosen.items():
            for i, labels in enumerate(runs):
                f.write(f"{ds} seed-run {i}: {labels}\n")
    return Report(metrics=metrics, table=table)
