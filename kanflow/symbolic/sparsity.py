"""pykan's sparsity regularisation of KANs (arXiv 2404.19756 §2.5.1).

Each KAN layer's edges get a scale ``s_ij >= 0`` from the batch, and the
penalty on a layer's ``[in, out]`` scale matrix is

    ``lamb_l1 * sum_ij s_ij + lamb_entropy * (H_rows + H_cols)``,

where ``H_rows`` is the mean over output nodes ``j`` of the entropy (bits) of
``p_ij = s_ij / (sum_i s_ij + 1)`` over ``i`` and ``H_cols`` the same over
outputs for each input (pykan's ``+ 1`` and ``log2(p + 1e-4)``), plus optional
coefficient terms ``lamb_coef * sum |coef|`` and ``lamb_coefdiff * sum |coef_{c+1}
- coef_c|`` (each averaged over outputs). The edge scale (``metric``) is
pykan's default, ``std_batch(phi_ij) / (std_batch(x_i) + 0.1)`` (``"std"``),
or the paper's ``mean_batch |phi_ij|`` (``"mean_abs"``).

:func:`with_sparsity` adds ``lamb`` times this to any loss whose model is built
of :class:`~kanflow.layers.KANLayer` modules: it evaluates each KAN layer edge
by edge in the loss's own forward pass (the layer output is the sum of those
edges), so the batch is seen once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp
from jax import Array

from kanflow.layers.kan import KANLayer

__all__ = ["coefficient_penalty", "edge_scale", "sparsity_penalty", "with_sparsity"]

_METRICS = ("std", "mean_abs")


def edge_scale(x: Array, edges: Array, metric: str = "std") -> Array:
    """Each edge's scale on a batch. ``x [..., in]``, ``edges [..., in, out] -> [in, out]``.

    ``"std"``: ``std(phi_ij) / (std(x_i) + 0.1)`` over the leading axes (pykan's
    ``edge_forward_spline_n``); ``"mean_abs"``: ``mean |phi_ij|``.
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}")
    x = x.reshape(-1, x.shape[-1])
    edges = edges.reshape(-1, *edges.shape[-2:])
    if metric == "mean_abs":
        return jnp.mean(jnp.abs(edges), axis=0)
    return _std(edges) / (_std(x)[:, None] + 0.1)


def _std(v: Array) -> Array:
    """Standard deviation over axis 0 whose gradient stays finite (zero) for a constant
    column, e.g. a masked edge (``d sqrt(var)`` is infinite at 0)."""
    var = jnp.var(v, axis=0)
    positive = var > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, var, 1.0)), 0.0)


def _entropy_bits(p: Array, axis: int) -> Array:
    return -jnp.sum(p * jnp.log2(p + 1e-4), axis=axis)


def sparsity_penalty(
    scales: Sequence[Array], lamb_l1: float = 1.0, lamb_entropy: float = 2.0
) -> Array:
    """pykan's L1 + entropy penalty summed over layers; each scale matrix ``[in, out]``."""
    total = jnp.zeros(())
    for s in scales:
        p_in = s / (jnp.sum(s, axis=0, keepdims=True) + 1.0)  # over inputs, per output node
        p_out = s / (jnp.sum(s, axis=1, keepdims=True) + 1.0)  # over outputs, per input node
        entropy = jnp.mean(_entropy_bits(p_in, 0)) + jnp.mean(_entropy_bits(p_out, 1))
        total = total + lamb_l1 * jnp.sum(s) + lamb_entropy * entropy
    return total


def coefficient_penalty(
    coefs: Sequence[Array], lamb_coef: float = 0.0, lamb_coefdiff: float = 0.0
) -> Array:
    """``lamb_coef * sum |c| + lamb_coefdiff * sum |c_{k+1} - c_k|``, each averaged over
    outputs; ``coef [in, n, out]`` per layer (basis axis 1)."""
    total = jnp.zeros(())
    for c in coefs:
        if lamb_coef:
            total = total + lamb_coef * jnp.sum(jnp.mean(jnp.abs(c), axis=-1))
        if lamb_coefdiff:
            total = total + lamb_coefdiff * jnp.sum(jnp.mean(jnp.abs(jnp.diff(c, axis=1)), -1))
    return total


def capture_edges(fn: Callable) -> Callable:
    """``fn`` that also returns what every ``KANLayer`` call saw:
    ``(*args) -> (fn(*args), [(x [..., in], edges [..., in, out], coef [in, n, out])])``.

    Inside, each layer runs edge by edge (``per_edge=True``) and returns the sum of
    its edges, which is its usual output; traceable (use it inside ``jit``/``grad``).
    """

    def wrapped(*args, **kwargs):
        records = []

        def grab(next_fun, f_args, f_kwargs, context):
            is_layer = isinstance(context.module, KANLayer) and context.method_name == "__call__"
            if not is_layer or f_kwargs.get("per_edge") or len(f_args) != 1:
                return next_fun(*f_args, **f_kwargs)
            edges = next_fun(*f_args, **{**f_kwargs, "per_edge": True})
            coef = context.module.get_variable("params", "coef")
            records.append((jnp.asarray(f_args[0]), edges, coef))
            return jnp.sum(edges, axis=-2)

        with nn.intercept_methods(grab):
            out = fn(*args, **kwargs)
        return out, records

    return wrapped


def with_sparsity(
    loss_fn: Callable,
    lamb: float,
    *,
    lamb_l1: float = 1.0,
    lamb_entropy: float = 2.0,
    lamb_coef: float = 0.0,
    lamb_coefdiff: float = 0.0,
    metric: str = "std",
) -> Callable:
    """``loss_fn`` plus ``lamb`` times pykan's sparsity penalty (see the module docstring).

    Args:
      loss_fn: ``(params, model_state, batch, rng) -> (loss, aux)`` of a model built
        of ``KANLayer`` modules (e.g. :func:`kanflow.train.supervised_loss` of a
        ``KAN``).
      lamb: the penalty's overall weight (pykan's ``lamb``; its examples use 1e-3 to 1e-2).
      lamb_l1, lamb_entropy: pykan's defaults 1 and 2.
      lamb_coef, lamb_coefdiff: coefficient size and smoothness (default off).
      metric: the edge scale, ``"std"`` (pykan's default) or ``"mean_abs"``.

    Returns:
      A loss function of the same signature; ``aux`` gains ``"reg"`` (the penalty
      before ``lamb``).
    """
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}, got {metric!r}")
    for name, value in (("lamb", lamb), ("lamb_l1", lamb_l1), ("lamb_entropy", lamb_entropy)):
        if not value >= 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    for name, value in (("lamb_coef", lamb_coef), ("lamb_coefdiff", lamb_coefdiff)):
        if not value >= 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    capturing = capture_edges(loss_fn)

    def regularised(params, model_state, batch, rng):
        (loss, aux), records = capturing(params, model_state, batch, rng)
        if not records:
            raise ValueError("with_sparsity: the loss ran no KANLayer (is the model a KAN?)")
        scales = [edge_scale(x, edges, metric) for x, edges, _ in records]
        reg = sparsity_penalty(scales, lamb_l1, lamb_entropy)
        reg = reg + coefficient_penalty([c for *_, c in records], lamb_coef, lamb_coefdiff)
        return loss + lamb * reg, {**aux, "reg": reg}

    return regularised
