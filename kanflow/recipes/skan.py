"""The S-KAN training schedules: mixed spaces, selective, pruned and fine-tuned.

:func:`fit_skan` for :class:`kanflow.models.SKAN` on arrays (regression or
classification), :func:`fit_sconvkan` for an S-ConvKAN
(:class:`kanflow.models.ConvNet` with ``conv="skan"``) on an image source.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp
import optax

from kanflow.data.images import ImageSource, eval_batches
from kanflow.models import convnet as _convnet
from kanflow.models import skan as _skan
from kanflow.recipes.classify import ClassifierResult, train_classifier
from kanflow.train.loop import fit
from kanflow.train.losses import supervised_loss
from kanflow.train.step import make_train_step

__all__ = ["SConvKANPhase", "SKANPhase", "fit_sconvkan", "fit_skan"]


@dataclasses.dataclass
class SKANPhase:
    """One stage of :func:`fit_skan`.

    Attributes:
      stage: ``"mixed"``, ``"selective"`` or ``"pruned"``.
      model: the model of this stage (selection / widths change between stages).
      variables: its trained variables.
      history: :func:`kanflow.train.fit` history.
    """

    stage: str
    model: _skan.SKAN
    variables: dict[str, Any]
    history: dict[str, list]


def fit_skan(
    model: _skan.SKAN,
    x: jax.Array,
    y: jax.Array,
    *,
    steps: tuple[int, int, int] = (1000, 500, 500),
    learning_rate: float = 1e-2,
    selection_lr_scale: float = 30.0,
    selection_entropy: float = 0.0,
    final_temperature: float = 0.005,
    temperature_rounds: int = 10,
    refit_selection: bool = True,
    batch_size: int | None = None,
    prune_threshold: float = 1e-2,
    max_params: int | None = None,
    loss: str = "mse",
    seed: int = 0,
    quiet: bool = False,
) -> list[SKANPhase]:
    """Trains an S-KAN through its three stages.

    1. **mixed**: every node mixes all spaces with learnable selection weights;
    2. **selective**: :func:`kanflow.models.skan.select` keeps each node's
       strongest space (the others' parameters are dropped; by default the
       kept coefficients are refitted to what the mixed node computed); train
       again;
    3. **pruned**: :func:`kanflow.models.skan.prune` drops hidden nodes whose
       edges are all below ``prune_threshold`` on ``x`` (and, with
       ``max_params``, the weakest nodes down to that budget); fine-tune.

    Each stage uses Adam with a cosine decay from ``learning_rate`` over its
    ``steps`` (a stage with 0 steps is skipped, e.g. ``(1000, 1000, 0)``).

    Args:
      model: a mixing :class:`kanflow.models.SKAN`.
      x, y: training data ``[n, in]``, ``[n, out]`` (or integer labels with
        ``loss="cross_entropy"``).
      selection_lr_scale: the selection logits' learning rate as a multiple of
        ``learning_rate`` (their own Adam; 1 trains them like every other
        parameter). Larger values let the mixed stage decide between spaces
        before selection (see ``kanflow.models.skan.selection_entropy``).
        30 (with annealing) was the best of five settings compared on seven
        targets x three seeds (README): mean normalised selection entropy
        0.04 (0.99 with 1 and a constant temperature) and the lowest final
        errors. With the defaults (30, ``final_temperature`` 0.005, selection
        by projection), 2000 steps: entropy 0.004, test RMSE after / before
        selection x1.00-1.03 on every run.
      selection_entropy: weight of a penalty on the mixed stage's mean normalised
        selection entropy (0 to 1 per node; 0 turns it off), which pushes each
        node towards one space before selection.
      final_temperature: the selection softmax's temperature at the end of the
        mixed stage, annealed geometrically from 1 in ``temperature_rounds``
        equal rounds of steps (one optimiser state and schedule throughout; the
        temperature is a variable, so nothing recompiles); 1 keeps it at 1.
        Selection folds the weights at the final temperature.
      refit_selection: select by projection (:func:`kanflow.models.skan.select`
        with ``x``): each kept space's coefficients are refitted by least squares
        on ``x`` to what the mixed node computed, so selection keeps the
        function as far as one space can express it (for classification the
        target is the mixed network's logits).
        ``False`` only folds the selection weights. Measured (README, seven
        targets x three seeds, 600 steps, final temperature 0.05): test RMSE
        just after / just before selection at most x1.7 with projection, up
        to x49 folding.
      max_params: stage 3 also drops the weakest hidden nodes until the model
        has at most this many parameters (:func:`kanflow.models.skan.prune`),
        e.g. to compare with another model at an equal budget; needs
        ``steps[2] > 0``.

    Returns:
      the phases in order; the last one is the final model.
    """
    if model.selections is not None:
        raise ValueError("fit_skan starts from a mixing model (selections=None)")
    if len(steps) != 3 or any(not isinstance(s, int) or s < 0 for s in steps):
        raise ValueError(f"steps must be three ints >= 0 (mixed, selective, pruned), got {steps}")
    if not selection_lr_scale > 0:
        raise ValueError(f"selection_lr_scale must be > 0, got {selection_lr_scale}")
    if not selection_entropy >= 0:
        raise ValueError(f"selection_entropy must be >= 0, got {selection_entropy}")
    if not final_temperature > 0 or temperature_rounds < 1:
        raise ValueError(
            f"need final_temperature > 0 and temperature_rounds >= 1, got "
            f"{final_temperature} and {temperature_rounds}"
        )
    if max_params is not None and not steps[2]:
        raise ValueError("max_params prunes in stage 3: give it steps (steps[2] > 0)")
    data = {"x": x, "y": y}
    variables = jax.jit(model.init)(jax.random.key(seed), x[:1])
    phases: list[SKANPhase] = []

    def train(stage: str, model, variables, n: int, temperatures=(1.0,)) -> dict:
        entropy = selection_entropy if stage == "mixed" else 0.0
        loss_fn, opt, step_fn = _stage_step(
            model, loss, n, learning_rate, selection_lr_scale, entropy
        )
        state, history, done = None, None, 0
        for r, t in enumerate(temperatures):  # rounds share one optimiser state and schedule
            done += n // len(temperatures) + (r < n % len(temperatures))
            model_state = _temperature_state(model, t) if stage == "mixed" else None
            res = fit(
                loss_fn,
                variables["params"],
                data,
                optimizer=opt,
                steps=done,
                batch_size=batch_size,
                seed=seed,
                quiet=quiet,
                desc=f"S-KAN {stage}",
                step_fn=step_fn,
                model_state=model_state,
                state=None if state is None else state.replace(model_state=model_state),
            )
            state = res.state
            history = res.history if history is None else _join(history, res.history)
        v = {"params": res.params}
        if stage == "mixed":
            v["selection"] = _temperature_state(model, temperatures[-1])["selection"]
        phases.append(SKANPhase(stage, model, v, history))
        return v

    if steps[0]:
        rounds = 1 if final_temperature == 1.0 else min(temperature_rounds, steps[0])
        if rounds == 1:  # one round (temperature_rounds=1 or one step): at the final one
            temps = (final_temperature,)
        else:
            temps = tuple(final_temperature ** (r / (rounds - 1)) for r in range(rounds))
        variables = train("mixed", model, variables, steps[0], temps)
    model, variables = _skan.select(model, variables, x if refit_selection else None)
    variables = train("selective", model, variables, steps[1])
    if steps[2]:
        model, variables = _skan.prune(model, variables, x, prune_threshold, max_params)
        train("pruned", model, variables, steps[2])
    return phases


def _temperature_state(model: _skan.SKAN, t: float) -> dict:
    """``{"selection": {layer: {"temperature": t}}}`` for every layer of ``model``."""
    t = jnp.asarray(t, jnp.float32)
    return {"selection": {f"layer_{l}": {"temperature": t} for l in range(len(model.widths) - 1)}}


def _join(a: dict, b: dict) -> dict:
    """Two fit histories of one continued run, the second's records after the first's."""
    last = a["step"][-1] if a.get("step") else -1
    return {k: a[k] + [v for v, s in zip(b[k], b["step"], strict=True) if s > last] for k in a}


@functools.lru_cache(maxsize=16)
def _stage_step(
    model: _skan.SKAN,
    loss: str,
    steps: int,
    learning_rate: float,
    selection_lr_scale: float,
    selection_entropy: float = 0.0,
):
    """``(loss_fn, optimizer, step)`` of one stage, cached: equal models (other
    seeds, other targets of the same shape) share one compiled step."""
    loss_fn = supervised_loss(model, loss)
    if selection_entropy:
        plain = loss_fn

        def loss_fn(params, model_state, batch, rng):
            value, aux = plain(params, model_state, batch, rng)
            h = _skan.mean_selection_entropy({"params": params, **(model_state or {})})
            return value + selection_entropy * h, {**aux, "selection_entropy": h}

    def adam(lr: float) -> optax.GradientTransformation:
        return optax.adam(optax.cosine_decay_schedule(lr, max(steps, 1)))

    opt = adam(learning_rate)
    if selection_lr_scale != 1.0:

        def label(path, _) -> str:
            name = getattr(path[-1], "key", None) if path else None
            return "selection" if name == "select_logits" else "rest"

        labels = lambda params: jax.tree_util.tree_map_with_path(label, params)
        opt = optax.multi_transform(
            {"selection": adam(learning_rate * selection_lr_scale), "rest": opt}, labels
        )
    return loss_fn, opt, make_train_step(loss_fn, opt)


@dataclasses.dataclass
class SConvKANPhase:
    """One stage of :func:`fit_sconvkan`.

    Attributes:
      stage: ``"mixed"``, ``"selective"`` or ``"pruned"``.
      model: the :class:`kanflow.models.ConvNet` of this stage.
      result: :func:`kanflow.recipes.train_classifier`'s measurements (test
        accuracy, parameters, time per epoch, trained variables).
    """

    stage: str
    model: _convnet.ConvNet
    result: ClassifierResult


def fit_sconvkan(
    model: _convnet.ConvNet,
    train: ImageSource,
    test: ImageSource,
    *,
    epochs: tuple[int, int, int] = (10, 5, 5),
    learning_rate: float = 1e-2,
    batch_size: int = 64,
    prune_threshold: float = 1e-2,
    prune_examples: int = 512,
    seed: int = 0,
    quiet: bool = False,
) -> list[SConvKANPhase]:
    """Trains an S-ConvKAN through S-KAN's three stages.

    1. **mixed**: every output channel mixes all spaces (``epochs[0]`` epochs);
    2. **selective**: :func:`kanflow.models.select_conv` keeps each channel's
       strongest space; train ``epochs[1]`` epochs;
    3. **pruned**: :func:`kanflow.models.prune_conv` drops channels whose
       edges are all below ``prune_threshold`` on the first ``prune_examples``
       training images; fine-tune ``epochs[2]`` epochs (``0`` skips the stage).

    Each stage uses Adam with a cosine decay from ``learning_rate`` over its
    own steps; every stage is scored on ``test``.

    Args:
      model: a mixing S-ConvKAN (``conv="skan"``, ``selections=None``).
      train, test: from :func:`kanflow.data.image_source`.

    Returns:
      the phases in order; the last one is the final model.
    """
    if model.conv != "skan" or model.selections is not None:
        raise ValueError("fit_sconvkan starts from a mixing S-ConvKAN (conv='skan', no selections)")
    if (
        len(epochs) != 3
        or any(not isinstance(e, int) or e < 0 for e in epochs)
        or epochs[0] < 1
        or epochs[1] < 1
    ):
        raise ValueError(
            f"epochs must be three ints (mixed >= 1, selective >= 1, pruned >= 0), got {epochs}"
        )

    def optimizer(n_epochs: int):
        def make(steps_per_epoch: int) -> optax.GradientTransformation:
            steps = max(2, n_epochs * steps_per_epoch)
            return optax.adam(optax.cosine_decay_schedule(learning_rate, steps))

        return make

    phases: list[SConvKANPhase] = []
    variables = None
    for stage, n in zip(("mixed", "selective", "pruned"), epochs, strict=True):
        if stage == "selective":
            model, variables = _convnet.select_conv(model, variables)
        elif stage == "pruned":
            if n == 0:
                break
            images = next(iter(eval_batches(train, prune_examples)))["image"]
            model, variables = _convnet.prune_conv(model, variables, images, prune_threshold)
        res = train_classifier(
            model,
            train,
            test,
            optimizer(n),
            epochs=n,
            batch_size=batch_size,
            seed=seed,
            variables=variables,
            quiet=quiet,
            desc=f"S-ConvKAN {stage}",
        )
        variables = res.variables
        phases.append(SConvKANPhase(stage, model, res))
    return phases
