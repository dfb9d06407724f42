"""What each submodule of a model receives: the one way kanflow captures layer inputs.

Grid updates (:mod:`kanflow.grid`), S-KAN / S-ConvKAN pruning and plots need
the input of every KAN layer on a batch, or its edge values. Both functions
here run the model once under ``flax.linen.intercept_methods`` and look at
every matching module's ``__call__``, keyed by the module's path in the
variables tree; the layers need no cooperation (no ``sow``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

__all__ = ["edge_scores", "edge_values", "layer_inputs", "map_layers"]


def _matcher(where) -> Callable[[nn.Module], bool]:
    if isinstance(where, (type, tuple)):
        return lambda m: isinstance(m, where)
    if callable(where):
        return where
    raise TypeError(f"where must be a module class, a tuple of them or a predicate, got {where!r}")


def map_layers(
    model: nn.Module,
    variables: dict[str, Any],
    x: Any,
    where: type | tuple[type, ...] | Callable[[nn.Module], bool],
    fn: Callable[[nn.Module, dict[str, Any], Array], Any],
    **apply_kwargs,
) -> dict[tuple[str, ...], Any]:
    """``fn(layer, layer_variables, layer_input)`` for every layer ``where`` selects.

    Runs ``model.apply(variables, x, **apply_kwargs)`` once (jit-compiled),
    records each selected submodule's first ``__call__`` argument, and calls
    ``fn`` with the submodule as a standalone module, its slice of every
    variable collection and that input.

    Returns:
      ``{path: fn(...)}`` in call order; ``path`` is the module's names from
      the root (e.g. ``("layer_0",)`` or ``("conv_1", "skan")``); a module
      called several times keeps its first call.
    """
    key = (model, where, fn, tuple(sorted(apply_kwargs.items())))
    try:
        hash(key)
    except TypeError:  # e.g. an array among apply_kwargs: compile without caching
        return _compiled_run.__wrapped__(*key)(variables, x)
    return _compiled_run(*key)(variables, x)


@functools.lru_cache(maxsize=64)
def _compiled_run(model: nn.Module, where, fn: Callable, apply_kwargs: tuple) -> Callable:
    """The jit-compiled capture for one (model, where, fn): compiled once per input shape.

    Callers that pass the same module-level ``fn`` again (grid updates, pruning,
    symbolic fitting) reuse the compiled function instead of recompiling."""
    match = _matcher(where)

    def run(variables, x):
        seen: dict[tuple[str, ...], tuple[nn.Module, Array]] = {}

        def grab(next_fun, args, kwargs, context):
            mod = context.module
            if context.method_name == "__call__" and match(mod) and args:
                seen.setdefault(tuple(mod.path), (mod.clone(parent=None, name=None), args[0]))
            return next_fun(*args, **kwargs)

        with nn.intercept_methods(grab):
            model.apply(variables, x, **dict(apply_kwargs))
        out = {}
        for path, (layer, inp) in seen.items():
            sub = {c: _subtree(tree, path) for c, tree in variables.items()}
            out[path] = fn(layer, {c: t for c, t in sub.items() if t is not None}, inp)
        return out

    return jax.jit(run)


def _input(layer, variables, h):
    return h


def _per_edge(layer, variables, h):
    return h, layer.apply(variables, h, per_edge=True)


def _mean_abs_edge(layer, variables, h):
    edges = layer.apply(variables, h, per_edge=True)  # [..., in, out]
    return jnp.mean(jnp.abs(edges), axis=tuple(range(edges.ndim - 2)))


def layer_inputs(
    model: nn.Module,
    variables: dict[str, Any],
    x: Any,
    where: type | tuple[type, ...] | Callable[[nn.Module], bool],
    **apply_kwargs,
) -> dict[tuple[str, ...], Array]:
    """Inputs of the submodules ``where`` selects, on ``model.apply(variables, x)``.

    Args:
      model: any linen module.
      variables: its variables.
      x: the model's input.
      where: a module class (or tuple of classes), or a predicate on modules.
      **apply_kwargs: passed to ``apply`` (e.g. ``train=False``).

    Returns:
      ``{path: input}`` (see :func:`map_layers`).
    """
    return map_layers(model, variables, x, where, _input, **apply_kwargs)


def edge_scores(
    model: nn.Module,
    variables: dict[str, Any],
    x: Any,
    where: type | tuple[type, ...] | Callable[[nn.Module], bool],
    **apply_kwargs,
) -> dict[tuple[str, ...], np.ndarray]:
    """pykan's edge importance ``mean |phi_ij(x_i)|`` of every selected KAN layer.

    The layers ``where`` selects must accept ``per_edge=True`` (``KANLayer``,
    ``SKANLayer``); each is evaluated per edge on the input it receives in
    ``model.apply(variables, x)``, and its edge values are averaged over every
    leading axis (batch, and image positions in a convolution).

    Returns:
      ``{path: scores [in, out]}`` (float64 NumPy).
    """

    out = map_layers(model, variables, x, where, _mean_abs_edge, **apply_kwargs)
    return {k: np.asarray(v, dtype=np.float64) for k, v in out.items()}


def _subtree(tree: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(tree, Mapping) or key not in tree:
            return None
        tree = tree[key]
    return tree


def edge_values(
    model: nn.Module,
    variables: dict[str, Any],
    x: Any,
    where: type | tuple[type, ...] | Callable[[nn.Module], bool],
    **apply_kwargs,
) -> dict[tuple[str, ...], tuple[Array, Array]]:
    """Each selected KAN layer's input and its edge values on ``model.apply(variables, x)``.

    Returns:
      ``{path: (h [..., in], phi [..., in, out])}`` (the layers must accept
      ``per_edge=True``).
    """
    return map_layers(model, variables, x, where, _per_edge, **apply_kwargs)
