"""Function-fitting targets (the KAN paper's toy and special functions).

Each :class:`Target` documents its formula, input range, where it comes from
and the KAN shape that represents it exactly. Values are computed in float64
NumPy (no JAX), so the data do not depend on the code under test.

=================  =====  ==========================================  ============
name               dim    formula                                     KAN shape
=================  =====  ==========================================  ============
exp_sin_sq         2      ``exp(sin(pi x) + y^2)``                    [2, 1, 1]
xy                 2      ``x y``                                     [2, 2, 1]
bessel_j0          1      ``J_0(20 x)``                               [1, 1]
exp_sin_sq_4d      4      ``exp(mean_i sin^2(pi x_i / 2))``           [4, 1, 1]
exp_sin_sq_100d    100    ``exp(mean_i sin^2(pi x_i / 2))``           [100, 1, 1]
exp_sin_sum_4d     4      ``exp((sin(pi (x1^2 + x2^2))                [4, 4, 2, 1]
                          + sin(pi (x3^2 + x4^2))) / 2)``
feynman_i_6_20a    1      ``exp(-t^2 / 2) / sqrt(2 pi)``, ``t = 3 x``  [1, 1]
=================  =====  ==========================================  ============

The first six come from the KAN paper (Liu et al. 2024, Fig. 3.1;
``exp_sin_sq_4d`` is its 100-D function at 4-D); ``feynman_i_6_20a`` is
equation I.6.20a of the Feynman data set the KAN paper also fits (Sec. 3.3),
with ``theta`` in ``[-3, 3]`` mapped onto ``x`` in ``[-1, 1]``.
All inputs are uniform on ``[-1, 1]^dim``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

__all__ = ["Target", "TARGETS", "get_target", "make_dataset", "bessel_j0"]


def bessel_j0(z: np.ndarray) -> np.ndarray:
    """``J_0(z) = (1 / pi) int_0^pi cos(z sin t) dt``, by the trapezoid rule.

    The integrand is smooth and periodic, so the rule converges exponentially;
    256 nodes give double precision for ``|z| <= 60``.
    """
    t = (np.arange(256) + 0.5) * (np.pi / 256)  # midpoint rule on [0, pi]
    z = np.asarray(z, dtype=np.float64)
    return np.cos(z[..., None] * np.sin(t)).mean(-1)


@dataclasses.dataclass(frozen=True)
class Target:
    """A fitting target ``f: [n, dim] -> [n, 1]`` on ``[lo, hi]^dim``."""

    name: str
    dim: int
    fn: Callable[[np.ndarray], np.ndarray]
    formula: str
    kan_widths: tuple[int, ...]
    source: str
    input_range: tuple[float, float] = (-1.0, 1.0)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.dim:
            raise ValueError(f"target {self.name!r} expects x [n, {self.dim}], got {x.shape}")
        return np.asarray(self.fn(x)).reshape(-1, 1)


def _exp_mean_sin_sq(x):
    return np.exp(np.mean(np.sin(np.pi * x / 2) ** 2, axis=1))


TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target(
            "exp_sin_sq",
            2,
            lambda x: np.exp(np.sin(np.pi * x[:, 0]) + x[:, 1] ** 2),
            "exp(sin(pi x) + y^2)",
            (2, 1, 1),
            "KAN paper (Liu et al. 2024), Fig. 3.1",
        ),
        Target(
            "xy",
            2,
            lambda x: x[:, 0] * x[:, 1],
            "x y",
            (2, 2, 1),
            "KAN paper (Liu et al. 2024), Fig. 3.1",
        ),
        Target(
            "bessel_j0",
            1,
            lambda x: bessel_j0(20 * x[:, 0]),
            "J_0(20 x)",
            (1, 1),
            "KAN paper (Liu et al. 2024), Fig. 3.1",
        ),
        Target(
            "exp_sin_sq_4d",
            4,
            _exp_mean_sin_sq,
            "exp(mean_i sin^2(pi x_i / 2)), 4-D",
            (4, 1, 1),
            "KAN paper Fig. 3.1 (its 100-D function at 4-D)",
        ),
        Target(
            "exp_sin_sq_100d",
            100,
            _exp_mean_sin_sq,
            "exp(mean_i sin^2(pi x_i / 2)), 100-D",
            (100, 1, 1),
            "KAN paper (Liu et al. 2024), Fig. 3.1",
        ),
        Target(
            "exp_sin_sum_4d",
            4,
            lambda x: np.exp(
                0.5
                * (
                    np.sin(np.pi * (x[:, 0] ** 2 + x[:, 1] ** 2))
                    + np.sin(np.pi * (x[:, 2] ** 2 + x[:, 3] ** 2))
                )
            ),
            "exp((sin(pi (x1^2 + x2^2)) + sin(pi (x3^2 + x4^2))) / 2)",
            (4, 4, 2, 1),
            "KAN paper (Liu et al. 2024), Fig. 3.1",
        ),
        Target(
            "feynman_i_6_20a",
            1,
            lambda x: np.exp(-((3 * x[:, 0]) ** 2) / 2) / np.sqrt(2 * np.pi),
            "exp(-t^2 / 2) / sqrt(2 pi), t = 3 x",
            (1, 1),
            "Feynman I.6.20a (KAN paper Sec. 3.3), theta = 3 x",
        ),
    ]
}


def get_target(name: str) -> Target:
    """The target called ``name``; a ``ValueError`` lists the known ones."""
    if name not in TARGETS:
        raise ValueError(f"unknown target {name!r}; known targets: {', '.join(sorted(TARGETS))}")
    return TARGETS[name]


def make_dataset(
    target: str | Target,
    n_train: int = 1000,
    n_test: int = 1000,
    seed: int = 0,
    dtype: np.dtype = np.float32,
) -> dict[str, np.ndarray]:
    """Uniform samples of ``target`` on its input range.

    Returns:
      ``{"train_x": [n_train, dim], "train_y": [n_train, 1], "test_x", "test_y"}``.
    """
    t = get_target(target) if isinstance(target, str) else target
    if n_train < 1 or n_test < 1:
        raise ValueError(f"n_train and n_test must be >= 1, got {n_train}, {n_test}")
    rng = np.random.default_rng(seed)
    lo, hi = t.input_range
    out = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x = rng.uniform(lo, hi, (n, t.dim))
        out[f"{split}_x"] = x.astype(dtype)
        out[f"{split}_y"] = t(x).astype(dtype)
    return out
