"""Rayleigh-Ritz on a network's own output layer (variable projection).

A wavefunction network is linear in its output layer's weights ``theta``:
``psi(x) = Phi(x) @ theta`` with ``Phi = d psi / d theta`` (the Jacobian is exact
because the map is linear). For fixed hidden layers the best ``theta`` for the
lowest ``k`` states is therefore not trained but solved: the generalised
eigenproblem ``H c = E S c`` with

    S_ij = int phi_i phi_j dx,   H_ij = int (phi_i' phi_j' + V phi_i phi_j) dx

on a quadrature. Its ``k`` lowest eigenvalues (Ritz values) bound ``E_0 .. E_{k-1}``
from above, each one (Courant-Fischer), whatever the hidden layers are, as long
as the quadrature is exact. Training then moves only the hidden layers, by the
sum of the ``k`` Ritz values; its gradient at the solved ``c`` needs no
derivative of the eigen-solver (envelope theorem), so the loss is written
with ``c`` held constant.

The eigenproblem is solved in the ``S``-orthonormal basis from an SVD of
``sqrt(w) Phi`` (no squared condition number); directions whose singular value
is below ``rtol`` times the largest are dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.flatten_util
import jax.numpy as jnp
from jax import Array

__all__ = [
    "LINEAR_LEAVES",
    "head_features",
    "head_leaves",
    "head_path",
    "rayleigh_quotients",
    "ritz_loss",
    "ritz_pairs",
    "set_head",
]

#: Parameter names through which a final layer acts linearly: Dense ``kernel`` and
#: ``bias``; a KAN layer's spline ``coef`` and ``scale_base`` (its ``scale_sp``
#: multiplies ``coef`` and stays with the hidden layers).
LINEAR_LEAVES = ("kernel", "bias", "coef", "scale_base")


def _layer_index(name: str) -> int:
    tail = name.rsplit("_", 1)[-1]
    return int(tail) if tail.isdigit() else -1


def head_path(params: dict) -> tuple[str, ...]:
    """Path (keys) to the output layer's parameter dict: the last ``*_k`` submodule, recursively.

    Raises:
      ValueError: the output layer has none of :data:`LINEAR_LEAVES`.
    """
    path: tuple[str, ...] = ()
    node = params
    while not any(k in LINEAR_LEAVES for k in node):
        subs = [k for k, val in node.items() if isinstance(val, dict)]
        if not subs:
            raise ValueError(
                f"cannot find the network's output layer: no parameters named {LINEAR_LEAVES}"
            )
        last = max(subs, key=_layer_index)
        path, node = (*path, last), node[last]
    return path


def _get(tree: dict, path: tuple[str, ...]) -> dict:
    for k in path:
        tree = tree[k]
    return tree


def set_head(params: dict, path: tuple[str, ...], head: dict) -> dict:
    """A copy of ``params`` with the dict at ``path`` updated by ``head``."""
    if not path:
        return {**params, **head}
    return {**params, path[0]: set_head(params[path[0]], path[1:], head)}


def head_leaves(params: dict, path: tuple[str, ...]) -> dict:
    """The linear leaves of the output layer at ``path``."""
    return {k: v for k, v in _get(params, path).items() if k in LINEAR_LEAVES}


def head_features(
    psi_of: Callable[[dict, Array], Array], params: dict, path: tuple[str, ...], x: Array
) -> tuple[Array, Array, Callable[[Array], dict]]:
    """``(Phi [n, m], Phi' [n, m], unravel)`` of ``psi_of(params, x): [n] -> [n]``.

    ``Phi = d psi / d theta`` over the output layer's linear leaves (flattened to
    ``m`` values, ``unravel`` maps a ``[m]`` vector back to them) and ``Phi'`` its
    x-derivative; ``psi = Phi @ theta`` exactly.
    """
    flat, unravel = jax.flatten_util.ravel_pytree(head_leaves(params, path))

    def psi_theta(theta: Array, x: Array) -> Array:
        return psi_of(set_head(params, path, unravel(theta)), x)

    def phi(x: Array) -> Array:
        return jax.jacfwd(psi_theta)(flat, x)

    value, slope = jax.jvp(phi, (x,), (jnp.ones_like(x),))
    return value, slope, unravel


def ritz_pairs(
    phi: Array, dphi: Array, weights: Array, v: Array, k: int, rtol: float = 1e-10
) -> tuple[Array, Array]:
    """Lowest ``k`` Ritz pairs ``(E [k], C [m, k])`` of ``-d^2/dx^2 + V`` in span(Phi).

    Args:
      phi, dphi: basis functions and their x-derivatives at the nodes ``[n, m]``
        (each vanishing at the walls).
      weights: quadrature weights ``[n]``; v: ``V`` at the nodes ``[n]``.
      k: how many pairs; rtol: relative singular-value cut-off for ``Phi``.

    Returns:
      Ascending Ritz values and coefficients, ``S``-orthonormal (``C^T S C = I``).
      Dropped directions carry a value above every kept one, so with fewer than
      ``k`` kept directions the extra values are the shift, not eigenvalues.
    """
    root = jnp.sqrt(weights)[:, None]
    a = root * phi
    _, s, vt = jnp.linalg.svd(a, full_matrices=False)
    keep = s > rtol * s[0]
    t = vt.T * jnp.where(keep, 1.0 / jnp.where(keep, s, 1.0), 0.0)  # [m, r], S-orthonormal
    d, b = (root * dphi) @ t, a @ t
    h = d.T @ d + b.T @ (v[:, None] * b)
    h = 0.5 * (h + h.T)
    shift = 2.0 * jnp.max(jnp.abs(jnp.diag(h))) + 1.0
    h = h + jnp.diag(jnp.where(keep, 0.0, shift))
    energies, y = jnp.linalg.eigh(h)
    return energies[:k], t @ y[:, :k]


def rayleigh_quotients(psi: Array, dpsi: Array, weights: Array, v: Array) -> Array:
    """``int (psi'^2 + V psi^2) / int psi^2`` per column of ``psi, dpsi [n, k]`` -> ``[k]``."""
    w = weights[:, None]
    return jnp.sum(w * (dpsi**2 + v[:, None] * psi**2), 0) / jnp.sum(w * psi**2, 0)


def ritz_loss(
    psi_of: Callable[[dict, Array], Array],
    path: tuple[str, ...],
    nodes: Array,
    weights: Array,
    v: Array,
    k: int,
) -> Callable[[dict], Array]:
    """``params -> sum of the k lowest Ritz values`` with the output layer solved, not trained.

    The gradient is the envelope-theorem one: the solved coefficients are held
    constant, which gives the exact derivative of the sum of Ritz values.
    """

    def loss(params: dict) -> Array:
        phi, dphi, _ = head_features(psi_of, params, path, nodes)
        _, c = ritz_pairs(phi, dphi, weights, v, k)
        c = jax.lax.stop_gradient(c)
        return jnp.sum(rayleigh_quotients(phi @ c, dphi @ c, weights, v))

    return loss


Params = Any
