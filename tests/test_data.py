"""Fitting targets against independent formulas (scipy for J0)."""

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
