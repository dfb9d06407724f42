"""Image classification end to end: epochs over an image source, test accuracy, cost.

:func:`train_classifier` is the one loop the image experiments share: it
batches a :class:`kanflow.data.ImageSource` through grain, trains with
:func:`kanflow.train.fit` (progress bar, checkpoints, resume, NaN guard),
and measures what a table reports: test accuracy, parameters, forward FLOPs
per example (XLA's cost analysis of the compiled forward pass) and training
time per epoch (median wall time between epoch boundaries, measured from the
end of the first step so that compilation is left out).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh

from kanflow.data import augment
from kanflow.data.images import ImageSource, batches, eval_batches
from kanflow.models.common import count_params
from kanflow.train.loop import fit
from kanflow.train.losses import (
    apply_model,
    check_keys,
    check_label_smoothing,
    check_labels,
    smooth_one_hot,
    supervised_loss,
)

__all__ = [
    "ClassifierResult",
    "evaluate_accuracy",
    "forward_flops",
    "image_classification_loss",
    "train_classifier",
]


@dataclasses.dataclass
class ClassifierResult:
    """What :func:`train_classifier` measured.

    Attributes:
      variables: trained ``{"params": ..., **model_state}``.
      test_accuracy: fraction correct on the whole test split.
      params: trainable parameter count.
      flops: forward FLOPs per example (XLA cost analysis).
      epoch_time_s: median wall time of an epoch (compilation excluded).
      history: :func:`kanflow.train.fit`'s history (loss, accuracy, time).
    """

    variables: dict[str, Any]
    test_accuracy: float
    params: int
    flops: float
    epoch_time_s: float
    history: dict[str, list]


def forward_flops(model: nn.Module, variables: dict[str, Any], example: np.ndarray, **kw) -> float:
    """FLOPs of one forward pass on ``example[None]`` per XLA's cost analysis."""
    compiled = (
        jax.jit(lambda v, x: model.apply(v, x, **kw)).lower(variables, example[None]).compile()
    )
    cost = compiled.cost_analysis()
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else {}
    return float((cost or {}).get("flops", float("nan")))


def evaluate_accuracy(
    model: nn.Module,
    variables: dict[str, Any],
    data: ImageSource,
    batch_size: int = 512,
    transform: Callable | None = None,
    apply_kwargs: dict | None = None,
) -> float:
    """Fraction of ``data`` classified correctly (one ordered pass)."""
    kw = dict(apply_kwargs or {})
    predict = jax.jit(lambda v, x: jnp.argmax(model.apply(v, x, **kw), -1))
    correct = total = 0
    for b in eval_batches(data, batch_size):
        if transform is not None:
            b = transform(b)
        pred = np.asarray(predict(variables, b["image"]))
        correct += int(np.sum(pred == b["label"]))
        total += len(pred)
    return correct / total


def train_classifier(
    model: nn.Module,
    train: ImageSource,
    test: ImageSource,
    optimizer: optax.GradientTransformation | Callable[[int], optax.GradientTransformation],
    *,
    epochs: int,
    batch_size: int,
    seed: int = 0,
    transform: Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]] | None = None,
    train_kwargs: dict | None = None,
    eval_kwargs: dict | None = None,
    label_smoothing: float = 0.0,
    loss_fn: Callable | None = None,
    eval_params: Callable[[Any], Any] | None = None,
    mesh: Mesh | None = None,
    variables: dict[str, Any] | None = None,
    checkpoint_dir: str | os.PathLike | None = None,
    quiet: bool = False,
    desc: str = "train",
) -> ClassifierResult:
    """Trains ``model`` for ``epochs`` passes over ``train``; scores it on ``test``.

    Args:
      model: ``apply(variables, images [B, ...]) -> logits [B, classes]``.
      train, test: from :func:`kanflow.data.image_source`.
      optimizer: an optax transformation, or ``steps_per_epoch -> optimizer``
        (for schedules counted in epochs).
      epochs: passes over ``train`` (``len(train) // batch_size`` steps each).
      batch_size: examples per step.
      seed: initialisation and batch-order seed.
      transform: batched host-side map on ``{"image", "label"}`` applied to
        train and test batches (e.g. flatten for an MLP).
      train_kwargs, eval_kwargs: extra ``apply`` arguments in training and at
        evaluation (e.g. ``{"train": True}`` / ``{"train": False}``).
      label_smoothing: cross-entropy label smoothing.
      loss_fn: replaces the plain cross-entropy (e.g.
        :func:`image_classification_loss` with augmentation).
      eval_params: ``TrainState -> params`` to score (e.g. the EMA weights,
        ``lambda s: kanflow.train.ema_params(s.opt_state)``); default the
        trained params.
      mesh: data-parallel mesh (``batch_size`` divisible by its size).
      variables: start from these instead of a fresh ``init`` (fine-tuning).
      checkpoint_dir: orbax checkpoints + resume (see :func:`kanflow.train.fit`);
        a checkpoint of another model class, training-split size, batch size,
        seed or label smoothing is refused. (The optimiser's settings cannot
        be read from the optimiser: a different learning rate goes unnoticed.)
      quiet: no progress bar.
      desc: progress-bar label.
    """
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
    steps_per_epoch = len(train) // batch_size
    if steps_per_epoch < 1:
        raise ValueError(f"batch_size={batch_size} is larger than the train split ({len(train)})")
    if callable(optimizer) and not isinstance(optimizer, optax.GradientTransformation):
        optimizer = optimizer(steps_per_epoch)
    ds = batches(train, batch_size, seed=seed)
    tf = transform or (lambda b: b)

    def batch_fn(step: int) -> dict[str, np.ndarray]:
        return tf(ds[step])

    example = batch_fn(0)
    init_kw = dict(train_kwargs or {})
    if variables is None:
        variables = jax.jit(lambda k, x: model.init(k, x, **init_kw))(
            jax.random.key(seed), example["image"][:1]
        )
    params = variables["params"]
    model_state = {k: v for k, v in variables.items() if k != "params"}
    loss_fn = loss_fn or supervised_loss(
        model,
        "cross_entropy",
        x_key="image",
        y_key="label",
        apply_kwargs=train_kwargs,
        label_smoothing=label_smoothing,
    )
    res = fit(
        loss_fn,
        params,
        batch_fn,
        optimizer=optimizer,
        steps=epochs * steps_per_epoch,
        model_state=model_state,
        seed=seed,
        log_every=steps_per_epoch,
        mesh=mesh,
        checkpoint_dir=checkpoint_dir,
        checkpoint_every=steps_per_epoch,
        # what the arrays cannot tell: a resume with other settings is refused
        run_id=dict(
            model=type(model).__name__,
            examples=len(train),
            batch_size=batch_size,
            seed=seed,
            label_smoothing=label_smoothing,
        ),
        quiet=quiet,
        desc=desc,
    )
    scored = res.state.params if eval_params is None else eval_params(res.state)
    final = {"params": scored, **res.state.model_state}
    acc = evaluate_accuracy(model, final, test, transform=transform, apply_kwargs=eval_kwargs)
    # logged after steps 0, spe, 2 spe, ...: per-step time between them, compile excluded
    t, st = np.asarray(res.history["time"]), np.asarray(res.history["step"])
    per_step = np.diff(t) / np.maximum(np.diff(st), 1)
    epoch_time = float(np.median(per_step) * steps_per_epoch) if len(per_step) else float("nan")
    flops = forward_flops(model, final, example["image"][0], **dict(eval_kwargs or {}))
    return ClassifierResult(
        final, acc, count_params(final["params"]), flops, epoch_time, res.history
    )


def image_classification_loss(
    model: nn.Module,
    num_classes: int,
    *,
    label_smoothing: float = 0.0,
    mixup_alpha: float = 0.0,
    cutmix_alpha: float = 0.0,
    switch_prob: float = 0.5,
    rand_augment: tuple[int, float] | None = None,
    apply_kwargs: dict | None = None,
) -> Callable:
    """Cross-entropy on ``batch["image"]`` / ``batch["label"]`` with on-device augmentation.

    In order, from the step's ``rng``: RandAugment ``(num_ops, magnitude)``
    (:func:`kanflow.data.augment.rand_augment`), label smoothing, Mixup /
    CutMix (:func:`kanflow.data.augment.mixup_cutmix`); each is off at its
    default. ``aux["accuracy"]`` is measured on the (augmented) batch against
    the original labels. ``batch_stats`` are updated as in
    :func:`kanflow.train.supervised_loss`.
    """
    check_label_smoothing(label_smoothing)
    kwargs = dict(apply_kwargs or {})

    def loss_fn(params, model_state, batch, rng):
        images, labels = batch["image"], batch["label"]
        k_ra, k_mix = jax.random.split(rng)
        if rand_augment is not None:
            images = augment.rand_augment(k_ra, images, *rand_augment)
        targets = smooth_one_hot(labels, num_classes, label_smoothing)
        images, targets = augment.mixup_cutmix(
            k_mix, images, targets, mixup_alpha, cutmix_alpha, switch_prob
        )
        logits, new_state = apply_model(model, params, model_state, images, kwargs)
        loss = optax.softmax_cross_entropy(logits, targets).mean()
        aux = {"accuracy": jnp.mean(jnp.argmax(logits, -1) == labels)}
        if new_state is not None:
            aux["model_state"] = new_state
        return loss, aux

    def check_batch(params, model_state, batch) -> None:
        check_keys(batch, ("image", "label"))
        images = batch["image"]
        check_labels(batch["label"], num_classes, "batch['label']", shape=np.shape(images)[:1])

    loss_fn.check_batch = check_batch
    return loss_fn
