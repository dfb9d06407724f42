"""S-KAN (Yang et al. 2024, arXiv 2408.08338): every node selects its activation space.

A *space* is a basis with its settings (:class:`Space`, e.g. B-spline G5 k3,
Chebyshev degree 4). For output node ``j`` of a layer,

    ``y_j = sum_i [scale_base_ij silu(x_i)
                   + scale_sp_ij sum_s w_sj sum_c coef^s_icj B^s_c(x_i)]``,

i.e. node ``j``'s incoming edges are functions in the spaces ``s``, mixed by
learnable selection weights ``w_:j = softmax(select_logits[:, j] / T)`` (the
choice that each node - not each edge - selects a space is the paper's; that
it is the *output* node of a layer that selects for its incoming edges is
ours). Each edge carries :class:`kanflow.layers.KANLayer`'s parametrisation
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
some node uses it); (3) pruning of hidden nodes whose edges are all
negligible, then fine-tuning.

B-splines use a fixed uniform grid on ``grid_range`` here (no grid update).
The pool's wavelets are the registry's Mexican hat, Morlet, DoG, Meyer and
Shannon (see :mod:`kanflow.basis.local` for the Meyer and Shannon forms).
"""

from __future__ import annotations

from collections.abc import Sequence
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
        chosen space index of every node.
      keyword-only: the edge parametrisation, :class:`kanflow.layers.EdgeParametrisation`:
        ``base_activation``, ``noise_scale``, ``scale_base_mu``, ``scale_base_sigma``,
        ``scale_sp``, ``use_bias``, ``param_dtype``.
    """

    features: int
    spaces: Sequence[Space | str] = DEFAULT_SPACES
    selection: tuple[int, ...] | None = None

    def __post_init__(self):
        object.__setattr__(self, "features", as_int(self.features, "features"))
        pool = resolve_spaces(self.spaces)
        if self.selection is not None:
            sel = tuple(self.selection)
            if len(sel) != self.features or not all(0 <= s < len(pool) for s in sel):
                raise ValueError(
                    f"selection must give a space index in [0, {len(pool)}) for each of the "
                    f"{self.features} nodes, got {sel!r}"
                )
        super().__post_init__()

    @property
    def pool(self) -> tuple[Space, ...]:
        return resolve_spaces(self.spaces)

    def groups(self) -> dict[int, np.ndarray]:
        """``{space index: node indices}`` for a selected layer."""
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
        basis_dtype, dtype = self.compute_dtypes(x)
        xb, x = x.astype(basis_dtype), x.astype(dtype)
        pool = self.pool
        scale_sp = self._spline_scale(n_in, out)

        def space_term(space: Space, weight: Array) -> Array:
            """One space's edges, ``weight [in, n, o]``: a matmul against its basis-major
            features (:func:`kanflow.basis.edge_features`, the fast derivative rule)."""
            feats = space.edge_features(xb).astype(dtype)
            return self._contract(feats, weight.astype(dtype), per_edge)

        if self.selection is None:
            logits = self.param(
                "select_logits", nn.initializers.zeros_init(), (len(pool), out), self.param_dtype
            )
            w = jax.nn.softmax(logits / self._temperature(), axis=0)  # [S, out]
            y = 0.0
            for s, space in enumerate(pool):
                c = self._coefficients(f"coef_{s}", n_in, space.num_basis(), out)
                y = y + space_term(space, c * (w[s] * scale_sp)[:, None])
        else:
            parts, order = [], []
            for s, nodes in self.groups().items():
                c = self._coefficients(f"coef_{s}", n_in, pool[s].num_basis(), len(nodes))
                parts.append(space_term(pool[s], c * scale_sp[:, None, nodes]))
                order.extend(nodes.tolist())
            y = jnp.concatenate(parts, axis=-1)[..., np.argsort(order)]
        return self._add_base_and_bias(y, x, out, per_edge)


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
      node's selection weight, so each node's output is its dominant term.
    """
    if layer.selection is not None:
        raise ValueError("this layer has already selected its spaces")
    w = np.asarray(jax.nn.softmax(params["select_logits"] / temperature, axis=0))  # [S, out]
    sel = tuple(int(s) for s in np.argmax(w, axis=0))
    new_layer = layer.clone(selection=sel)
    new_params = {k: v for k, v in params.items() if k in ("scale_base", "scale_sp", "bias")}
    for s, nodes in new_layer.groups().items():
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
    for s, nodes in layer.groups().items():
        feats = np.asarray(layer.pool[s].edge_features(jnp.asarray(x)), np.float64)  # [n, c, in]
        a = feats.transpose(0, 2, 1).reshape(x.shape[0], -1)  # columns (input i, basis c)
        coef = np.asarray(params[f"coef_{s}"], np.float64)  # [in, c, nodes]
        sp = scale_sp[:, None, nodes]  # [in, 1, nodes]
        u0 = (coef * sp).reshape(-1, len(nodes))
        gram = a.T @ a
        lam = ridge * max(float(np.trace(gram)) / gram.shape[0], 1e-30)
        rhs = a.T @ (residual[:, nodes] - a @ u0)
        u = u0 + np.linalg.solve(gram + lam * np.eye(gram.shape[0]), rhs)
        u = u.reshape(n_in, -1, len(nodes))
        safe = np.abs(sp) > 1e-12  # an edge with no spline scale keeps its coefficients
        fitted = np.where(safe, u / np.where(safe, sp, 1.0), coef)
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
    keep = np.asarray(keep, dtype=int)
    if keep.ndim != 1 or keep.size == 0 or keep.min() < 0 or keep.max() >= layer.features:
        raise ValueError(
            f"keep must list node indices in [0, {layer.features}), got {keep.tolist()}"
        )
    new_layer = layer.clone(
        features=int(keep.size), selection=tuple(int(layer.selection[j]) for j in keep)
    )
    new_params = {
        k: params[k][..., keep] for k in ("scale_base", "scale_sp", "bias") if k in params
    }
    old_groups = layer.groups()
    for s, nodes in new_layer.groups().items():
        # column of old node keep[n] inside the old group of space s
        col = {int(node): i for i, node in enumerate(old_groups[s])}
        params_s = params[f"coef_{s}"]
        new_params[f"coef_{s}"] = params_s[..., [col[int(keep[n])] for n in nodes]]
    return new_layer, new_params


def keep_inputs(params: dict[str, Any], rows: Sequence[int]) -> dict[str, Any]:
    """The layer's params restricted to input features ``rows`` (edges from the rest dropped)."""
    rows = np.asarray(rows, dtype=int)
    return {k: v if k == "bias" else v[rows] for k, v in params.items() if k != "select_logits"}
