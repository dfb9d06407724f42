"""S-KAN network: a stack of :class:`kanflow.layers.SKANLayer`, with its stage operations.

``[batch, widths[0]] -> [batch, widths[-1]]``. :func:`select` (stage 2) and
:func:`prune` (stage 3) return a *new* model and variables (shapes change),
like :func:`kanflow.grid.extend`; :func:`kanflow.recipes.fit_skan` runs the
whole schedule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from kanflow.checks import as_widths
from kanflow.layers.capture import edge_scores
from kanflow.layers.config import EdgeParametrisation, Space
from kanflow.layers.pruning import live_nodes
from kanflow.layers.skan import (
    DEFAULT_SPACES,
    SKANLayer,
    keep_inputs,
    keep_nodes,
    refit_selected,
    select_spaces,
)
from kanflow.models.common import count_params

__all__ = [
    "SKAN",
    "chosen_spaces",
    "mean_selection_entropy",
    "prune",
    "select",
    "selection_entropy",
    "temperature",
]


class SKAN(EdgeParametrisation):
    """Selectable-space KAN. ``[batch, widths[0]] -> [batch, widths[-1]]``.

    Attributes:
      widths: ``(in, hidden..., out)``.
      spaces: the pool shared by every layer.
      selections: per layer, ``None`` (mixing) or each selecting node's space index.
      selects: ``"output"`` or ``"input"``: which nodes of each layer select a
        space (:class:`kanflow.layers.SKANLayer`); with ``"input"`` every
        node's value is expanded in one space for all its outgoing edges.
      keyword-only: the edge parametrisation, :class:`kanflow.layers.EdgeParametrisation`.
    """

    widths: Sequence[int]
    spaces: Sequence[Space | str] = DEFAULT_SPACES
    selections: tuple[tuple[int, ...] | None, ...] | None = None
    selects: str = "output"

    def __post_init__(self):
        object.__setattr__(self, "widths", as_widths(self.widths))
        if self.selections is not None and len(self.selections) != len(self.widths) - 1:
            raise ValueError(f"selections needs one entry per layer ({len(self.widths) - 1})")
        super().__post_init__()

    @nn.nowrap
    def layer(self, l: int, name: str | None = None) -> SKANLayer:
        """Layer ``l`` (a standalone module unless called inside ``__call__``)."""
        sel = None if self.selections is None else self.selections[l]
        return SKANLayer(
            self.widths[l + 1], self.spaces, sel, self.selects, **self.edge_settings(), name=name
        )

    @nn.compact
    def __call__(self, x: Array) -> Array:
        x = jnp.asarray(x)  # lists and NumPy arrays too
        if x.ndim < 1 or x.shape[-1] != self.widths[0]:
            raise ValueError(f"SKAN expects inputs [..., {self.widths[0]}], got shape {x.shape}")
        for l in range(len(self.widths) - 1):
            x = self.layer(l, name=f"layer_{l}")(x)
        return x


def _stored_temperature(variables: dict[str, Any], name: str) -> Any:
    return variables.get("selection", {}).get(name, {}).get("temperature", 1.0)


def temperature(variables: dict[str, Any], l: int | str) -> float:
    """Layer ``l``'s (index, or name in the variables) selection temperature in
    ``variables`` (1 when none is stored)."""
    return float(_stored_temperature(variables, l if isinstance(l, str) else f"layer_{l}"))


def select(
    model: SKAN, variables: dict[str, Any], x: Array | None = None, ridge: float = 1e-3
) -> tuple[SKAN, dict[str, Any]]:
    """Stage 2 for every layer: keep each node's strongest space, drop the rest.

    Args:
      model, variables: a mixing S-KAN and its variables.
      x: ``None`` folds each node's selection weight into its kept coefficients
        (the kept term unchanged, the dropped spaces' share of the output
        lost). With inputs ``[n, widths[0]]`` (e.g. the training inputs),
        selection by projection: layer by layer, each node's kept-space
        coefficients are refitted (:func:`kanflow.layers.refit_selected`,
        pulled towards the folded ones by ``ridge``) so the selected layer, on
        what the already-selected layers feed it, reproduces what the mixed
        layer output; the function is kept as far as one space per node can
        express it.

    Returns:
      ``(selected_model, {"params": ...})``.
    """
    params, sels = {}, []
    h_mixed = h_selected = None if x is None else jnp.asarray(x)
    for l in range(len(model.widths) - 1):
        name = f"layer_{l}"
        mixed = model.layer(l)
        layer, p = select_spaces(mixed, variables["params"][name], temperature(variables, l))
        if x is not None:
            layer_vars = {"params": variables["params"][name]}
            if name in variables.get("selection", {}):
                layer_vars["selection"] = variables["selection"][name]
            h_mixed = mixed.apply(layer_vars, h_mixed)
            p = refit_selected(layer, p, h_selected, h_mixed, ridge)
            h_selected = layer.apply({"params": p}, h_selected)
        params[name] = p
        sels.append(layer.selection)
    return model.clone(selections=tuple(sels)), {"params": params}


def selection_entropy(variables: dict[str, Any]) -> float:
    """How undecided a mixing S-KAN's nodes are, from 0 to 1.

    The mean over every node of every layer of the entropy of its selection
    weights ``softmax(select_logits[:, j] / T)``, divided by ``log(pool size)``:
    1 when a node weighs all spaces equally, 0 when it puts all weight on one.
    """
    return float(mean_selection_entropy(variables))


def mean_selection_entropy(variables: dict[str, Any]) -> Array:
    """:func:`selection_entropy` as a traceable scalar (for a loss term)."""
    per_node = []
    for name, p in variables["params"].items():
        if "select_logits" in p:
            z = p["select_logits"]  # [S, out]
            w = jax.nn.softmax(z / _stored_temperature(variables, name), axis=0)
            norm = math.log(z.shape[0]) if z.shape[0] > 1 else 1.0  # one space: entropy 0
            per_node.append(jnp.sum(jax.scipy.special.entr(w), axis=0) / norm)
    if not per_node:
        raise ValueError("selection_entropy needs a mixing S-KAN's variables (select_logits)")
    return jnp.mean(jnp.concatenate(per_node))


def chosen_spaces(model: SKAN) -> list[list[str]]:
    """Per layer, the label of the space each selecting node chose (output nodes, or
    the layer's inputs with ``selects="input"``)."""
    if model.selections is None or any(s is None for s in model.selections):
        raise ValueError("the model has not selected its spaces yet (call select)")
    pool = model.layer(0).pool
    return [[pool[s].label for s in sel] for sel in model.selections]


def prune(
    model: SKAN,
    variables: dict[str, Any],
    x: Array,
    threshold: float = 1e-2,
    max_params: int | None = None,
) -> tuple[SKAN, dict[str, Any]]:
    """Stage 3: drop hidden nodes that are dead on either side (and down to a budget).

    pykan's rule (:func:`kanflow.layers.live_nodes`): node ``j`` of a hidden
    layer is kept if some incoming edge **and** some outgoing edge have
    ``mean |phi(x)| > threshold`` on ``x``. With ``max_params``, the weakest
    hidden nodes (smallest of the largest incoming and the largest outgoing
    edge score) are then dropped one at a time until the model has at most
    ``max_params`` parameters. At least one node per layer is always kept.
    """
    if model.selections is None or any(s is None for s in model.selections):
        raise ValueError("prune a selected model (call select first)")
    if max_params is not None and not max_params >= 1:
        raise ValueError(f"max_params must be a positive parameter count, got {max_params}")
    scores = edge_scores(model, variables, x, SKANLayer)
    imp = [scores[(f"layer_{l}",)] for l in range(len(model.widths) - 1)]
    widths, sels = list(model.widths), list(model.selections)
    new = {k: dict(v) for k, v in variables["params"].items()}

    def keep(l: int, nodes) -> None:
        """Keep only ``nodes`` of hidden layer ``l`` (the output of layer ``l - 1``)."""
        current = model.clone(widths=tuple(widths), selections=tuple(sels))
        prev, new[f"layer_{l - 1}"] = keep_nodes(current.layer(l - 1), new[f"layer_{l - 1}"], nodes)
        nxt, new[f"layer_{l}"] = keep_inputs(current.layer(l), new[f"layer_{l}"], nodes)
        sels[l - 1], sels[l], widths[l] = prev.selection, nxt.selection, len(nodes)
        imp[l - 1], imp[l] = imp[l - 1][:, nodes], imp[l][nodes]

    for l in range(1, len(widths) - 1):  # hidden layer l = output of layer l-1
        keep(l, live_nodes(imp[l - 1].max(axis=0), imp[l].max(axis=1), threshold))
    while max_params is not None and count_params(new) > max_params:
        weakest = []  # (strength, hidden layer, node) of each layer's weakest node
        for l in range(1, len(widths) - 1):
            if widths[l] > 1:
                strength = np.minimum(imp[l - 1].max(axis=0), imp[l].max(axis=1))
                weakest.append((float(strength.min()), l, int(strength.argmin())))
        if not weakest:
            break  # one node per hidden layer: as small as the model gets
        _, l, j = min(weakest)
        keep(l, np.delete(np.arange(widths[l]), j))
    pruned = model.clone(widths=tuple(widths), selections=tuple(sels))
    return pruned, {"params": new}
