"""A division that makes XLA compute elementwise values once."""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
from jax import Array


def computed_once(values: Sequence[Array], x: Array) -> list[Array]:
    """Each of ``values`` (shaped like ``x``) divided by 1, or by NaN where ``x`` is NaN.

    XLA's CPU fusion copies cheap elementwise producers into every consumer
    that reads them, so values read once per basis plane (a B-spline's local
    values, Fourier's ``cos x``/``sin x``, Morlet's phase) would be recomputed
    once per plane; a division is costly enough that XLA computes them once.
    NaN in ``x`` stays NaN.
    """
    one = jnp.where(jnp.isnan(x), jnp.nan, 1.0).astype(x.dtype)
    return [v / one for v in values]
