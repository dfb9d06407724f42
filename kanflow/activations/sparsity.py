"""Activation sparsity ("The Lazy Neuron Phenomenon"): a probe and a top-k activation.

* :func:`activation_density` runs a model over batches and reports, for every
  activation module (any module with ``is_activation = True``: the wrappers
  models put around fixed activations, the learnable ones here), the fraction
  of its outputs that are non-zero. ``1 - density`` is the sparsity.
* :class:`TopK` keeps the ``k`` largest entries of each row (last axis) and
  zeroes the rest: enforced sparsity, usable as an activation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import Array

__all__ = ["TopK", "activation_density"]


class TopK(nn.Module):
    """Keeps the ``k`` largest values of each row, zeroes the others. ``[..., C] -> [..., C]``.

    Ties at the k-th value are all kept. Gradients flow to the kept entries.
    """

    k: int
    is_activation = True
    needs_train = False

    @nn.compact
    def __call__(self, x: Array) -> Array:
        if not isinstance(self.k, int) or not 1 <= self.k <= x.shape[-1]:
            raise ValueError(f"k must be an int in [1, {x.shape[-1]}], got {self.k!r}")
        kth = jax.lax.top_k(jax.lax.stop_gradient(x), self.k)[0][..., -1:]
        return jnp.where(x >= kth, x, jnp.zeros_like(x))


def _is_activation(module: nn.Module, method_name: str) -> bool:
    return method_name == "__call__" and getattr(module, "is_activation", False)


def activation_density(
    model: nn.Module,
    variables: dict[str, Any],
    inputs: Iterable[Array],
    *,
    apply_kwargs: dict[str, Any] | None = None,
    threshold: float = 0.0,
) -> dict[str, float]:
    """Fraction of non-zero outputs of every activation module over ``inputs``.

    Args:
      model: a linen module.
      variables: its variables (``{"params": ..., ...}``).
      inputs: batches accepted by ``model.apply(variables, x)``.
      apply_kwargs: extra keyword arguments for ``apply`` (e.g. ``train=False``).
      threshold: entries with ``|y| <= threshold`` count as zero.

    Returns:
      ``{"path/to/activation": density}`` in model order, densities in ``[0, 1]``.
    """
    kwargs = dict(apply_kwargs or {})

    @jax.jit
    def counts(x):
        _, state = model.apply(
            variables, x, capture_intermediates=_is_activation, mutable=["intermediates"], **kwargs
        )
        flat = jax.tree_util.tree_flatten_with_path(state["intermediates"])[0]
        found: dict[str, tuple[Array, int]] = {}
        for path, y in flat:
            keys = [str(getattr(k, "key", getattr(k, "idx", k))) for k in path]
            if keys[-2] != "__call__":  # sown values (attention weights), not outputs
                continue
            name = "/".join(keys[:-2])  # one entry per call of the module: summed
            nz, size = found.get(name, (0, 0))
            found[name] = (nz + jnp.sum(jnp.abs(y) > threshold), size + y.size)
        return found

    nonzero: dict[str, float] = {}
    total: dict[str, float] = {}
    for x in inputs:
        for name, (nz, size) in jax.device_get(counts(x)).items():
            nonzero[name] = nonzero.get(name, 0.0) + float(nz)
            total[name] = total.get(name, 0.0) + float(size)
    if not total:
        raise ValueError("no activation outputs were seen: inputs empty or no activation modules")
    return {k: nonzero[k] / total[k] for k in total}
