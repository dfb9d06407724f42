"""Localised bases on a bank of centres: Gaussian RBF, RSWAF, wavelets, ReLU-KAN.

Each takes points ``[...]`` and a centre bank ``[C]`` (or broadcastable
``[..., C]``) and returns ``[..., C]``: one bump per centre.

* Gaussian RBF (fast-kan): ``exp(-((x - c) / h)^2)``.
* RSWAF, reflectional switch (faster-kan): ``1 - tanh((x - c) / h)^2``.
* Wavelets (Wav-KAN), as translated copies ``psi((x - c) / h)`` of a mother
  wavelet: Mexican hat ``2 / (sqrt(3) pi^(1/4)) (1 - t^2) exp(-t^2 / 2)``,
  Morlet ``cos(omega0 t) exp(-t^2 / 2)`` (``omega0 = 5``), and the derivative
  of Gaussian ``-d/dt exp(-t^2 / 2) = t exp(-t^2 / 2)``; Meyer, in Wav-KAN's
  time-domain construction ``sin(pi |t|) a(|t|)`` with the Meyer transition
  ``a(v) = 1`` for ``v <= 1/2``, ``cos(pi/2 nu(2v - 1))`` for ``1/2 < v < 1``,
  ``0`` for ``v >= 1`` and ``nu(s) = s^4 (35 - 84 s + 70 s^2 - 20 s^3)``
  (compact support ``[-1, 1]``; the true Meyer wavelet is defined in the
  frequency domain and has no closed form in time); and the real Shannon
  wavelet ``2 sinc(2t) - sinc(t)`` (``sinc(u) = sin(pi u) / (pi u)``: the
  ideal band-pass on ``pi <= |omega| <= 2 pi``; Wav-KAN instead multiplies
  ``sinc(t / pi)`` by a Hamming window laid over the *input-feature* axis,
  which is not a function of ``t``, so we use the textbook wavelet).
* ReLU-KAN (Qiu et al. 2024): ``(relu(e - x) relu(x - s))^2 * 16 / (e - s)^4``,
  a bump on ``[s, e]`` with peak 1 at the midpoint.
* AF-KAN (Ta et al. 2025), ReLU-KAN with any activation ``f`` and any
  combination of ``x1 = f(x - s)`` and ``x2 = f(e - x)`` (:data:`COMBINATIONS`):
  ``quad1 (x1 x2)^2``, ``quad2 x1 x2 + x1^2 + x2^2``, ``sum x1 + x2``,
  ``prod x1 x2``, ``sum_prod x1 + x2 + x1 x2``, ``cubic1 (x1 + x2)(x1^2 + x2^2)``,
  ``cubic2 (x1 x2)^3``; unnormalised (the layer normalises).
"""

from __future__ import annotations

import math
from numbers import Integral

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from jax.typing import ArrayLike

from kanflow.basis._once import computed_once
from kanflow.checks import check_grid_range, check_positive

__all__ = [
    "gaussian_rbf",
    "rswaf",
    "mexican_hat",
    "morlet",
    "morlet_uniform_value_and_derivative",
    "dog",
    "meyer",
    "shannon",
    "af_kan",
    "COMBINATIONS",
    "relu_kan",
    "uniform_centers",
]


def _scaled(x: ArrayLike, centers: ArrayLike, width: ArrayLike) -> Array:
    x = jnp.asarray(x)
    x = x.astype(jnp.result_type(x.dtype, jnp.float32))
    check_positive(width, "width")
    return (x[..., None] - jnp.asarray(centers, x.dtype)) / jnp.asarray(width, x.dtype)


def uniform_centers(num: int, grid_range: tuple[float, float] = (-1.0, 1.0)) -> tuple[Array, float]:
    """``num`` equispaced centres on ``grid_range`` and their spacing (the width)."""
    if not isinstance(num, Integral) or num < 1:
        raise ValueError(f"number of centres must be an int >= 1, got {num!r}")
    lo, hi = check_grid_range(grid_range)
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


def morlet_uniform_value_and_derivative(
    x: ArrayLike, num: int, grid_range: tuple[float, float] = (-1.0, 1.0), omega0: float = 5.0
) -> tuple[Array, Array]:
    """:func:`morlet` on :func:`uniform_centers` and its x-derivative, basis-major.

    ``x [..., in] -> ([..., num, in], [..., num, in])``. The width is the
    spacing, so centre ``j`` sits at ``t_j = t_0 - j`` and its phase is
    ``omega0 t_0`` minus a constant: ``cos(omega0 t_j) = cos(omega0 t_0)
    cos(omega0 j) + sin(omega0 t_0) sin(omega0 j)``. One ``cos`` and one ``sin`` per element
    instead of one per centre (the Gaussian envelope keeps its ``exp`` per
    centre). Differentiable again in ``x``.
    """
    if not isinstance(num, Integral) or num < 1:
        raise ValueError(f"number of centres must be an int >= 1, got {num!r}")
    lo, hi = check_grid_range(grid_range)
    width = (hi - lo) / max(num - 1, 1)  # = the spacing: t_j = t_0 - j
    x = jnp.asarray(x)
    x = x.astype(jnp.result_type(x.dtype, jnp.float32))
    j = np.arange(num)[:, None]
    cos_j = jnp.asarray(np.cos(omega0 * j), x.dtype)  # [num, 1], constants
    sin_j = jnp.asarray(np.sin(omega0 * j), x.dtype)
    t0 = (x - lo) / width
    c0, s0 = (
        v[..., None, :] for v in computed_once([jnp.cos(omega0 * t0), jnp.sin(omega0 * t0)], x)
    )
    cos_t = c0 * cos_j + s0 * sin_j
    sin_t = s0 * cos_j - c0 * sin_j
    t = t0[..., None, :] - jnp.asarray(j, x.dtype)
    envelope = jnp.exp(-(t**2) / 2)
    value = cos_t * envelope
    deriv = -(omega0 * sin_t + t * cos_t) * envelope / width
    return value, deriv


def dog(x: ArrayLike, centers: ArrayLike, width: ArrayLike) -> Array:
    """Derivative-of-Gaussian wavelet ``t exp(-t^2 / 2)``. ``[...] -> [..., C]``."""
    t = _scaled(x, centers, width)
    return t * jnp.exp(-(t**2) / 2)


def _meyer_nu(s: Array) -> Array:
    return s**4 * (35 - 84 * s + 70 * s**2 - 20 * s**3)


def meyer(x: ArrayLike, centers: ArrayLike, width: ArrayLike) -> Array:
    """Meyer-type wavelet ``sin(pi |t|) a(|t|)`` (Wav-KAN), zero for ``|t| >= 1``.

    ``[...] -> [..., C]``.
    """
    v = jnp.abs(_scaled(x, centers, width))
    # clip keeps nu's argument in [0, 1] so the unused branches stay finite
    ramp = jnp.cos(0.5 * math.pi * _meyer_nu(jnp.clip(2 * v - 1, 0.0, 1.0)))
    return jnp.sin(math.pi * v) * jnp.where(v <= 0.5, 1.0, jnp.where(v >= 1, 0.0, ramp))


def shannon(x: ArrayLike, centers: ArrayLike, width: ArrayLike) -> Array:
    """Real Shannon wavelet ``2 sinc(2t) - sinc(t)``. ``[...] -> [..., C]``."""
    t = _scaled(x, centers, width)
    return 2 * jnp.sinc(2 * t) - jnp.sinc(t)


def relu_kan(x: ArrayLike, starts: ArrayLike, ends: ArrayLike) -> Array:
    """ReLU-KAN bumps ``(relu(e - x) relu(x - s))^2 * 16 / (e - s)^4``. ``[...] -> [..., C]``."""
    x = jnp.asarray(x)
    x = x.astype(jnp.result_type(x.dtype, jnp.float32))
    s = jnp.asarray(starts, x.dtype)
    e = jnp.asarray(ends, x.dtype)
    xe = x[..., None]
    bump = jax.nn.relu(e - xe) * jax.nn.relu(xe - s)
    return bump**2 * (16.0 / (e - s) ** 4)


COMBINATIONS = {
    "quad1": lambda x1, x2: (x1 * x2) ** 2,
    "quad2": lambda x1, x2: x1 * x2 + x1 * x1 + x2 * x2,
    "sum": lambda x1, x2: x1 + x2,
    "prod": lambda x1, x2: x1 * x2,
    "sum_prod": lambda x1, x2: x1 + x2 + x1 * x2,
    "cubic1": lambda x1, x2: (x1 + x2) * (x1 * x1 + x2 * x2),
    "cubic2": lambda x1, x2: (x1 * x2) ** 3,
}


def af_kan(
    x: ArrayLike,
    starts: ArrayLike,
    ends: ArrayLike,
    activation=jax.nn.silu,
    combination: str = "quad1",
) -> Array:
    """AF-KAN features ``combine(f(x - s), f(e - x))``. ``[...] -> [..., C]``.

    Args:
      x: points ``[...]``.
      starts, ends: ``s`` and ``e``, ``[C]`` (or broadcastable ``[..., C]``).
      activation: ``f``, a function.
      combination: a key of :data:`COMBINATIONS`.
    """
    if combination not in COMBINATIONS:
        raise ValueError(
            f"unknown combination {combination!r}; expected one of {sorted(COMBINATIONS)}"
        )
    x = jnp.asarray(x)
    x = x.astype(jnp.result_type(x.dtype, jnp.float32))
    xe = x[..., None]
    x1 = activation(xe - jnp.asarray(starts, x.dtype))
    x2 = activation(jnp.asarray(ends, x.dtype) - xe)
    return COMBINATIONS[combination](x1, x2)
