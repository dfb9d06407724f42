"""S-KAN network: a stack of :class:`kanflow.layers.SKANLayer`, with its stage operations.

``[batch, widths[0]] -> [batch, widths[-1]]``. :func:`select` (stage 2) and
:func:`prune` (stage 3) return a *new* model and variables (shapes change),
like :func:`kanflow.grid.extend`; :func:`kanflow.train.fit_skan` runs the
whole schedule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from kanflow.layers.skan import (
    DEFAULT_SPACES,
    SKANLayer,
    Space,
    keep_inputs,
    keep_nodes,
    select_spaces,
)

__all__ = ["SKAN", "chosen_spaces", "prune", "select"]


class SKAN(nn.Module):
    """Selectable-space KAN. ``[batch, widths[0]] -> [batch, widths[-1]]``.

    Attributes:
      widths: ``(in, hidden..., out)``.
      spaces: the pool shared by every layer.
      selections: per layer, ``None`` (mixing) or each node's space index.
      base_activation, noise_scale, param_dtype: as :class:`SKANLayer`.
    """

    widths: Sequence[int]
    spaces: Sequence[Space | str] = DEFAULT_SPACES
    selections: tuple[tuple[int, ...] | None, ...] | None = None
    base_activation: Callable[[Array], Array] | None = nn.silu
    noise_scale: float = 0.1
    param_dtype: jnp.dtype = jnp.float32

    def __post_init__(self):
        widths = tuple(self.widths)
        if len(widths) < 2 or not all(isinstance(w, int) and w >= 1 for w in widths):
            raise ValueError(f"widths must be >= 2 positive ints (in, ..., out), got {widths!r}")
        if self.selections is not None and len(self.selections) != len(widths) - 1:
            raise ValueError(f"selections needs one entry per layer ({len(widths) - 1})")
        super().__post_init__()

    @nn.nowrap
    def layer(self, l: int, name: str | None = None) -> SKANLayer:
        """Layer ``l`` (a standalone module unless called inside ``__call__``)."""
        sel = None if self.selections is None else self.selections[l]
        return SKANLayer(
            self.widths[l + 1],
            self.spaces,
            sel,
            self.base_activation,
            noise_scale=self.noise_scale,
            param_dtype=self.param_dtype,
            name=name,
        )

    @nn.compact
    def __call__(self, x: Array) -> Array:
        if x.ndim < 1 or x.shape[-1] != self.widths[0]:
            raise ValueError(f"SKAN expects inputs [..., {self.widths[0]}], got shape {x.shape}")
        for l in range(len(self.widths) - 1):
            x = self.layer(l, name=f"layer_{l}")(x)
        return x


def select(model: SKAN, variables: dict[str, Any]) -> tuple[SKAN, dict[str, Any]]:
    """Stage 2 for every layer: keep each node's strongest space, drop the rest."""
    params, sels = {}, []
    for l in range(len(model.widths) - 1):
        layer, p = select_spaces(model.layer(l), variables["params"][f"layer_{l}"])
        params[f"layer_{l}"] = p
        sels.append(layer.selection)
    return model.clone(selections=tuple(sels)), {"params": params}


def chosen_spaces(model: SKAN) -> list[list[str]]:
    """Per layer, the label of the space each node selected."""
    if model.selections is None or any(s is None for s in model.selections):
        raise ValueError("the model has not selected its spaces yet (call select)")
    pool = model.layer(0).pool
    return [[pool[s].label for s in sel] for sel in model.selections]


def _edge_importance(model: SKAN, params: dict, x: Array) -> list[np.ndarray]:
    """Per layer, ``mean |phi_ij(x_i)|`` over the data, ``[in, out]``."""
    out = []
    h = x
    for l in range(len(model.widths) - 1):
        layer = model.layer(l)
        p = {"params": params[f"layer_{l}"]}
        edges = jax.jit(lambda p, h, layer=layer: layer.apply(p, h, per_edge=True))(p, h)
        out.append(np.asarray(jnp.mean(jnp.abs(edges), axis=0)))
        h = jnp.sum(edges, axis=-2)
    return out


def prune(
    model: SKAN, variables: dict[str, Any], x: Array, threshold: float = 1e-2
) -> tuple[SKAN, dict[str, Any]]:
    """Stage 3: drop hidden nodes whose incoming and outgoing edges are all below ``threshold``.

    pykan's rule: node ``j`` of a hidden layer is kept if some incoming edge
    and some outgoing edge have ``mean |phi(x)| > threshold`` on ``x``. At
    least one node per layer is always kept.
    """
    if model.selections is None or any(s is None for s in model.selections):
        raise ValueError("prune a selected model (call select first)")
    params = variables["params"]
    imp = _edge_importance(model, params, x)
    widths, sels = list(model.widths), list(model.selections)
    new = {k: dict(v) for k, v in params.items()}
    for l in range(1, len(widths) - 1):  # hidden layer l = output of layer l-1
        score = np.minimum(imp[l - 1].max(axis=0), imp[l].max(axis=1))
        keep = np.flatnonzero(score > threshold)
        if keep.size == 0:
            keep = np.array([int(np.argmax(score))])
        prev, new[f"layer_{l - 1}"] = keep_nodes(model.layer(l - 1), new[f"layer_{l - 1}"], keep)
        new[f"layer_{l}"] = keep_inputs(new[f"layer_{l}"], keep)
        sels[l - 1] = prev.selection
        widths[l] = int(keep.size)
        imp[l] = imp[l][keep]
    pruned = model.clone(widths=tuple(widths), selections=tuple(sels))
    return pruned, {"params": new}
