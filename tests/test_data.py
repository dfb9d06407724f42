"""Fitting targets against independent formulas (scipy for J0)."""

import math

import numpy as np
import pytest
import scipy.special
import scipy.stats

import kanflow as kf


def test_targets_match_formulas():
    rng = np.random.default_rng(0)
    x2 = rng.uniform(-1, 1, (50, 2))
    np.testing.assert_allclose(
        kf.data.get_target("exp_sin_sq")(x2)[:, 0], np.exp(np.sin(np.pi * x2[:, 0]) + x2[:, 1] ** 2)
    )
    np.testing.assert_allclose(kf.data.get_target("xy")(x2)[:, 0], x2[:, 0] * x2[:, 1])
    x1 = rng.uniform(-1, 1, (50, 1))
    np.testing.assert_allclose(
        kf.data.get_target("bessel_j0")(x1)[:, 0], scipy.special.j0(20 * x1[:, 0]), atol=1e-14
    )
    x100 = rng.uniform(-1, 1, (5, 100))
    ref = np.exp(np.mean(np.sin(np.pi * x100 / 2) ** 2, axis=1))
    np.testing.assert_allclose(kf.data.get_target("exp_sin_sq_100d")(x100)[:, 0], ref)
    # the standard normal density at theta = 3 x
    np.testing.assert_allclose(
        kf.data.get_target("feynman_i_6_20a")(x1)[:, 0], scipy.stats.norm.pdf(3 * x1[:, 0])
    )


def test_bessel_quadrature_matches_scipy():
    z = np.linspace(-60, 60, 2001)
    np.testing.assert_allclose(kf.data.bessel_j0(z), scipy.special.j0(z), atol=1e-13)


def test_make_dataset_shapes_range_and_determinism():
    d = kf.data.make_dataset("exp_sin_sum_4d", n_train=30, n_test=20, seed=3)
    assert d["train_x"].shape == (30, 4) and d["test_y"].shape == (20, 1)
    assert d["train_x"].dtype == np.float32
    assert np.all(np.abs(d["train_x"]) <= 1)
    again = kf.data.make_dataset("exp_sin_sum_4d", n_train=30, n_test=20, seed=3)
    np.testing.assert_array_equal(d["test_x"], again["test_x"])
    assert not np.array_equal(d["train_x"][:20], d["test_x"])


def test_data_errors():
    with pytest.raises(ValueError, match="known targets: .*exp_sin_sq"):
        kf.data.get_target("sin")
    with pytest.raises(ValueError, match=r"expects x \[n, 2\]"):
        kf.data.get_target("xy")(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="n_train"):
        kf.data.make_dataset("xy", n_train=0)


def test_four_dimensional_targets_coordinate_by_coordinate():
    # a scalar loop per point, so a typo in one coordinate of the vectorised formula shows
    rng = np.random.default_rng(1)
    x4 = rng.uniform(-1, 1, (40, 4))
    sum_4d = [
        math.exp(0.5 * (math.sin(math.pi * (a**2 + b**2)) + math.sin(math.pi * (c**2 + d**2))))
        for a, b, c, d in x4
    ]
    np.testing.assert_allclose(kf.data.get_target("exp_sin_sum_4d")(x4)[:, 0], sum_4d, rtol=1e-13)
    sq_4d = [math.exp(sum(math.sin(math.pi * v / 2) ** 2 for v in row) / 4) for row in x4]
    np.testing.assert_allclose(kf.data.get_target("exp_sin_sq_4d")(x4)[:, 0], sq_4d, rtol=1e-13)
    # each coordinate matters: changing one changes the value
    for j in range(4):
        moved = x4.copy()
        moved[:, j] = -0.5 * moved[:, j] + 0.3
        assert not np.allclose(
            kf.data.get_target("exp_sin_sum_4d")(moved), kf.data.get_target("exp_sin_sum_4d")(x4)
        )
