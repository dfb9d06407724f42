"""S-KAN (Yang et al. 2024, arXiv 2408.08338): every node selects its activation space.

A *space* is a basis with its settings (:class:`Space`, e.g. B-spline G5 k3,
Chebyshev degree 4). For output node ``j`` of a layer,

    ``y_j = sum_i [scale_base_ij silu(x_i)
                   + scale_sp_ij sum_s w_sj sum_c coef^s_icj B^s_c(x_i)]``,

i.e. node ``j``'s incoming edges are functions in the spaces ``s``, mixed by
learnable selection weights ``w_:j = softmax(select_logits[:, j] / T)`` (the
choice that each node - not each edge - selects a space is the paper's; that
it is the *output* node of a layer that selects for its incoming edges is
ours, ``selects="output"``, the default). With ``selects="input"`` a node
selects the space its *value* is expanded in, for all of its outgoing edges
(the paper's "activation mode for data at each node"):

    ``y_j = sum_i [scale_base_ij silu(x_i)
                   + scale_sp_ij sum_s w_si sum_c coef^s_icj B^s_c(x_i)]``,

``w_:i = softmax(select_logits[:, i] / T)``. After selection each input is
then expanded in one basis only, so a selected layer costs one basis
evaluation per input and one matmul, as a :class:`kanflow.layers.KANLayer`
does, however many spaces are in use (output selection evaluates every used
space on every input). Each edge carries :class:`kanflow.layers.KANLayer`'s parametrisation
(:class:`kanflow.layers.EdgeParametrisation`: ``scale_base``, ``scale_sp``
shared by the spaces, small coefficients), so a selected layer is exactly a
one-basis KANLayer per node group with the same parameter count. Without
``scale_sp = 1 / sqrt(in)`` the coefficients' Adam steps would be ``sqrt(in)``
times larger than a KANLayer's, which trains markedly worse.

Training has three stages (:func:`kanflow.recipes.fit_skan`): (1) all spaces
mixed; (2) selective: :func:`select_spaces` keeps, per node, the space of
largest weight, folds the weight into its coefficients and **drops** the other
spaces' parameters (the layer is rebuilt with a static ``selection``; each
node then costs one basis' matmul columns, and a basis is evaluated only if
some node uses it, on every input for output selection, on its own inputs
for input selection); (3) pruning of hidden nodes whose edges are all
negligible, then fine-tuning.

B-splines use a fixed uniform grid on ``grid_range`` here (no grid update).
The pool's wavelets are the registry's Mexican hat, Morlet, DoG, Meyer and
Shannon (see :mod:`kanflow.basis.local` for the Meyer and Shannon forms).
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from kanflow.basis import registry
from kanflow.checks import as_int
from kanflow.layers.config import EdgeParametrisation, Space

__all__ = [
    "DEFAULT_SPACES",
    "SKANLayer",
    "keep_inputs",
    "keep_nodes",
    "refit_selected",
    "resolve_spaces",
    "select_spaces",
]


# the pool of the S-KAN authors' code (arXiv 2408.08338), as registry settings
DEFAULT_SPACES: tuple[Space, ...] = (
    Space("bspline", 5, 3),
    Space("rbf", 8, 0),
    Space("rswaf", 8, 0),
    Space("chebyshev", 1, 4),
    Space("gram", 1, 3),
    Space("jacobi", 1, 4),
    Space("mexican_hat", 8, 0),
    Space("morlet", 8, 0),
    Space("dog", 8, 0),
    Space("meyer", 8, 0),
    Space("shannon", 8, 0),
    Space("relu_kan", 5, 3),
)
_DEFAULTS = {s.basis: s for s in DEFAULT_SPACES}


def resolve_spaces(spaces: Sequence[Space | str]) -> tuple[Space, ...]:
    """Spaces from :class:`Space` objects or registry names (pool defaults for known names)."""
    spaces = tuple(spaces)
    if not spaces:
        raise ValueError("spaces must name at least one activation space (the pool is empty)")
    out = []
    for s in spaces:
        if isinstance(s, Space):
            out.append(s)
        elif isinstance(s, str):
            registry.get(s)
            out.append(_DEFAULTS.get(s, Space(s)))
        else:
            raise ValueError(f"a space is a Space or a basis name, got {s!r}")
    return tuple(out)


class SKANLayer(EdgeParametrisation):
    """Selectable-space KAN layer. ``[..., in] -> [..., features]``.

    Attributes:
      features: output width (nodes).
      spaces: the pool (:class:`kanflow.layers.Space` objects or basis names).
      selection: ``None`` while mixing; after :func:`select_spaces`, the
        chosen space index of every selecting node (``features`` output nodes,
        or the ``in`` inputs with ``selects="input"``).
      selects: ``"output"`` (each output node selects the space of its
        incoming edges) or ``"input"`` (each input selects the space of its
        outgoing edges: one basis evaluation per input once selected).
      keyword-only: the edge parametrisation, :class:`kanflow.layers.EdgeParametrisation`:
        ``base_activation``, ``noise_scale``, ``scale_base_mu``, ``scale_base_sigma``,
        ``scale_sp``, ``use_bias``, ``param_dtype``.
    """

    features: int
    spaces: Sequence[Space | str] = DEFAULT_SPACES
    selection: tuple[int, ...] | None = None
    selects: str = "output"

    def __post_init__(self):
        object.__setattr__(self, "features", as_int(self.features, "features"))
        if self.selects not in ("output", "input"):
            raise ValueError(f"selects must be 'output' or 'input', got {self.selects!r}")
        pool = resolve_spaces(self.spaces)
        if self.selection is not None:
            sel = tuple(self.selection)
            if not all(isinstance(v, Integral) and not isinstance(v, bool) for v in sel):
                raise ValueError(f"selection must hold integer space indices, got {sel!r}")
            n = len(sel) if self.selects == "input" else self.features
            if len(sel) != n or not sel or not all(0 <= s < len(pool) for s in sel):
                nodes = "inputs" if self.selects == "input" else f"{self.features} output nodes"
                raise ValueError(
                    f"selection must give a space index in [0, {len(pool)}) for each of the "
                    f"{nodes}, got {sel!r}"
                )
        super().__post_init__()

    @property
    def pool(self) -> tuple[Space, ...]:
        return resolve_spaces(self.spaces)

    def groups(self) -> dict[int, np.ndarray]:
        """``{space index: node indices}`` for a selected layer (output nodes, or
        inputs with ``selects="input"``), in increasing space index."""
        sel = np.asarray(self.selection)
        return {int(s): np.flatnonzero(sel == s) for s in np.unique(sel)}

    def _temperature(self) -> Array | float:
        """The selection softmax's temperature: the variable ``"selection"/"temperature"``
        when the variables hold one (:func:`kanflow.recipes.fit_skan` anneals it), else 1."""
        if self.has_variable("selection", "temperature"):
            return self.get_variable("selection", "temperature")
        return 1.0

    @nn.compact
    def __call__(self, x: Array, per_edge: bool = False) -> Array:
        """``[..., in] -> [..., out]``; ``per_edge``: unsummed ``[..., in, out]``."""
        x = jnp.asarray(x)  # lists and NumPy arrays too
        if x.ndim < 1:
            raise ValueError(f"SKANLayer expects inputs [..., in], got shape {x.shape}")
        n_in, out = x.shape[-1], self.features
        if self.selects == "input" and self.selection is not None:
            if len(self.selection) != n_in:
                raise ValueError(
                    f"SKANLayer {self.name!r} selects per input: its selection has "
                    f"{len(self.selection)} entries, got inputs of shape {x.shape}"
                )
        basis_dtype, dtype = self.compute_dtypes(x)
        xb, x = x.astype(basis_dtype), x.astype(dtype)
        pool = self.pool
        scale_sp = self._spline_scale(n_in, out)
        if self.selects == "input" and self.selection is not None:
            return self._selected_inputs(xb, x, scale_sp, per_edge)

        def space_term(space: Space, weight: Array, base=None) -> Array:
            """One space's edges, ``weight [in, n, o]``: a matmul against its basis-major
            features (:func:`kanflow.basis.edge_features`, the fast derivative rule);
            with ``base``, ``weight [in, n + 1, o]`` and the base branch as plane ``n``."""
            feats = space.edge_features(xb, None, base).astype(dtype)
            return self._contract(feats, weight.astype(dtype), per_edge)

        if self.selection is None:
            n_sel = n_in if self.selects == "input" else out
            logits = self.param(
                "select_logits", nn.initializers.zeros_init(), (len(pool), n_sel), self.param_dtype
            )
            w = jax.nn.softmax(logits / self._temperature(), axis=0)  # [S, out] or [S, in]
            y = 0.0
            for s, space in enumerate(pool):
                ws = w[s][None, :] if self.selects == "output" else w[s][:, None]
                c = self._coefficients(f"coef_{s}", n_in, space.num_basis(), out)
                weight = c * (ws * scale_sp)[:, None]
                if s == 0 and not per_edge and self.base_activation is not None:
                    # the base branch as one more plane of the first space's matmul
                    weight = jnp.concatenate([weight, self._base_scale(n_in, out)[:, None]], 1)
                    y = y + space_term(space, weight, self.base_activation)
                else:
                    y = y + space_term(space, weight)
        else:
            fold = not per_edge and self.base_activation is not None
            scale_base = self._base_scale(n_in, out) if fold else None
            parts, order = [], []
            for s, nodes in self.groups().items():
                c = self._coefficients(f"coef_{s}", n_in, pool[s].num_basis(), len(nodes))
                weight = c * scale_sp[:, None, nodes]
                if fold:  # the base branch of these nodes as one more plane
                    weight = jnp.concatenate([weight, scale_base[:, None, nodes]], 1)
                parts.append(space_term(pool[s], weight, self.base_activation if fold else None))
                order.extend(nodes.tolist())
            y = jnp.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]
            if order != sorted(order):
                y = y[..., np.argsort(order)]
        if not per_edge:  # the base branch, if any, is already in the matmul
            return self._add_bias(y, n_in, out, per_edge)
        return self._add_base_and_bias(y, x, out, per_edge)

    def _selected_inputs(self, xb: Array, x: Array, scale_sp: Array, per_edge: bool) -> Array:
        """An input-selected layer: each group of inputs expanded in its own space
        (the base branch as one more plane), one matmul per group. ``[..., in] -> [..., out]``.

        (One permutation of the inputs and one matmul over the concatenated
        groups measured no faster and took 1.7x the memory.)"""
        n_in, out, pool = x.shape[-1], self.features, self.pool
        base = None if per_edge else self.base_activation  # per edge: added unsummed below
        scale_base = None if base is None else self._base_scale(n_in, out)
        y, parts, order = 0.0, [], []
        for s, idx in self.groups().items():
            c = self._coefficients(f"coef_{s}", len(idx), pool[s].num_basis(), out)
            f = pool[s].edge_features(_take(xb, idx), None, base).astype(x.dtype)  # [.., n_s, k]
            w = c * scale_sp[idx][:, None, :]  # [k, n_s, out]
            if base is not None:  # the base branch as one more plane
                w = jnp.concatenate([w, scale_base[idx][:, None]], 1)
            term = self._contract(f, w.astype(x.dtype), per_edge)  # [..., out] / [..., k, out]
            if per_edge:
                parts.append(term)
                order.extend(idx.tolist())
            else:
                y = y + term
        if per_edge:
            y = jnp.concatenate(parts, axis=-2)[..., np.argsort(order), :]
            return self._add_base_and_bias(y, x, out, per_edge)
        return self._add_bias(y, n_in, out, per_edge)


def _take(x: Array, idx: np.ndarray) -> Array:
    """``x[..., idx]`` (a slice when ``idx`` is a contiguous run)."""
    if idx.size and np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size)):
        return x[..., int(idx[0]) : int(idx[0]) + idx.size]
    return x[..., idx]


def select_spaces(
    layer: SKANLayer, params: dict[str, Any], temperature: float = 1.0
) -> tuple[SKANLayer, dict[str, Any]]:
    """Stage 2: each node keeps its largest-weight space; the others are dropped.

    Args:
      layer: a mixing layer (``selection=None``).
      params: its ``params``.
      temperature: the softmax temperature the weights were trained at.

    Returns:
      ``(selected_layer, selected_params)``; the kept coefficients carry the
      node's selection weight, so each node's output is its dominant term
      (with ``selects="input"``: each input's edges keep their dominant term).
    """
    if layer.selection is not None:
        raise ValueError("this layer has already selected its spaces")
    if not temperature > 0:  # 0 gives NaN weights; < 0 would pick the smallest logit
        raise ValueError(f"temperature must be > 0, got {temperature!r}")
    w = np.asarray(jax.nn.softmax(params["select_logits"] / temperature, axis=0))  # [S, nodes]
    sel = tuple(int(s) for s in np.argmax(w, axis=0))
    new_layer = layer.clone(selection=sel)
    new_params = {k: v for k, v in params.items() if k in ("scale_base", "scale_sp", "bias")}
    for s, nodes in new_layer.groups().items():
        if layer.selects == "input":
            new_params[f"coef_{s}"] = params[f"coef_{s}"][nodes] * w[s, nodes][:, None, None]
        else:
            new_params[f"coef_{s}"] = params[f"coef_{s}"][..., nodes] * w[s, nodes]
    return new_layer, new_params


def refit_selected(
    layer: SKANLayer,
    params: dict[str, Any],
    x: Array,
    target: Array,
    ridge: float = 1e-3,
) -> dict[str, Any]:
    """Each node's kept-space coefficients refitted so the layer reproduces ``target``.

    Selection by projection: node ``j`` keeps one space ``s``, and its spline
    term ``sum_i scale_sp_ij sum_c coef_icj B^s_c(x_i)`` is linear in its
    coefficients, so the coefficients closest (least squares on ``x``) to
    what the mixed node computed are a linear solve. The base branch and bias
    are kept; the solve is pulled towards the current (folded) coefficients
    ``u0`` by ``ridge`` relative to the mean diagonal of the normal matrix:
    ``min |A u - r|^2 + ridge * mean(diag(A^T A)) |u - u0|^2``, in float64.

    Args:
      layer: a selected layer (:func:`select_spaces`).
      params: its ``params``.
      x: layer inputs ``[n, in]`` (e.g. the training inputs as the selected
        network sees them).
      target: ``[n, out]``, what the layer should output on ``x`` (the mixed
        layer's output).
      ridge: relative pull towards the current coefficients (> 0).

    Returns:
      ``params`` with refitted ``coef_s``.
    """
    if layer.selection is None:
        raise ValueError("refit_selected needs a selected layer (call select_spaces first)")
    x, target = np.asarray(x), np.asarray(target, np.float64)
    if x.ndim != 2 or target.shape != (x.shape[0], layer.features):
        raise ValueError(
            f"refit_selected expects x [n, in] and target [n, {layer.features}], "
            f"got {x.shape} and {target.shape}"
        )
    if not ridge > 0:
        raise ValueError(f"ridge must be > 0, got {ridge}")
    n_in = x.shape[1]
    zero = {k: (jnp.zeros_like(v) if k.startswith("coef_") else v) for k, v in params.items()}
    residual = target - np.asarray(layer.apply({"params": zero}, x), np.float64)
    scale_sp = np.asarray(params["scale_sp"], np.float64)  # [in, out]
    new = dict(params)

    def solve(a: np.ndarray, u0: np.ndarray, r: np.ndarray) -> np.ndarray:
        """``argmin |a u - r|^2 + lam |u - u0|^2`` for every column of ``r``."""
        gram = a.T @ a
        lam = ridge * max(float(np.trace(gram)) / gram.shape[0], 1e-30)
        return u0 + np.linalg.solve(gram + lam * np.eye(gram.shape[0]), a.T @ (r - a @ u0))

    def unscale(u: np.ndarray, sp: np.ndarray, coef: np.ndarray) -> np.ndarray:
        safe = np.abs(sp) > 1e-12  # an edge with no spline scale keeps its coefficients
        return np.where(safe, u / np.where(safe, sp, 1.0), coef)

    def design(s: int, cols: np.ndarray | slice) -> np.ndarray:
        """Space ``s``'s features of inputs ``cols``, columns (input i, basis c)."""
        feats = layer.pool[s].edge_features(jnp.asarray(x[:, cols]))  # [n, c, k]
        return np.asarray(feats, np.float64).transpose(0, 2, 1).reshape(x.shape[0], -1)

    if layer.selects == "input":  # every output sees every group: one solve for all of them
        groups = layer.groups()
        coefs = {s: np.asarray(params[f"coef_{s}"], np.float64) for s in groups}  # [k, c, out]
        sps = {s: scale_sp[idx][:, None, :] for s, idx in groups.items()}
        a = np.concatenate([design(s, idx) for s, idx in groups.items()], axis=1)
        u0 = np.concatenate([(coefs[s] * sps[s]).reshape(-1, layer.features) for s in groups])
        u, start = solve(a, u0, residual), 0
        for s, c in coefs.items():
            block = u[start : start + c.size // layer.features].reshape(c.shape)
            start += c.size // layer.features
            new[f"coef_{s}"] = jnp.asarray(unscale(block, sps[s], c), params[f"coef_{s}"].dtype)
        return new
    for s, nodes in layer.groups().items():
        a = design(s, slice(None))
        coef = np.asarray(params[f"coef_{s}"], np.float64)  # [in, c, nodes]
        sp = scale_sp[:, None, nodes]  # [in, 1, nodes]
        u = solve(a, (coef * sp).reshape(-1, len(nodes)), residual[:, nodes])
        fitted = unscale(u.reshape(n_in, -1, len(nodes)), sp, coef)
        new[f"coef_{s}"] = jnp.asarray(fitted, params[f"coef_{s}"].dtype)
    return new


def keep_nodes(
    layer: SKANLayer, params: dict[str, Any], keep: Sequence[int]
) -> tuple[SKANLayer, dict[str, Any]]:
    """A selected layer with only the output nodes ``keep`` (in that order).

    The kept nodes' coefficients and base scales are unchanged; spaces no kept
    node uses lose their parameters. ``[..., in] -> [..., len(keep)]``.
    """
    if layer.selection is None:
        raise ValueError("keep_nodes needs a selected layer (call select_spaces first)")
    keep = _indices(keep, layer.features, "keep", "node")
    if layer.selects == "input":  # output columns of every group
        return layer.clone(features=int(keep.size)), {k: v[..., keep] for k, v in params.items()}
    new_layer = layer.clone(
        features=int(keep.size), selection=tuple(int(layer.selection[j]) for j in keep)
    )
    new_params = {
        k: params[k][..., keep] for k in ("scale_base", "scale_sp", "bias") if k in params
    }
    for s, rows in _regroup(layer, new_layer, keep).items():
        new_params[f"coef_{s}"] = params[f"coef_{s}"][..., rows]
    return new_layer, new_params


def keep_inputs(
    layer: SKANLayer, params: dict[str, Any], rows: Sequence[int]
) -> tuple[SKANLayer, dict[str, Any]]:
    """The layer restricted to input features ``rows`` (edges from the rest dropped).

    ``[..., len(rows)] -> [..., out]``; an input-selected layer keeps the
    kept inputs' spaces (spaces no kept input uses lose their parameters).
    """
    n_in = params["scale_sp"].shape[0]
    rows = _indices(rows, n_in, "rows", "input")
    if layer.selects == "output" or layer.selection is None:

        def restrict(name: str, v: Array) -> Array:
            if name == "select_logits":  # [S, out], or [S, in] for a mixing input layer
                return v if layer.selects == "output" else v[:, rows]
            return v if name == "bias" else v[rows]

        return layer, {k: restrict(k, v) for k, v in params.items()}
    new_layer = layer.clone(selection=tuple(int(layer.selection[i]) for i in rows))
    new_params = {k: params[k][rows] for k in ("scale_base", "scale_sp") if k in params}
    if "bias" in params:
        new_params["bias"] = params["bias"]
    for s, old in _regroup(layer, new_layer, rows).items():
        new_params[f"coef_{s}"] = params[f"coef_{s}"][old]
    return new_layer, new_params


def _indices(idx: Sequence[int], n: int, what: str, kind: str) -> np.ndarray:
    given = np.asarray(idx)
    if given.size and not (np.issubdtype(given.dtype, np.integer) and given.dtype != bool):
        # a boolean mask [True, False, True] would read as nodes [1, 0, 1]; 2.2 as node 2
        raise ValueError(f"{what} must list integer {kind} indices, got {given.tolist()}")
    idx = given.astype(int)
    if idx.ndim != 1 or idx.size == 0 or idx.min() < 0 or idx.max() >= n:
        raise ValueError(f"{what} must list {kind} indices in [0, {n}), got {idx.tolist()}")
    return idx


def _regroup(old: SKANLayer, new: SKANLayer, kept: np.ndarray) -> dict[int, np.ndarray]:
    """For each space of ``new`` (whose selecting node ``n`` is ``old``'s node
    ``kept[n]``): the positions, inside ``old``'s group of that space, of its nodes."""
    old_groups, out = old.groups(), {}
    for s, nodes in new.groups().items():
        col = {int(node): i for i, node in enumerate(old_groups[s])}
        out[s] = np.array([col[int(kept[n])] for n in nodes])
    return out
