"""Localised bases on a bank of centres: Gaussian RBF, RSWAF, wavelets, ReLU-KAN.

Each takes points ``[...]`` and a centre bank ``[C]`` (or broadcastable
``[..., C]``) and returns ``[..., C]``: one bump per centre.

* Gaussian RBF (fast-kan): ``exp(-((x - c) / h)^2)``.
* RSWAF, reflectional switch (faster-kan): ``1 - tanh((x - c) / h)^2``.
* Wavelets (Wav-KAN), as translated copies ``psi((x - c) / h)`` of a mother
  wavelet: Mexican hat ``2 / (sqrt(3) pi^(1/4)) (1 - t^2) exp(-t^2 / 2)``,
  Morlet ``cos(omega0 t) exp(-t^2 / 2)`` (``omega0 = 5``), and the derivative
  of Gaussian ``-d/dt exp(-t^2 / 2) = t exp(-t^2 / 2)``.
* ReLU-KAN (Qiu et al. 2024): ``(relu(e - x) relu(x - s))^2 * 16 / (e - s)^4``,
  a bump on ``[s, e]`` with peak 1 at the midpoint.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

__all__ = [
    "gaussian_rbf",
    "rswaf",
    "mexican_hat",
    "morlet",
    "dog",
    "relu_kan",
    "uniform_centers",
]


def _scaled(x: ArrayLike, centers: ArrayLike, width: ArrayLike) -> Array:
    x = jnp.asarray(x)
    x = x.astype(jnp.result_type(x.dtype, jnp.float32))
    return (x[..., None] - jnp.asarray(centers, x.dtype)) / jnp.asarray(width, x.dtype)


def uniform_centers(num: int, grid_range: tuple[float, float] = (-1.0, 1.0)) -> tuple[Array, float]:
    """``num`` equispaced centres on ``grid_range`` and their spacing (the width)."""
    if not isinstance(num, int) or num < 1:
        raise ValueError(f"number of centres must be an int >= 1, got {num!r}")
    lo, hi = grid_range
    width = (hi - lo) / max(num - 1, 1)
    return jnp.linspace(lo, hi, num), width


def gaussian_rbf(x: ArrayLike, centers: ArrayLike, width: ArrayLike) -> Array:
    """Gaussian radial basis ``exp(-((x - c) / h)^2)``. ``[...] -> [..., C]``."""
    t = _scaled(x, centers, width)
    return jnp.exp(-(t**2))


def rswaf(x: ArrayLike, centers: ArrayLike, width: ArrayLike) -> Array:
    """Reflectional switch activation ``1 - tanh((x - c) / h)^2``. ``[...] -> [..., C]``."""
    t = _scaled(x, centers, width)
    return 1 - jnp.tanh(t) ** 2


_MEXICAN_HAT_NORM = 2.0 / (math.sqrt(3.0) * math.pi**0.25)


def mexican_hat(x: ArrayLike, centers: ArrayLike, width: ArrayLike) -> Array:
    """Mexican-hat (Ricker) wavelet at ``(x - c) / h``. ``[...] -> [..., C]``."""
    t = _scaled(x, centers, width)
    return _MEXICAN_HAT_NORM * (1 - t**2) * jnp.exp(-(t**2) / 2)


def morlet(x: ArrayLike, centers: ArrayLike, width: ArrayLike, omega0: float = 5.0) -> Array:
    """Real Morlet wavelet ``cos(omega0 t) exp(-t^2 / 2)``. ``[...] -> [..., C]``."""
    t = _scaled(x, centers, width)
    return jnp.cos(omega0 * t) * jnp.exp(-(t**2) / 2)


def dog(x: ArrayLike, centers: ArrayLike, width: ArrayLike) -> Array:
    """Derivative-of-Gaussian wavelet ``t exp(-t^2 / 2)``. ``[...] -> [..., C]``."""
    t = _scaled(x, centers, width)
    return t * jnp.exp(-(t**2) / 2)


def relu_kan(x: ArrayLike, starts: ArrayLike, ends: ArrayLike) -> Array:
    """ReLU-KAN bumps ``(relu(e - x) relu(x - s))^2 * 16 / (e - s)^4``. ``[...] -> [..., C]``."""
    x = jnp.asarray(x)
    x = x.astype(jnp.result_type(x.dtype, jnp.float32))
    s = jnp.asarray(starts, x.dtype)
    e = jnp.asarray(ends, x.dtype)
    xe = x[..., None]
    bump = jax.nn.relu(e - xe) * jax.nn.relu(xe - s)
    return bump**2 * (16.0 / (e - s) ** 4)
