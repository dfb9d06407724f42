"""Symbolic library and the vectorised ``c f(a x + b) + d`` fit, against closed forms and numpy."""

import math

import numpy as np
import pytest

from kanflow.symbolic import fit_affine, library, selection_loss

# (a, b, c, d) per function, with a x + b inside the domain for x in [-1, 1]
TRUE = {
    "x": (1.0, 0.0, 2.5, -0.5),
    "x^2": (1.0, 0.3, 2.0, -1.0),
    "x^3": (1.0, -0.2, 1.5, 0.4),
    "x^4": (1.0, 0.4, -0.7, 0.2),
    "x^5": (1.0, 0.1, 0.9, 0.0),
    "1/x": (1.0, 1.5, 1.2, 0.3),
    "1/x^2": (1.0, 1.7, 0.8, -0.2),
    "1/x^3": (1.0, -1.6, 0.5, 0.1),
    "1/x^4": (1.0, 1.8, 2.0, 0.0),
    "1/x^5": (1.0, 2.2, 1.0, 0.5),
    "sqrt": (1.0, 1.5, 2.0, -0.3),
    "x^1.5": (1.0, 1.2, 0.6, 0.1),
    "1/sqrt(x)": (1.0, 1.4, 0.9, 0.2),
    "exp": (1.5, 0.0, 0.5, 0.1),
    "log": (1.0, 2.0, 1.3, 0.2),
    "abs": (1.0, 0.25, 1.1, -0.4),
    "sin": (3.0, 2.0, 5.0, 0.7),
    "cos": (2.5, 0.5, -1.5, 0.3),
    "tan": (1.2, 0.1, 0.8, 0.0),
    "tanh": (2.0, -0.5, 1.0, 0.2),
    "sgn": (1.0, 0.33, 0.7, 0.1),
    "arcsin": (0.7, 0.1, 1.2, 0.0),
    "arccos": (0.6, -0.2, 0.9, 0.3),
    "arctan": (2.0, 0.5, 1.4, -0.2),
    "arctanh": (0.8, 0.1, 0.6, 0.0),
    "gaussian": (2.0, 0.5, 1.0, -0.1),
}

# numpy forms, written independently of the library
NUMPY = {
    "x": lambda u: u,
    "x^2": lambda u: u**2,
    "x^3": lambda u: u**3,
    "x^4": lambda u: u**4,
    "x^5": lambda u: u**5,
    "1/x": lambda u: 1 / u,
    "1/x^2": lambda u: u**-2.0,
    "1/x^3": lambda u: u**-3.0,
    "1/x^4": lambda u: u**-4.0,
    "1/x^5": lambda u: u**-5.0,
    "sqrt": np.sqrt,
    "x^1.5": lambda u: u**1.5,
    "1/sqrt(x)": lambda u: u**-0.5,
    "exp": np.exp,
    "log": np.log,
    "abs": np.abs,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "tanh": np.tanh,
    "sgn": np.sign,
    "arcsin": np.arcsin,
    "arccos": np.arccos,
    "arctan": np.arctan,
    "arctanh": np.arctanh,
    "gaussian": lambda u: np.exp(-(u**2)),
    "0": np.zeros_like,
}


def edge(name, params, x):
    a, b, c, d = params
    return c * NUMPY[name](a * x + b) + d


def test_library_matches_numpy_and_pykan_complexities():
    assert set(library.names()) == set(NUMPY)
    x = np.random.default_rng(0).uniform(0.1, 0.9, 50)
    for name in library.names():
        np.testing.assert_allclose(np.asarray(library.get(name).fn(x)), NUMPY[name](x), rtol=1e-6)
    complexity = {n: library.get(n).complexity for n in library.names()}
    assert complexity["x"] == 1 and complexity["0"] == 0 and complexity["sin"] == 2
    assert complexity["1/x^5"] == 5 and complexity["arctanh"] == 4 and complexity["gaussian"] == 3
    with pytest.raises(ValueError, match="unknown symbolic function 'cosh'"):
        library.get("cosh")


@pytest.mark.parametrize("name", sorted(TRUE))
def test_canonical_form_is_the_same_function(name):
    rng = np.random.default_rng(1)
    a, b, c, d = TRUE[name]
    a, b = -2 * a, -2 * b  # a non-canonical (a, b): same argument up to a factor -2
    if name in ("arcsin", "arccos", "arctanh"):
        a, b = a / 4, b / 4
    x = rng.uniform(-1, 1, 64)
    u = a * x + b
    if name in ("log", "sqrt", "x^1.5", "1/sqrt(x)"):
        x, u = x[u > 0], u[u > 0]
    canon = library.canonical(name, (a, b, c, d))
    np.testing.assert_allclose(edge(name, canon, x), edge(name, (a, b, c, d), x), rtol=1e-9)


@pytest.mark.parametrize("name", sorted(TRUE))
def test_fit_recovers_known_parameters(x64, name):
    x = np.random.default_rng(2).uniform(-1, 1, 400)
    y = edge(name, TRUE[name], x)
    fit = fit_affine(x, y, [name, "x"])
    params, r2 = fit.params[0, 0], fit.r2[0, 0]
    assert r2 > 1 - 1e-8, (name, r2, params)
    np.testing.assert_allclose(edge(name, params, x), y, rtol=1e-5, atol=1e-5 * np.std(y))
    truth = library.canonical(name, TRUE[name])
    if name in ("sin", "cos", "tan", "tanh", "arcsin", "arctan", "arctanh", "sgn", "abs"):
        # odd symmetries: (a, b, c) and (-a, -b, -c) are the same edge (cos: c not flipped)
        np.testing.assert_allclose(abs(params[0]), abs(truth[0]), rtol=1e-4)
    elif name == "arccos":  # arccos(-u) = pi - arccos(u): recovered up to that reflection
        np.testing.assert_allclose(abs(params[0]), abs(truth[0]), rtol=1e-4)
    else:
        np.testing.assert_allclose(params, truth, rtol=1e-4, atol=1e-4)


def test_zero_and_identity():
    x = np.linspace(-1, 1, 30)
    fit = fit_affine(x, 3 * x + 1, ["x", "0"])
    np.testing.assert_allclose(fit.params[0, 0], [1, 0, 3, 1], atol=1e-5)
    assert fit.r2[0, 0] == pytest.approx(1.0, abs=1e-6)
    assert fit.r2[0, 1] == 0.0  # the constant explains nothing
    np.testing.assert_allclose(fit.params[0, 1], [0, 0, 0, 1], atol=1e-6)


def test_many_edges_at_once_equal_one_at_a_time(x64):
    rng = np.random.default_rng(3)
    x = rng.uniform(-1, 1, (3, 200))
    y = np.stack([np.sin(2 * x[0] + 0.5), np.exp(x[1]) + 0.2, 0.3 * x[2] ** 2])
    names = ["sin", "exp", "x^2", "log"]
    both = fit_affine(x, y, names)
    assert both.params.shape == (3, 4, 4) and both.r2.shape == (3, 4)
    for e in range(3):
        one = fit_affine(x[e], y[e], names)
        np.testing.assert_allclose(both.r2[e], one.r2[0], rtol=1e-12)
        np.testing.assert_allclose(both.params[e], one.params[0], rtol=1e-12)
    assert [names[k] for k in np.argmax(both.r2, axis=1)] == ["sin", "exp", "x^2"]


def test_domain_errors_are_rejected_not_nan(x64):
    x = np.linspace(-1, 1, 100)
    y = np.abs(x)
    fit = fit_affine(x, y, ["log", "sqrt", "1/x"])
    for k, name in enumerate(fit.names):  # whatever was chosen is defined on all of x
        if fit.r2[0, k] > -1:
            assert np.all(np.isfinite(edge(name, fit.params[0, k], x))), name
    # no admissible (a, b) at all: a x + b < 0 on the data for every candidate
    none = fit_affine(
        np.linspace(0, 1, 20), np.linspace(0, 1, 20), ["log"], a_range=(1, 2), b_range=(-9, -5)
    )
    assert none.r2[0, 0] == -1 and np.all(np.isnan(none.params[0, 0]))


def r2_numpy(f, y):
    return np.corrcoef(f, y)[0, 1] ** 2


def test_reported_r2_is_the_squared_correlation(x64):
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, 300)
    y = np.sin(2 * x) + 0.1 * rng.normal(size=300)  # noisy: R² well below 1
    fit = fit_affine(x, y, ["sin", "x^3", "tanh"])
    for k, name in enumerate(fit.names):
        a, b, _, _ = fit.params[0, k]
        assert fit.r2[0, k] == pytest.approx(r2_numpy(NUMPY[name](a * x + b), y), rel=1e-9)
    assert 0.8 < fit.r2[0, 0] < 0.99


def test_safe_forms_stay_finite_at_zero_with_a_large_cap():
    # y_th = 1e4 (SymbolicKAN's default): exp(-y_th) underflows to 0, log must still cap 0
    import jax
    import jax.numpy as jnp

    u = jnp.array([0.0, 1e-30, -1e-30, 1e-45, 1.0])
    for name in sorted(NUMPY):
        safe = library.get(name).safe
        assert np.all(np.isfinite(np.asarray(safe(u, 1e4)))), name
        grad = jax.vmap(jax.grad(lambda v, s=safe: s(v, 1e4)))(u)
        assert np.all(np.isfinite(np.asarray(grad))), name
    assert float(library.get("log").safe(jnp.array(0.0), 1e4)) == -1e4


def test_float32_r2_is_that_of_the_reported_parameters():
    # candidates whose values are ~1e-20 (a Gaussian far from its centre) square to 0 in
    # float32 while sum f y does not: that read as R² > 1, capped to 1, and such a candidate
    # (gaussian, c ~ -5e20) ranked first on tanh(3x) + x. The R² reported must be the one
    # its (a, b, c, d) give, in float64 numpy
    x = np.random.default_rng(0).uniform(-3, 3, 300)
    y = np.tanh(3 * x) + x
    fit = fit_affine(x, y, sorted(NUMPY))  # float32: no x64 here
    for k, name in enumerate(fit.names):
        if fit.r2[0, k] <= -1:
            continue
        a, b, c, d = fit.params[0, k].astype(np.float64)
        with np.errstate(all="ignore"):
            pred = c * NUMPY[name](a * x + b) + d
        r2 = 1 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2)
        assert fit.r2[0, k] == pytest.approx(r2, abs=1e-3), name


def test_zooming_never_loses_the_best_candidate(x64):
    # (a, b) = (1, 0) lies on the first grid; an even zoom_number's grid misses its centre,
    # which moved the fit to R² 0.985 after one zoom
    x = np.random.default_rng(0).uniform(-3, 3, 300)
    for zoom_number, zooms in ((4, 1), (4, 4), (6, 4), (21, 4)):
        fit = fit_affine(x, np.sin(x), ["sin"], zoom_number=zoom_number, zooms=zooms)
        assert fit.r2[0, 0] == pytest.approx(1.0, abs=1e-12), (zoom_number, zooms)


def test_selection_loss_is_pykans():
    r2 = np.array([[0.999999, 0.9, -1.0, 0.0]])
    c = np.array([2.0, 1.0, 1.0, 0.0])
    got = selection_loss(r2, c, 0.8)
    want = [0.8 * ci + 0.2 * math.log2(1 + 1e-5 - ri) for ri, ci in zip(r2[0], c, strict=True)]
    np.testing.assert_allclose(got[0, [0, 1, 3]], np.array(want)[[0, 1, 3]])
    assert got[0, 2] == np.inf
    with pytest.raises(ValueError, match="weight_simple"):
        selection_loss(r2, c, 1.5)
    # fits closer than 1 - R² = 1e-6 tie: equal complexity, equal loss (library order decides)
    close = selection_loss(np.array([1 - 1e-7, 1 - 1e-12, 1 - 1e-5]), np.array([2.0, 2.0, 2.0]))
    assert close[0] == close[1] < close[2]


def test_bad_input():
    x = np.linspace(-1, 1, 10)
    with pytest.raises(ValueError, match="unknown symbolic function"):
        fit_affine(x, x, ["nope"])
    with pytest.raises(ValueError, match="x and y must both be"):
        fit_affine(x, x[:5], ["sin"])
    with pytest.raises(ValueError, match="at least 3 points"):
        fit_affine(x[:2], x[:2], ["sin"])
    with pytest.raises(ValueError, match="finite"):
        fit_affine(np.r_[x, np.nan], np.r_[x, 0.0], ["sin"])
    with pytest.raises(ValueError, match="a_range"):
        fit_affine(x, x, ["sin"], a_range=(1, -1))


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_simplest_trig_form_is_the_same_function(name):
    x = np.linspace(-2, 2, 50)
    rng = np.random.default_rng(5)
    for _ in range(20):
        params = (rng.uniform(-5, 5), rng.uniform(-9, 9), rng.uniform(-2, 2), rng.uniform(-1, 1))
        new_name, new = library.simplest(name, params)
        np.testing.assert_allclose(edge(new_name, new, x), edge(name, params, x), atol=1e-12)
        assert new[0] >= 0 and abs(new[1]) <= np.pi / 4 + 1e-12
    assert library.simplest("cos", (3.0, -np.pi / 2, 1.0, 0.0))[0] == "sin"


@pytest.mark.parametrize("name", sorted(NUMPY))
def test_safe_forms_equal_the_function_below_the_threshold_and_stay_finite(x64, name):
    import jax

    entry = library.get(name)
    y_th = 50.0
    u = np.concatenate([np.linspace(-7, 7, 2001), [0.0, 1.0, -1.0, np.pi / 2, 1e-9, -1e-9]])
    safe = np.asarray(entry.safe(u, y_th))
    assert np.all(np.isfinite(safe)), name
    with np.errstate(all="ignore"):
        exact = NUMPY[name](u)
    inside = np.isfinite(exact) & (np.abs(exact) <= y_th)
    if name in ("sqrt", "x^1.5"):  # pykan's odd / |x| continuations below 0
        inside &= u >= 0
    np.testing.assert_allclose(safe[inside], exact[inside], rtol=1e-12, atol=1e-12)
    grad = jax.vmap(jax.grad(lambda v: entry.safe(v, y_th)))(u)
    assert np.all(np.isfinite(np.asarray(grad))), name
