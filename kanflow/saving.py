"""Save a trained model and load it for prediction, with nothing but the path.

``kf.save(path, model, variables)`` writes a folder:

* ``kanflow_model.json``: the format, its version and the model's
  configuration: its class and every field (widths, basis, grid size after
  extension, selections after S-KAN's selection, nested modules, activation
  functions by import path, dtypes, ...);
* ``variables/``: the arrays (orbax-checkpoint's standard format).

``model, variables = kf.load(path)`` rebuilds the module from the JSON and
restores the arrays, so ``model.apply(variables, x)`` predicts as before, in
any process, without the optimiser or the code that built the model. Fields
must be data, modules, dataclasses, dtypes or importable functions and
classes (a lambda or a local function cannot be saved: the error names the
field). Loading imports classes and functions only from ``kanflow``, ``flax``,
``jax``, ``numpy``, ``optax`` and ``functools``.

A training checkpoint (:func:`kanflow.train.fit`'s ``checkpoint_dir``) is a
different thing: it holds the optimiser state to resume training, and
:func:`load` says so if given one.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import json
import os
import shutil
import tempfile
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["FORMAT_VERSION", "load", "model_from_config", "model_to_config", "save"]

FORMAT = "kanflow-model"
FORMAT_VERSION = 1
CONFIG_FILE = "kanflow_model.json"
_ALLOWED = ("kanflow", "flax", "jax", "numpy", "optax", "functools")


def _import_path(obj: Any) -> str:
    """``"module:qualname"`` of an importable function or class; ``ValueError`` otherwise."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if module and qualname and "<" not in qualname and _resolve(f"{module}:{qualname}") is obj:
        return f"{module}:{qualname}"
    for namespace in ("jax.nn", "jax.numpy", "flax.linen"):  # public aliases of jax functions
        ns = importlib.import_module(namespace)
        for name in dir(ns):
            if getattr(ns, name, None) is obj:
                return f"{namespace}:{name}"
    raise ValueError(f"{obj!r} is not importable by name (a lambda or a local function?)")


def _resolve(path: str) -> Any:
    module, _, qualname = path.partition(":")
    try:
        obj = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError):
        return None
    return obj


def _is_dtype(value: Any) -> bool:
    """A dtype or scalar type (``np.dtype(C)`` is object for any other class ``C``)."""
    if isinstance(value, np.dtype):
        return True
    if isinstance(value, type) and issubclass(value, np.generic):
        return True
    return isinstance(getattr(value, "dtype", None), np.dtype) and not hasattr(value, "shape")


def _fields(obj: Any) -> dict[str, Any]:
    return {
        f.name: getattr(obj, f.name)
        for f in dataclasses.fields(obj)
        if f.name != "parent" and f.init
    }


def _encode(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value.item() if isinstance(value, np.generic) else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # modules are too
        return {
            "__class__": _import_path(type(value)),
            "fields": {k: _encode(v, f"{where}.{k}") for k, v in _fields(value).items()},
        }
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [_encode(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {"__dict__": {str(k): _encode(v, f"{where}[{k!r}]") for k, v in value.items()}}
    if isinstance(value, functools.partial):
        return {
            "__partial__": _encode(value.func, f"{where}.func"),
            "args": [_encode(v, f"{where}.args") for v in value.args],
            "keywords": {k: _encode(v, f"{where}.{k}") for k, v in value.keywords.items()},
        }
    if _is_dtype(value):
        return {"__dtype__": np.dtype(getattr(value, "dtype", value)).name}
    if callable(value):
        try:
            return {"__callable__": _import_path(value)}
        except ValueError as err:
            raise ValueError(f"cannot save field {where}: {err}") from None
    raise ValueError(f"cannot save field {where} of type {type(value).__name__}: {value!r}")


def _importable(path: str) -> Any:
    if path.split(":")[0].split(".")[0] not in _ALLOWED:
        raise ValueError(f"refusing to import {path!r}: saved models may name only {_ALLOWED}")
    obj = _resolve(path)
    if obj is None:
        raise ValueError(f"{path!r} does not exist in this installation")
    return obj


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "__tuple__" in value:
        return tuple(_decode(v) for v in value["__tuple__"])
    if "__dict__" in value:
        return {k: _decode(v) for k, v in value["__dict__"].items()}
    if "__dtype__" in value:
        return jnp.dtype(value["__dtype__"])
    if "__callable__" in value:
        return _importable(value["__callable__"])
    if "__partial__" in value:
        return functools.partial(
            _decode(value["__partial__"]),
            *[_decode(v) for v in value["args"]],
            **{k: _decode(v) for k, v in value["keywords"].items()},
        )
    if "__class__" in value:
        cls = _importable(value["__class__"])
        return cls(**{k: _decode(v) for k, v in value["fields"].items()})
    raise ValueError(f"unrecognised entry in a saved model configuration: {value!r}")


def model_to_config(model: nn.Module) -> dict[str, Any]:
    """The JSON-able description :func:`model_from_config` rebuilds ``model`` from."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a flax.linen Module, got {type(model).__name__}")
    return _encode(model, type(model).__name__)


def model_from_config(config: dict[str, Any]) -> nn.Module:
    """The module :func:`model_to_config` described."""
    return _decode(config)


def save(
    path: str | os.PathLike,
    model: nn.Module,
    variables: dict[str, Any],
    *,
    overwrite: bool = False,
) -> str:
    """Writes ``model`` and ``variables`` to the folder ``path`` (atomically).

    Args:
      path: the folder to create.
      model: the (unbound) module, e.g. after grid extension or S-KAN's stages.
      variables: all its collections (``{"params": ..., "grid": ...}``).
      overwrite: replace an existing folder.

    Returns:
      the absolute path.

    Example:
      >>> import os, tempfile, jax, jax.numpy as jnp, kanflow as kf
      >>> model = kf.models.KAN((2, 3, 1), grid_size=4)
      >>> variables = model.init(jax.random.key(0), jnp.zeros((1, 2)))
      >>> path = kf.save(os.path.join(tempfile.mkdtemp(), "kan"), model, variables)
      >>> loaded, restored = kf.load(path)  # in any process: nothing but the path
      >>> x = jnp.ones((4, 2))
      >>> bool(jnp.all(loaded.apply(restored, x) == model.apply(variables, x)))
      True
    """
    import orbax.checkpoint as ocp

    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not overwrite:
        raise ValueError(f"{path} exists; pass overwrite=True to replace it")
    if not isinstance(variables, dict) or "params" not in variables:
        raise ValueError("variables must be the model's variables dict, with a 'params' entry")
    config = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "model": model_to_config(model),
        "collections": sorted(variables),
    }
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.partial-", dir=parent)
    try:
        with open(os.path.join(work, CONFIG_FILE), "w") as f:
            json.dump(config, f, indent=1)
        ckpt = ocp.StandardCheckpointer()
        ckpt.save(os.path.join(work, "variables"), jax.device_get(dict(variables)))
        ckpt.wait_until_finished()
        ckpt.close()
        if os.path.exists(path):
            shutil.rmtree(path)
        os.replace(work, path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def load(path: str | os.PathLike) -> tuple[nn.Module, dict[str, Any]]:
    """``(model, variables)`` from a folder written by :func:`save`.

    Raises:
      FileNotFoundError: nothing at ``path``.
      ValueError: ``path`` holds training checkpoints rather than a saved
        model, or a model saved by a newer kanflow (a later format version).
    """
    import orbax.checkpoint as ocp

    path = os.path.abspath(os.fspath(path))
    if not os.path.isdir(path):
        raise FileNotFoundError(f"no saved model at {path}")
    config_path = os.path.join(path, CONFIG_FILE)
    if not os.path.exists(config_path):
        if any(name.isdigit() for name in os.listdir(path)):
            raise ValueError(
                f"{path} holds training checkpoints (kanflow.train.fit's checkpoint_dir), not "
                "a saved model: resume training from it, or write a model with kanflow.save"
            )
        raise ValueError(f"{path} is not a saved kanflow model (no {CONFIG_FILE})")
    with open(config_path) as f:
        config = json.load(f)
    if config.get("format") != FORMAT:
        raise ValueError(f"{config_path} is not a kanflow model description")
    version = config.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ValueError(f"{config_path} has no valid format version (got {version!r})")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{path} was saved in format {config['version']} by a newer kanflow; this one "
            f"reads formats up to {FORMAT_VERSION}: upgrade kanflow-jax"
        )
    model = model_from_config(config["model"])
    ckpt = ocp.StandardCheckpointer()
    variables = ckpt.restore(os.path.join(path, "variables"))
    ckpt.close()
    return model, jax.tree.map(jnp.asarray, dict(variables))
