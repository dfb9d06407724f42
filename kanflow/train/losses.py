"""Loss-function builders.

A loss function has the signature
``loss_fn(params, model_state, batch, rng) -> (loss, aux)`` where ``aux`` is a
dict of scalar metrics; an optional ``aux["model_state"]`` replaces the
state's non-trained collections (e.g. batch statistics). It may carry
``loss_fn.check_batch(params, model_state, batch)``, which
:func:`kanflow.train.fit` calls on the host before training (on all of the
in-memory data once, or on every batch from a ``batch_fn``) so that labels out
of range or targets of the wrong shape fail with a clear error instead of
training on a silently wrong loss.
"""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

__all__ = [
    "apply_model",
    "check_keys",
    "check_label_smoothing",
    "check_labels",
    "rmse",
    "smooth_one_hot",
    "supervised_loss",
]


def rmse(pred, target) -> jnp.ndarray:
    """Root mean squared error over all elements."""
    return jnp.sqrt(jnp.mean((pred - target) ** 2))


def check_label_smoothing(label_smoothing: float) -> None:
    """Raises ``ValueError`` unless ``0 <= label_smoothing < 1``."""
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")


def smooth_one_hot(labels, num_classes: int, label_smoothing: float = 0.0) -> jnp.ndarray:
    """``[...]`` integer labels -> ``[..., num_classes]`` one-hot mixed with uniform."""
    check_label_smoothing(label_smoothing)
    return optax.smooth_labels(jax.nn.one_hot(labels, num_classes), label_smoothing)


def check_labels(
    labels, num_classes: int, name: str = "labels", shape: tuple[int, ...] | None = None
) -> None:
    """Raises ``ValueError`` unless ``labels`` are integers in ``[0, num_classes)``
    (and of ``shape``, the logits' shape without the class axis, when given).

    (In a jit-compiled loss, a negative label would one-hot to zeros and an
    out-of-range one likewise: a finite, wrong loss; labels ``[B, 1]`` against
    logits ``[B, C]`` would broadcast to ``[B, B]``, another.)
    """
    labels = np.asarray(labels)
    if shape is not None and labels.shape != tuple(shape):
        raise ValueError(
            f"{name} must have shape {tuple(shape)} (one class index per output row), "
            f"got {labels.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must be integer class indices, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"{name} must lie in [0, {num_classes}) for a model with {num_classes} outputs, "
            f"got values in [{labels.min()}, {labels.max()}]"
        )


def check_keys(batch, keys) -> None:
    """Raises ``ValueError`` naming the first of ``keys`` that ``batch`` lacks."""
    for key in keys:
        if key not in batch:
            raise ValueError(f"the batch has no {key!r} entry (it has {sorted(batch)})")


def apply_model(model: nn.Module, params, model_state: dict, x, kwargs: dict):
    """``(output, new_model_state | None)``; ``batch_stats``, when present, are updated."""
    variables = {"params": params, **model_state}
    if "batch_stats" in model_state:
        out, upd = model.apply(variables, x, mutable=["batch_stats"], **kwargs)
        return out, {**model_state, **upd}
    return model.apply(variables, x, **kwargs), None


def supervised_loss(
    model: nn.Module,
    loss: str = "mse",
    x_key: str = "x",
    y_key: str = "y",
    apply_kwargs: dict | None = None,
    label_smoothing: float = 0.0,
) -> Callable:
    """``loss_fn`` for ``model.apply(variables, batch[x_key])`` against ``batch[y_key]``.

    Args:
      model: a linen module.
      loss: ``"mse"`` (regression; aux reports ``rmse``) or ``"cross_entropy"``
        (integer labels; aux reports ``accuracy``).
      apply_kwargs: extra keyword arguments for ``apply`` (e.g. ``{"train": True}``).
        When the model state holds ``batch_stats`` they are updated (``mutable``)
        and returned as ``aux["model_state"]``.
      label_smoothing: for cross-entropy, mix the one-hot target with uniform.
    """
    if loss not in ("mse", "cross_entropy"):
        raise ValueError(f"loss must be 'mse' or 'cross_entropy', got {loss!r}")
    check_label_smoothing(label_smoothing)
    kwargs = dict(apply_kwargs or {})

    out_shapes: dict = {}

    def check_batch(params, model_state, batch) -> None:
        """Host-side check of ``batch`` against the model's output (see module docstring)."""
        check_keys(batch, (x_key, y_key))
        x, y = batch[x_key], np.asarray(batch[y_key])
        sig = (np.shape(x), str(np.result_type(x)))
        if sig not in out_shapes:
            out_shapes[sig] = jax.eval_shape(
                lambda p, s, x: apply_model(model, p, s or {}, x, kwargs)[0], params, model_state, x
            ).shape
        out = out_shapes[sig]
        if loss == "cross_entropy":
            check_labels(y, out[-1], f"batch[{y_key!r}]", shape=out[:-1])
        elif y.size != int(np.prod(out)) or (y.ndim and y.shape[0] != out[0]):
            raise ValueError(
                f"batch[{y_key!r}] has shape {y.shape} but the model outputs {tuple(out)} "
                f"for batch[{x_key!r}] of shape {np.shape(x)}"
            )

    def loss_fn(params, model_state, batch, rng):
        del rng
        pred, new_state = apply_model(model, params, model_state, batch[x_key], kwargs)
        target = batch[y_key]
        if loss == "mse":
            mse = jnp.mean((pred - target.reshape(pred.shape)) ** 2)
            aux = {"rmse": jnp.sqrt(mse)}
            loss_value = mse
        else:
            onehot = smooth_one_hot(target, pred.shape[-1], label_smoothing)
            loss_value = optax.softmax_cross_entropy(pred, onehot).mean()
            aux = {"accuracy": jnp.mean(jnp.argmax(pred, -1) == target)}
        if new_state is not None:
            aux["model_state"] = new_state
        return loss_value, aux

    loss_fn.check_batch = check_batch
    return loss_fn
