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
from kanflow.basis._trig import sincos
from kanflow.checks import check_grid_range, check_positive

__all__ = [
    "gaussian_rbf",
    "rswaf",
    "mexican_hat",
    "morlet",
    "morlet_uniform_value_and_derivative",
    "dog",
    "meyer",
    "meyer_uniform_value_and_derivative",
    "shannon",
    "shannon_uniform_value_and_derivative",
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


def _spacing(num: int, grid_range: tuple[float, float]) -> tuple[float, float, float]:
    """``(lo, hi, h)``: the checked range and the spacing of ``num`` equispaced centres."""
    if not isinstance(num, Integral) or num < 1:
        raise ValueError(f"number of centres must be an int >= 1, got {num!r}")
    lo, hi = check_grid_range(grid_range)
    return lo, hi, (hi - lo) / max(num - 1, 1)


def uniform_centers(num: int, grid_range: tuple[float, float] = (-1.0, 1.0)) -> tuple[Array, float]:
    """``num`` equispaced centres on ``grid_range`` and their spacing (the width)."""
    lo, hi, width = _spacing(num, grid_range)
    return jnp.linspace(lo, hi, num), width


def _uniform_phase(x: ArrayLike, num: int, grid_range: tuple[float, float]):
    """``x`` as a float array, ``t_0 = (x - c_0) / h`` (so centre ``j`` has ``t_j = t_0 - j``)
    and the spacing ``h`` of :func:`uniform_centers`."""
    lo, _, width = _spacing(num, grid_range)
    x = jnp.asarray(x)
    x = x.astype(jnp.result_type(x.dtype, jnp.float32))
    return x, (x - lo) / width, width


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
    x, t0, width = _uniform_phase(x, num, grid_range)
    j = np.arange(num)[:, None]
    cos_j = jnp.asarray(np.cos(omega0 * j), x.dtype)  # [num, 1], constants
    sin_j = jnp.asarray(np.sin(omega0 * j), x.dtype)
    s0, c0 = sincos(omega0 * t0)
    c0, s0 = (v[..., None, :] for v in computed_once([c0, s0], x))
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


def _meyer_ramp(v: Array) -> tuple[Array, Array]:
    """The Meyer transition ``a(v)`` on ``[0, 1]`` and ``da/dv``."""
    s = jnp.clip(2 * v - 1, 0.0, 1.0)
    phase = 0.5 * math.pi * _meyer_nu(s)
    nu_prime = 140 * s**3 * (1 - s) ** 3  # zero at both ends of the ramp
    sin, cos = sincos(phase)
    return cos, -sin * math.pi * nu_prime


def meyer_uniform_value_and_derivative(
    x: ArrayLike, num: int, grid_range: tuple[float, float] = (-1.0, 1.0)
) -> tuple[Array, Array]:
    """:func:`meyer` on :func:`uniform_centers` and its x-derivative, basis-major.

    ``x [..., in] -> ([..., num, in], [..., num, in])``. The width is the
    spacing and the support is ``|t| < 1``, so only the centres ``j = floor(t_0)``
    (at ``t = f``, the fractional part) and ``j + 1`` (at ``t = f - 1``) are
    non-zero; both share ``sin(pi |t|) = sin(pi f)``. Each point evaluates those
    two and places them (``inf`` gives 0, NaN gives NaN). Differentiable again
    in ``x``.
    """
    x, t0, width = _uniform_phase(x, num, grid_range)
    finite = jnp.isfinite(t0)
    t0 = jnp.where(finite, t0, -2.0)  # outside every support: all zero
    j = jnp.floor(t0)
    f = t0 - j
    sin_f, cos_f = sincos(math.pi * f)
    ramp_lo, dramp_lo = _meyer_ramp(f)  # centre j: v = |t| = f
    ramp_hi, dramp_hi = _meyer_ramp(1 - f)  # centre j + 1: v = 1 - f, dv/dt = -1
    local = [
        sin_f * ramp_lo,
        sin_f * ramp_hi,
        math.pi * cos_f * ramp_lo + sin_f * dramp_lo,
        math.pi * cos_f * ramp_hi - sin_f * dramp_hi,
    ]
    v_lo, v_hi, d_lo, d_hi = (v[..., None, :] for v in computed_once(local, x))
    c = (
        jnp.arange(num, dtype=jnp.int32)[:, None]
        - jnp.clip(j, -2, num).astype(jnp.int32)[..., None, :]
    )
    nan = jnp.isnan(x)[..., None, :]
    value = jnp.where(c == 0, v_lo, jnp.where(c == 1, v_hi, 0.0))
    deriv = jnp.where(c == 0, d_lo, jnp.where(c == 1, d_hi, 0.0)) / width
    return jnp.where(nan, jnp.nan, value), jnp.where(nan, jnp.nan, deriv)


def shannon_uniform_value_and_derivative(
    x: ArrayLike, num: int, grid_range: tuple[float, float] = (-1.0, 1.0)
) -> tuple[Array, Array]:
    """:func:`shannon` on :func:`uniform_centers` and its x-derivative, basis-major.

    ``x [..., in] -> ([..., num, in], [..., num, in])``. With the width equal to
    the spacing, ``t_j = t_0 - j`` and ``sin(pi t_j) = (-1)^j sin(pi t_0)``,
    ``sin(2 pi t_j) = sin(2 pi t_0)``: the wavelet ``(sin 2 pi t - sin pi t) / (pi t)``
    takes one sine and cosine per element and one division per centre. At the
    nearest centre (``|t| <= 1/2``, where ``0 / 0`` looms) it is evaluated
    directly with ``sinc``; elsewhere ``|t| >= 1/2`` bounds the rounding.
    Differentiable again in ``x``.
    """
    x, t0, width = _uniform_phase(x, num, grid_range)
    nearest = jnp.round(t0)
    near_t = t0 - nearest
    direct = lambda t: 2 * jnp.sinc(2 * t) - jnp.sinc(t)
    near_value, near_deriv = jax.jvp(direct, (near_t,), (jnp.ones_like(near_t),))
    s1, c1 = sincos(math.pi * t0)
    s2, c2 = 2 * s1 * c1, c1 * c1 - s1 * s1
    s1, c1, s2, c2, near_value, near_deriv = (
        v[..., None, :] for v in computed_once([s1, c1, s2, c2, near_value, near_deriv], x)
    )
    j = np.arange(num)[:, None]
    sign = jnp.asarray(np.where(j % 2 == 0, 1.0, -1.0), x.dtype)  # (-1)^j
    t = t0[..., None, :] - jnp.asarray(j, x.dtype)
    is_near = jnp.asarray(j, x.dtype) == nearest[..., None, :]
    inv = 1.0 / jnp.where(is_near, 1.0, t)  # the far branch never divides by ~0
    far_value = (s2 - sign * s1) * inv / math.pi
    far_deriv = (2 * c2 - sign * c1 - far_value) * inv
    value = jnp.where(is_near, near_value, far_value)
    deriv = jnp.where(is_near, near_deriv, far_deriv) / width
    return value, deriv


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
