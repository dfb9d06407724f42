"""A stack of KAN layers. ``[batch, widths[0]] -> [batch, widths[-1]]``."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax.numpy as jnp
import numpy as np
from jax import Array

from kanflow.checks import as_widths
from kanflow.layers.capture import edge_values
from kanflow.layers.config import KANConfig
from kanflow.layers.kan import KANLayer
from kanflow.layers.pruning import live_nodes


class KAN(KANConfig):
    """Kolmogorov-Arnold network ``widths = (in, hidden..., out)``.

    Layer ``l`` is ``KANLayer(widths[l + 1])`` named ``layer_l``; the edge
    settings (keyword-only, :class:`kanflow.layers.KANConfig`: ``basis``,
    ``grid_size``, ``order``, ``grid_range``, ``base_activation``, ``scale_sp``,
    ...) are every layer's.

    Example:
      >>> import jax, jax.numpy as jnp, kanflow as kf
      >>> model = kf.models.KAN((2, 5, 1), basis="chebyshev", order=4)
      >>> variables = model.init(jax.random.key(0), jnp.zeros((1, 2)))
      >>> model.apply(variables, jnp.ones((3, 2))).shape
      (3, 1)
      >>> kf.count_params(variables["params"])  # 15 edges x (5 coefficients + 2 scales)
      105
    """

    widths: Sequence[int]

    def __post_init__(self):
        object.__setattr__(self, "widths", as_widths(self.widths))
        super().__post_init__()

    @nn.compact
    def __call__(self, x: Array) -> Array:
        x = jnp.asarray(x)  # lists and NumPy arrays too
        if x.ndim < 1 or x.shape[-1] != self.widths[0]:
            raise ValueError(f"KAN expects inputs [..., {self.widths[0]}], got shape {x.shape}")
        for l in range(len(self.widths) - 1):
            x = self.layer(l)(x)
        return x

    @nn.nowrap
    def layer(self, l: int) -> KANLayer:
        """Layer ``l`` as a module (``[..., widths[l]] -> [..., widths[l + 1]]``).

        Called inside ``__call__`` it is the bound submodule; called on an
        unbound model it builds an equal standalone layer, to apply with
        ``{c: variables[c][f"layer_{l}"] for c in variables}``.
        """
        return KANLayer(self.widths[l + 1], **self.kan_settings(), name=f"layer_{l}")


# ---- pruning (pykan's, arXiv 2404.19756 §2.5.1) ---------------------------------

_PRUNE_METHODS = ("edge", "attribution")

# axis of the input / output index in each KANLayer variable
_IN_AXIS = {"coef": 0, "scale_base": 0, "scale_sp": 0, "edges": 0, "knots": 0}
_OUT_AXIS = {"coef": 2, "scale_base": 1, "scale_sp": 1, "edges": 1, "bias": 0}


def layer_edges(model: KAN, variables: dict, x) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per layer, its input on ``x`` and its edge values:
    ``(h [N, in], phi [N, in, out])`` (float64 NumPy; masked edges are 0)."""

    out = edge_values(model, variables, jnp.asarray(x), KANLayer)
    return [(np.asarray(h, np.float64), np.asarray(e, np.float64)) for h, e in out.values()]


def attribution_scores(
    edge_std: list[np.ndarray], out_std: list[np.ndarray]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """pykan's backward attribution (``MultKAN.attribute``): node and edge scores.

    Every output starts with score 1; an edge ``i -> j`` of layer ``l`` receives
    ``std(phi_ij) * score_j / (std(y_j) + 1e-4)`` (``y_j`` node ``j``'s value)
    and node ``i`` the sum over its outgoing edges; scores are averaged over
    the outputs.

    Args:
      edge_std: per layer, ``[in, out]`` standard deviations of the edge values.
      out_std: per layer, ``[out]`` standard deviations of the layer's outputs.

    Returns:
      ``(node_scores, edge_scores)``: ``L + 1`` vectors ``[width_l]`` (the inputs
      first) and ``L`` matrices ``[in, out]``.
    """
    node = np.eye(out_std[-1].shape[0])  # [query, node]
    nodes, edges = [node.mean(0)], []
    for e_std, y_std in zip(reversed(edge_std), reversed(out_std), strict=True):
        e = e_std[None] * (node / (y_std + 1e-4))[:, None, :]  # [query, in, out]
        node = e.sum(2)
        edges.insert(0, e.mean(0))
        nodes.insert(0, node.mean(0))
    return nodes, edges


def _scores(model: KAN, variables: dict, x, method: str):
    """``(node_scores | None, edge_scores)`` by ``method`` (see :func:`prune`)."""
    if method not in _PRUNE_METHODS:
        raise ValueError(f"method must be one of {_PRUNE_METHODS}, got {method!r}")
    stats = layer_edges(model, variables, x)
    if method == "edge":
        return None, [np.mean(np.abs(e), axis=0) for _, e in stats]
    return edge_attribution(stats)


def edge_attribution(
    stats: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """:func:`attribution_scores` from each layer's ``(h [N, in], phi [N, in, out])``
    (:func:`layer_edges`): the edges' and the layer outputs' standard deviations over N."""
    edge_std = [np.std(phi, axis=0) for _, phi in stats]
    out_std = [np.std(phi.sum(1), axis=0) for _, phi in stats]
    return attribution_scores(edge_std, out_std)


def _take_layer(layer_vars: dict, inputs=None, outputs=None) -> dict:
    """A KANLayer's variables (every collection) restricted to some inputs / outputs."""

    def take(name, leaf):
        leaf = np.asarray(leaf)  # host-side: no device op to compile
        if inputs is not None and name in _IN_AXIS:
            leaf = np.take(leaf, inputs, axis=_IN_AXIS[name])
        if outputs is not None and name in _OUT_AXIS:
            leaf = np.take(leaf, outputs, axis=_OUT_AXIS[name])
        return leaf

    return {name: take(name, leaf) for name, leaf in layer_vars.items()}


def _restrict(variables: dict, layer: int, inputs=None, outputs=None) -> dict:
    key = f"layer_{layer}"
    return {
        c: {**tree, key: _take_layer(tree[key], inputs, outputs)} if key in tree else tree
        for c, tree in variables.items()
    }


def prune(
    model: KAN,
    variables: dict,
    x,
    *,
    node_threshold: float = 1e-2,
    edge_threshold: float | None = 3e-2,
    method: str = "edge",
) -> tuple[KAN, dict]:
    """Removes dead hidden nodes, then masks weak edges: pykan's ``prune``.

    Scores come from the model on ``x``:

    * ``method="edge"`` (pykan's rule of arXiv 2404.19756 §2.5.1): an edge's
      score is ``mean |phi_ij(x_i)|``; a hidden node stays only if its largest
      incoming **and** its largest outgoing score exceed ``node_threshold``
      (:func:`kanflow.layers.live_nodes`).
    * ``method="attribution"`` (pykan 0.2's default): the backward attribution
      of :func:`attribution_scores`; a hidden node stays if its score exceeds
      ``node_threshold``.

    Then, on the smaller model, every edge whose score (same method) is at most
    ``edge_threshold`` is masked (``variables["mask"]``, see
    :class:`~kanflow.layers.KANLayer`); ``None`` skips edge pruning. At least
    one node per hidden layer is kept.

    Returns:
      ``(model, variables)``: the model with the kept widths and its variables;
      on kept nodes the function is the original's minus the removed nodes'
      (and masked edges') contributions.
    """
    if not node_threshold >= 0 or (edge_threshold is not None and not edge_threshold >= 0):
        raise ValueError(
            f"thresholds must be >= 0, got node_threshold={node_threshold}, "
            f"edge_threshold={edge_threshold}"
        )
    keep = live_hidden_nodes(model, variables, x, threshold=node_threshold, method=method)
    widths = list(model.widths)
    for l, kept in enumerate(keep, start=1):  # node l of the network = output of layer l - 1
        variables = _restrict(variables, l - 1, outputs=kept)
        variables = _restrict(variables, l, inputs=kept)
        widths[l] = int(kept.size)
    model = model.clone(widths=tuple(widths))
    if edge_threshold is None:
        return model, variables
    _, edges = _scores(model, variables, x, method)
    return model, with_edge_mask(variables, [e > edge_threshold for e in edges])


def live_hidden_nodes(
    model: KAN, variables: dict, x, *, threshold: float = 1e-2, method: str = "edge"
) -> list[np.ndarray]:
    """Per hidden layer, the indices of the nodes :func:`prune` keeps (at least one)."""
    nodes, edges = _scores(model, variables, x, method)
    keep = []
    for l in range(1, len(model.widths) - 1):
        if method == "edge":
            kept = live_nodes(edges[l - 1].max(axis=0), edges[l].max(axis=1), threshold)
            edges[l] = edges[l][kept]  # the next layer's incoming scores count kept nodes only
        else:
            kept = np.flatnonzero(nodes[l] > threshold)
            kept = kept if kept.size else np.array([int(np.argmax(nodes[l]))])
        keep.append(kept)
    return keep


def mask_nodes(model: KAN, variables: dict, keep: list[np.ndarray]) -> dict:
    """``variables`` with every edge into or out of a hidden node not in ``keep[l - 1]``
    masked: the node is switched off without changing any shape (so a compiled
    train step still applies; :func:`prune` removes it later)."""
    masks = [np.ones((model.widths[l], model.widths[l + 1])) for l in range(len(model.widths) - 1)]
    for l, kept in enumerate(keep, start=1):
        off = np.setdiff1d(np.arange(model.widths[l]), kept)
        masks[l - 1][:, off] = 0
        masks[l][off, :] = 0
    return with_edge_mask(variables, masks)


def with_edge_mask(variables: dict, masks: list) -> dict:
    """``variables`` with each layer's stored edge mask multiplied by ``masks[l]`` ``[in, out]``."""
    stored = dict(variables.get("mask", {}))
    for l, m in enumerate(masks):
        m = np.asarray(m, np.float32)
        old = stored.get(f"layer_{l}", {}).get("edges")
        stored[f"layer_{l}"] = {"edges": m if old is None else np.asarray(old) * m}
    return {**variables, "mask": stored}


def prune_inputs(
    model: KAN, variables: dict, x, *, threshold: float = 1e-2, method: str = "edge"
) -> tuple[KAN, dict, np.ndarray]:
    """Removes inputs whose score is at most ``threshold``: pykan's ``prune_input``.

    An input's score is its largest outgoing edge score (``method="edge"``) or its
    attribution score (``"attribution"``); at least one input is kept.

    Returns:
      ``(model, variables, kept)``: the model takes ``x[..., kept]``.
    """
    nodes, edges = _scores(model, variables, x, method)
    score = edges[0].max(axis=1) if method == "edge" else nodes[0]
    kept = np.flatnonzero(score > threshold)
    kept = kept if kept.size else np.array([int(np.argmax(score))])
    variables = _restrict(variables, 0, inputs=kept)
    return model.clone(widths=(int(kept.size), *model.widths[1:])), variables, kept
