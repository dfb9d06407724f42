"""Grid update and extension for adaptive-grid KAN layers (B-spline).

Both change the arrays a layer holds (the knots, and with extension the
number of coefficients), so they run on the host *between* jit-compiled
training phases: train, call :func:`update` (or :func:`extend`), build a new
optimiser state, train again.

* :func:`knots_from_samples` places ``G + 1`` grid points on the sample
  quantiles of each input, mixed with a uniform grid by ``grid_eps`` (pykan:
  ``grid = grid_eps * uniform + (1 - grid_eps) * adaptive``), then extends by
  ``order`` uniform steps on each side.
* :func:`refit_coefficients` solves, per input, the least-squares problem that
  makes the new spline match the old one on the samples.
"""

from __future__ import annotations

import functools
from typing import Any

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array

from kanflow.basis.bspline import bspline, uniform_knots
from kanflow.checks import as_int
from kanflow.layers.capture import layer_inputs
from kanflow.layers.kan import KANLayer

__all__ = ["knots_from_samples", "refit_coefficients", "update", "extend", "check_knots"]


def check_knots(knots: Array, name: str = "knots") -> None:
    """Raises ``ValueError`` unless ``knots [..., K]`` is finite and non-decreasing."""
    k = np.asarray(knots)
    if not np.all(np.isfinite(k)):
        raise ValueError(f"{name} must be finite")
    if np.any(np.diff(k, axis=-1) < 0):
        raise ValueError(f"{name} must be non-decreasing along the last axis")


def knots_from_samples(
    x: Array,
    grid_size: int,
    order: int,
    grid_eps: float = 0.02,
    grid_range: tuple[float, float] | None = None,
    margin: float = 0.0,
) -> Array:
    """Knots fitted to samples, one vector per input.

    Args:
      x: samples ``[n, in]``.
      grid_size: G intervals.
      order: spline degree k.
      grid_eps: 1 gives a uniform grid on ``[min, max]``, 0 a purely
        quantile-based one.
      grid_range: if given, ignore the samples and use a uniform grid on it
        (``grid_eps`` and ``margin`` then have no effect).
      margin: the uniform grid spans ``[min - margin, max + margin]`` (pykan:
        0; jaxKAN 0.1: 0.01), and the extension steps grow to match.

    Returns:
      ``[in, G + 2k + 1]`` knots, floating point (float32 for integer samples).
    """
    grid_size, order = as_int(grid_size, "grid_size"), as_int(order, "order", minimum=0)
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.float32)  # integer knots would floor the grid
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"samples x must be [n >= 1, in], got shape {x.shape}")
    if not isinstance(x, jax.core.Tracer) and not bool(jnp.all(jnp.isfinite(x))):
        raise ValueError("samples x must be finite")
    if not 0.0 <= grid_eps <= 1.0:
        raise ValueError(f"grid_eps must be in [0, 1], got {grid_eps}")
    if not margin >= 0.0:
        raise ValueError(f"margin must be >= 0, got {margin}")
    if grid_range is not None:
        knots = uniform_knots(grid_size, order, grid_range).astype(x.dtype)
        return jnp.tile(knots, (x.shape[1], 1))
    xs = jnp.sort(x, axis=0)  # [n, in]
    idx = np.linspace(0, x.shape[0] - 1, grid_size + 1).round().astype(int)
    adaptive = xs[idx].T  # [in, G + 1]
    lo, hi = xs[0], xs[-1]
    span = jnp.where(hi > lo, hi - lo, 1.0)  # a constant input still gets a valid grid
    unit = jnp.linspace(0.0, 1.0, grid_size + 1, dtype=x.dtype)
    uniform = (lo - margin)[:, None] + (span + 2 * margin)[:, None] * unit
    grid = grid_eps * uniform + (1 - grid_eps) * adaptive
    h = ((span + 2 * grid_eps * margin) / grid_size)[:, None]  # the mixed grid's mean step
    steps = jnp.arange(1, order + 1, dtype=x.dtype)
    left = grid[:, :1] - h * steps[::-1]
    right = grid[:, -1:] + h * steps
    return jnp.concatenate([left, grid, right], axis=1)


def refit_coefficients(
    x: Array, knots: Array, coef: Array, new_knots: Array, order: int, ridge: float = 0.0
) -> Array:
    """Coefficients on ``new_knots`` whose splines best match the old ones on ``x``.

    Args:
      x: samples ``[n, in]``.
      knots: old knots ``[in, K]``.
      coef: old coefficients ``[in, K - order - 1, out]``.
      new_knots: new knots ``[in, K']``.
      order: spline degree (unchanged).
      ridge: optional Tikhonov weight (>= 0) for ill-posed fits (few samples).

    Returns:
      ``[in, K' - order - 1, out]``.
    """
    if not isinstance(ridge, jax.core.Tracer) and not ridge >= 0:
        raise ValueError(f"ridge must be >= 0, got {ridge!r}")
    old = jnp.einsum("nic,ico->nio", bspline(x, knots, order), coef)  # [n, in, out]
    design = bspline(x, new_knots, order)  # [n, in, c']

    def solve(a, y):  # a [n, c'], y [n, out]
        if ridge > 0:
            gram = a.T @ a + ridge * jnp.eye(a.shape[1], dtype=a.dtype)
            return jnp.linalg.solve(gram, a.T @ y)
        return jnp.linalg.lstsq(a, y)[0]

    return jax.vmap(solve, in_axes=(1, 1))(design, old)


@functools.partial(jax.jit, static_argnums=(3, 4, 5, 6, 7, 8))
def _refit_layer(x, knots, coef, order, grid_size, grid_eps, grid_range, ridge, margin):
    new_knots = knots_from_samples(x, grid_size, order, grid_eps, grid_range, margin)
    return new_knots, refit_coefficients(x, knots, coef, new_knots, order, ridge)


def _grid_layers(model: nn.Module, variables, x: Array) -> dict[tuple[str, ...], Array]:
    """Paths of the adaptive-grid layers in ``model`` and their inputs on ``x`` (``[n, in]``)."""
    grids = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables.get("grid", {})))
    inputs = layer_inputs(model, variables, x, KANLayer)
    return {
        path: value.reshape(-1, value.shape[-1])
        for path, value in inputs.items()
        if path + ("knots",) in grids
    }


def update(
    model: nn.Module,
    variables: dict[str, Any],
    x: Array,
    *,
    grid_size: int | None = None,
    grid_eps: float = 0.02,
    grid_range: tuple[float, float] | None = None,
    ridge: float = 0.0,
    margin: float = 0.0,
) -> tuple[nn.Module, dict[str, Any]]:
    """Moves every B-spline grid of ``model`` to the samples ``x`` and refits.

    Layer by layer, each layer's input on ``x`` gives its new knots
    (:func:`knots_from_samples`) and its spline coefficients are refitted by
    least squares so that its function is preserved on those inputs.

    Args:
      model: a module with KAN layers (e.g. :class:`kanflow.models.KAN`).
      variables: its variables (``params`` and ``grid``).
      x: a batch of model inputs ``[n, in]``.
      grid_size: new G (extension); it needs a ``grid_size`` attribute on
        ``model``. ``None`` keeps the current G.
      grid_eps, grid_range, margin: see :func:`knots_from_samples`.
      ridge: see :func:`refit_coefficients`.

    Returns:
      ``(model, variables)``: the model (cloned with the new ``grid_size``)
      and new variables; other collections are carried over unchanged.
    """
    if "grid" not in variables:
        raise ValueError("variables has no 'grid' collection: the model has no B-spline KAN layer")
    if grid_size is not None and not hasattr(model, "grid_size"):
        raise ValueError(f"{type(model).__name__} has no grid_size attribute to change")
    x = jnp.asarray(x)
    if not bool(jnp.all(jnp.isfinite(x))):
        raise ValueError("samples x must be finite")
    layers = _grid_layers(model, variables, x)
    params = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables["params"]))
    grids = flax.traverse_util.flatten_dict(flax.core.unfreeze(variables["grid"]))
    for path in sorted(layers):  # inputs were computed with the old model: order is immaterial
        knots, coef = grids[path + ("knots",)], params[path + ("coef",)]
        order = knots.shape[-1] - coef.shape[1] - 1
        g = grid_size if grid_size is not None else coef.shape[1] - order
        xin = layers[path].astype(knots.dtype)
        grid_range = None if grid_range is None else tuple(map(float, grid_range))
        new_knots, new_coef = _refit_layer(
            xin,
            knots,
            coef,
            int(order),
            int(g),
            float(grid_eps),
            grid_range,
            float(ridge),
            float(margin),
        )
        params[path + ("coef",)] = new_coef.astype(coef.dtype)
        grids[path + ("knots",)] = new_knots.astype(knots.dtype)
    new_vars = dict(variables)
    new_vars["params"] = flax.traverse_util.unflatten_dict(params)
    new_vars["grid"] = flax.traverse_util.unflatten_dict(grids)
    new_model = model if grid_size is None else model.clone(grid_size=grid_size)
    return new_model, new_vars


def extend(model: nn.Module, variables: dict[str, Any], x: Array, grid_size: int, **kwargs):
    """Grid extension: :func:`update` to a finer ``grid_size`` (e.g. G -> 2G)."""
    return update(model, variables, x, grid_size=grid_size, **kwargs)
