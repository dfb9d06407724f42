"""Bases against independent references (scipy, numpy, closed forms), float64."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.interpolate
import scipy.special
from jax.test_util import check_grads
from numpy.polynomial import chebyshev as npcheb
from numpy.polynomial import legendre as nplegendre

import kanflow as kf

RNG = np.random.default_rng(0)


def random_knots(n_knots, rng, repeats=False):
    t = np.sort(rng.uniform(-2, 2, n_knots))
    if repeats:  # clamp both ends and duplicate an interior knot
        t[:3] = t[0]
        t[-3:] = t[-1]
        t[n_knots // 2] = t[n_knots // 2 + 1]
    return t


@pytest.mark.parametrize("order", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("repeats", [False, True])
def test_bspline_matches_scipy_design_matrix(x64, order, repeats):
    rng = np.random.default_rng(order + 10 * repeats)
    t = random_knots(14, rng, repeats)
    x = rng.uniform(t[order], t[-order - 1], 200)
    x = x[x < t[-order - 1]]
    ref = scipy.interpolate.BSpline.design_matrix(x, t, order).toarray()
    got = kf.basis.bspline(jnp.asarray(x), jnp.asarray(t), order)
    assert got.shape == (x.size, t.size - order - 1)
    np.testing.assert_allclose(np.asarray(got), ref, atol=1e-12)


def test_bspline_per_input_knots_broadcast(x64):
    rng = np.random.default_rng(1)
    knots = np.stack([random_knots(12, rng) for _ in range(3)])  # [in, K]
    x = rng.uniform(-1, 1, (7, 3))  # [batch, in]
    got = np.asarray(kf.basis.bspline(jnp.asarray(x), jnp.asarray(knots), 3))
    assert got.shape == (7, 3, 8)
    for i in range(3):
        inside = (x[:, i] >= knots[i, 3]) & (x[:, i] < knots[i, -4])
        ref = scipy.interpolate.BSpline.design_matrix(x[inside, i], knots[i], 3).toarray()
        np.testing.assert_allclose(got[inside, i], ref, atol=1e-12)


def test_uniform_knots_partition_of_unity(x64):
    knots = kf.basis.uniform_knots(7, 3, (-2.0, 3.0))
    assert knots.shape == (7 + 2 * 3 + 1,)
    np.testing.assert_allclose(knots[3], -2.0)
    np.testing.assert_allclose(knots[-4], 3.0)
    x = jnp.asarray(RNG.uniform(-2, 3, 500))
    np.testing.assert_allclose(kf.basis.bspline(x, knots, 3).sum(-1), 1.0, atol=1e-12)


def test_bspline_gradient(x64):
    t = jnp.asarray(random_knots(12, np.random.default_rng(3)))
    x = jnp.asarray(np.random.default_rng(4).uniform(t[3], t[-4], 20))
    check_grads(lambda x: kf.basis.bspline(x, t, 3), (x,), order=1, modes=["fwd", "rev"])
    # second derivative of a random spline against scipy's analytic derivative
    c = np.random.default_rng(6).normal(size=t.size - 4)
    spline = lambda x: kf.basis.bspline(x, t, 3) @ c
    d2 = jax.vmap(jax.grad(jax.grad(spline)))(x)
    ref = scipy.interpolate.BSpline(np.asarray(t), c, 3).derivative(2)(np.asarray(x))
    np.testing.assert_allclose(d2, ref, rtol=1e-9, atol=1e-9)
    # gradients at repeated knots stay finite
    t_rep = jnp.asarray(random_knots(12, np.random.default_rng(5), repeats=True))
    g = jax.grad(lambda x: kf.basis.bspline(x, t_rep, 3).sum())(t_rep[6])
    assert np.isfinite(g)


@pytest.mark.parametrize("order", [1, 2, 3, 5])
@pytest.mark.parametrize("repeats", [False, True])
def test_bspline_every_derivative_order_matches_scipy(x64, order, repeats):
    """d^m/dx^m for m = 0 .. k + 1 (nested forward mode through the closed-form
    rule), per-input knots in the layer layout (basis axis -2), against scipy."""
    rng = np.random.default_rng(20 + order + 10 * repeats)
    knots = np.stack([random_knots(15, rng, repeats) for _ in range(3)])  # [in, K]
    x = rng.uniform(knots[:, order], knots[:, -order - 1], (40, 3))  # [batch, in]
    f = lambda x: kf.basis.bspline(x, jnp.asarray(knots), order, axis=-2)  # [batch, n, in]
    for m in range(order + 2):
        g = f
        for _ in range(m):
            g = lambda x, g=g: jax.jvp(g, (x,), (jnp.ones_like(x),))[1]
        got = np.asarray(g(jnp.asarray(x)))
        for i in range(3):
            t = knots[i]
            for c in range(t.size - order - 1):
                coef = np.zeros(t.size - order - 1)
                coef[c] = 1.0
                # piecewise-polynomial form: differentiable across repeated knots
                pieces = scipy.interpolate.PPoly.from_spline((t, coef, order))
                ref = pieces.derivative(m)(x[:, i]) if m <= order else np.zeros(len(x))
                np.testing.assert_allclose(got[:, c, i], ref, atol=1e-9, err_msg=f"m={m} c={c}")


def test_bspline_knot_tangents_match_finite_differences(x64):
    rng = np.random.default_rng(7)
    t = jnp.asarray(random_knots(12, rng))
    x = jnp.asarray(rng.uniform(t[3], t[-4], 30))
    dt = jnp.asarray(rng.normal(size=t.shape))
    _, tangent = jax.jvp(lambda t: kf.basis.bspline(x, t, 3), (t,), (dt,))
    eps = 1e-6
    fd = (kf.basis.bspline(x, t + eps * dt, 3) - kf.basis.bspline(x, t - eps * dt, 3)) / (2 * eps)
    np.testing.assert_allclose(tangent, fd, atol=1e-6)


def test_bspline_outside_the_knots_is_zero_and_nan_stays_nan(x64):
    t = kf.basis.uniform_knots(4, 3)  # [-2.5, 2.5]
    x = jnp.asarray([-jnp.inf, -2.6, 2.5, 7.0, jnp.inf])
    b = kf.basis.bspline(x, t, 3)
    np.testing.assert_array_equal(b, 0.0)
    d = jax.vmap(jax.grad(lambda x: kf.basis.bspline(x, t, 3).sum()))(x)
    np.testing.assert_array_equal(d, 0.0)
    assert np.isnan(kf.basis.bspline(jnp.asarray([jnp.nan]), t, 3) @ jnp.ones(7)).all()


def test_fourier_value_and_derivative_against_numpy(x64):
    """Angle addition against numpy's cos/sin: values, first and second derivatives."""
    x = np.random.default_rng(8).uniform(-4, 4, (50, 3))
    m = np.arange(1, 17)[:, None]
    mx = m * x[:, None, :]  # [50, 16, 3]
    value, deriv = kf.basis.fourier_value_and_derivative(jnp.asarray(x), 16)
    np.testing.assert_allclose(value, np.concatenate([np.cos(mx), np.sin(mx)], 1), atol=1e-12)
    np.testing.assert_allclose(
        deriv, np.concatenate([-m * np.sin(mx), m * np.cos(mx)], 1), atol=1e-11
    )
    m2 = np.concatenate([m, m])  # [32, 1]: the cosine planes, then the sine planes
    second = jax.jvp(
        lambda x: kf.basis.fourier_value_and_derivative(x, 16)[1],
        (jnp.asarray(x),),
        (jnp.ones(x.shape),),
    )[1]
    np.testing.assert_allclose(
        second, -(m2**2) * np.concatenate([np.cos(mx), np.sin(mx)], 1), atol=1e-9
    )
    # float32: the rounding of angle addition stays small up to m = 32
    v32, _ = kf.basis.fourier_value_and_derivative(jnp.asarray(x, jnp.float32), 32)
    x32 = np.asarray(jnp.asarray(x, jnp.float32), np.float64)
    ref = np.cos(np.arange(1, 33)[:, None] * x32[:, None, :])
    np.testing.assert_allclose(np.asarray(v32)[:, :32], ref, atol=5e-6)
    assert np.isnan(kf.basis.fourier_value_and_derivative(jnp.asarray([jnp.nan]), 2)[0]).all()


@pytest.mark.parametrize("num,grid_range", [(8, (-1.0, 1.0)), (5, (-2.0, 3.0)), (1, (-1.0, 1.0))])
def test_morlet_by_phase_shift_matches_the_direct_form(x64, num, grid_range):
    """The shared-phase Morlet against ``cos(w t) exp(-t^2/2)`` per centre, written
    out in numpy, and its first and second x-derivatives against forward mode of it."""
    x = np.random.default_rng(9).uniform(-3, 3, (60, 3))
    centers = np.linspace(*grid_range, num)
    width = (grid_range[1] - grid_range[0]) / max(num - 1, 1)

    def direct(x):  # [..., in] -> [..., num, in]
        t = (x[..., None, :] - jnp.asarray(centers)[:, None]) / width
        return jnp.cos(5.0 * t) * jnp.exp(-(t**2) / 2)

    shifted = lambda x: kf.basis.morlet_uniform_value_and_derivative(x, num, grid_range)
    value, deriv = shifted(jnp.asarray(x))
    np.testing.assert_allclose(value, direct(jnp.asarray(x)), atol=1e-13)
    ones = (jnp.ones(x.shape),)
    np.testing.assert_allclose(deriv, jax.jvp(direct, (jnp.asarray(x),), ones)[1], atol=1e-12)
    second = jax.jvp(lambda x: shifted(x)[1], (jnp.asarray(x),), ones)[1]
    d2 = jax.jvp(lambda x: jax.jvp(direct, (x,), ones)[1], (jnp.asarray(x),), ones)[1]
    np.testing.assert_allclose(second, d2, atol=1e-10)


def _meyer_direct(t):  # numpy, Wav-KAN's sin(pi |t|) a(|t|)
    v = np.abs(t)
    s = np.clip(2 * v - 1, 0, 1)
    nu = s**4 * (35 - 84 * s + 70 * s**2 - 20 * s**3)
    ramp = np.where(v <= 0.5, 1.0, np.where(v >= 1, 0.0, np.cos(np.pi / 2 * nu)))
    return np.sin(np.pi * v) * ramp


def _shannon_direct(t):  # numpy, 2 sinc(2t) - sinc(t)
    return 2 * np.sinc(2 * t) - np.sinc(t)


@pytest.mark.parametrize("name", ["meyer", "shannon"])
@pytest.mark.parametrize("num,grid_range", [(8, (-1.0, 1.0)), (5, (-2.0, 3.0)), (1, (-1.0, 1.0))])
def test_wavelets_by_shared_phase_match_the_direct_form(x64, name, num, grid_range):
    """Meyer's two-centre local form and Shannon's shared phase against the wavelet
    written out per centre in numpy; first and second x-derivatives against
    central finite differences of it (points near centres and support edges included)."""
    direct = {"meyer": _meyer_direct, "shannon": _shannon_direct}[name]
    fn = getattr(kf.basis, f"{name}_uniform_value_and_derivative")
    centers = np.linspace(*grid_range, num)
    width = (grid_range[1] - grid_range[0]) / max(num - 1, 1)
    rng = np.random.default_rng(10)
    x = rng.uniform(-3, 3, (60, 3))
    # near a centre: Shannon's 0/0 region; Meyer's kink sin(pi |t|) sits at t = 0, so its
    # points stay further away than the finite-difference steps
    near = 10.0 ** -rng.uniform(3, 7, 8) if name == "shannon" else rng.uniform(1e-3, 1e-2, 8)
    x[:8, 0] = centers[rng.integers(0, num, 8)] + rng.choice([-1, 1], 8) * near
    ref = lambda x: direct((x[..., None, :] - centers[:, None]) / width)
    value, deriv = fn(jnp.asarray(x), num, grid_range)
    np.testing.assert_allclose(value, ref(x), atol=1e-12)
    h = 1e-5
    fd = (ref(x + h) - ref(x - h)) / (2 * h)
    np.testing.assert_allclose(deriv, fd, atol=1e-6 * (1 + np.abs(fd).max()))
    second = jax.jvp(lambda x: fn(x, num, grid_range)[1], (jnp.asarray(x),), (jnp.ones(x.shape),))[
        1
    ]
    h = 1e-4
    fd2 = (ref(x + h) - 2 * ref(x) + ref(x - h)) / h**2
    np.testing.assert_allclose(second, fd2, atol=1e-4 * (1 + np.abs(fd2).max()))
    assert np.isnan(fn(jnp.asarray([[jnp.nan]]), num, grid_range)[0]).all()


def test_meyer_is_zero_at_infinity_and_float32_shannon_stays_accurate():
    value, deriv = kf.basis.meyer_uniform_value_and_derivative(
        jnp.asarray([[-jnp.inf, jnp.inf]]), 6
    )
    assert (np.asarray(value) == 0).all() and (np.asarray(deriv) == 0).all()
    x = np.random.default_rng(11).uniform(-1.2, 1.2, (200, 4)).astype(np.float32)
    value, _ = kf.basis.shannon_uniform_value_and_derivative(jnp.asarray(x), 32)
    centers = np.linspace(-1, 1, 32)
    ref = _shannon_direct((x.astype(np.float64)[..., None, :] - centers[:, None]) / (2 / 31))
    np.testing.assert_allclose(value, ref, atol=2e-5)


@pytest.mark.parametrize("dtype,limit,tol", [(np.float32, 1e3, 1.2e-7), (np.float64, 1e6, 4e-16)])
def test_sincos_against_numpy(dtype, limit, tol):
    """The reduced-argument polynomial sine and cosine against numpy in float64, over
    several magnitudes, at the reduction's boundaries (odd multiples of pi/4),
    and their derivatives (first and second order, reverse mode)."""
    from kanflow.basis._trig import sincos

    rng = np.random.default_rng(12)
    x = np.concatenate(
        [
            rng.uniform(-1, 1, 4000) * 10.0 ** rng.uniform(-8, np.log10(limit), 4000),
            np.pi / 4 * np.arange(-41, 42),
            [0.0, -0.0],
        ]
    ).astype(dtype)
    with jax.enable_x64(dtype == np.float64):
        s, c = jax.jit(sincos)(jnp.asarray(x))
        assert s.dtype == dtype and c.dtype == dtype
        ref = x.astype(np.float64)
        scale = np.maximum(1.0, np.abs(ref) * np.finfo(dtype).eps / tol)  # argument ulp
        assert np.max(np.abs(np.asarray(s, np.float64) - np.sin(ref)) / scale) < 2 * tol
        assert np.max(np.abs(np.asarray(c, np.float64) - np.cos(ref)) / scale) < 2 * tol
        z = jnp.asarray(x[:50])
        d_sin = jax.vmap(jax.grad(lambda v: sincos(v)[0]))(z)
        d2_cos = jax.vmap(jax.grad(jax.grad(lambda v: sincos(v)[1])))(z)
        np.testing.assert_allclose(d_sin, np.cos(ref[:50]), atol=8 * tol)
        np.testing.assert_allclose(d2_cos, -np.cos(ref[:50]), atol=8 * tol)
        bad = sincos(jnp.asarray([np.inf, -np.inf, np.nan], dtype))
        assert np.isnan(np.asarray(bad)).all()


def test_bspline_rejects_bad_order():
    with pytest.raises(ValueError, match="order"):
        kf.basis.bspline(jnp.zeros(3), jnp.linspace(0, 1, 8), -1)
    with pytest.raises(ValueError, match="knots"):
        kf.basis.bspline(jnp.zeros(3), jnp.linspace(0, 1, 3), 3)


@pytest.mark.parametrize("degree", [0, 1, 4, 7])
def test_chebyshev_and_legendre_vs_numpy(x64, degree):
    x = RNG.uniform(-1.3, 1.3, 100)
    np.testing.assert_allclose(
        kf.basis.chebyshev(jnp.asarray(x), degree),
        npcheb.chebvander(x, degree),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        kf.basis.legendre(jnp.asarray(x), degree),
        nplegendre.legvander(x, degree),
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize("alpha,beta", [(1.0, 1.0), (0.5, -0.3), (2.0, 0.0), (-0.5, -0.5)])
def test_jacobi_vs_scipy(x64, alpha, beta):
    x = RNG.uniform(-1, 1, 50)
    got = kf.basis.jacobi(jnp.asarray(x), 6, alpha, beta)
    ref = np.stack([scipy.special.eval_jacobi(n, alpha, beta, x) for n in range(7)], -1)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("degree,m", [(3, 8), (5, 6), (4, 20)])
def test_gram_is_gram_schmidt_of_monomials_on_the_points(x64, degree, m):
    pts = -1 + (2 * np.arange(1, m + 1) - 1) / m
    # independent reference: orthonormalise 1, x, .., x^d on the points by QR
    q, r = np.linalg.qr(np.vander(pts, degree + 1, increasing=True))
    q = q * np.sign(np.diag(r))  # positive leading coefficients, as the recurrence gives
    got = np.asarray(kf.basis.gram(jnp.asarray(pts), degree, num_points=m))
    np.testing.assert_allclose(got, q, atol=1e-10)
    np.testing.assert_allclose(got.T @ got, np.eye(degree + 1), atol=1e-10)


def test_fourier_closed_form(x64):
    x = RNG.uniform(-4, 4, (5, 6))
    got = np.asarray(kf.basis.fourier(jnp.asarray(x), 3))
    assert got.shape == (5, 6, 6)
    for m in range(1, 4):
        np.testing.assert_allclose(got[..., m - 1], np.cos(m * x), atol=1e-12)
        np.testing.assert_allclose(got[..., 3 + m - 1], np.sin(m * x), atol=1e-12)


def test_local_bases_closed_forms(x64):
    x = RNG.uniform(-1.5, 1.5, (4, 3))
    c = np.linspace(-1, 1, 5)
    h = 0.4
    t = (x[..., None] - c) / h
    refs = {
        kf.basis.gaussian_rbf: np.exp(-(t**2)),
        kf.basis.rswaf: 1 / np.cosh(t) ** 2,
        kf.basis.mexican_hat: 2 / (np.sqrt(3) * np.pi**0.25) * (1 - t**2) * np.exp(-(t**2) / 2),
        kf.basis.morlet: np.cos(5 * t) * np.exp(-(t**2) / 2),
        kf.basis.dog: t * np.exp(-(t**2) / 2),
    }
    for fn, ref in refs.items():
        np.testing.assert_allclose(
            fn(jnp.asarray(x), jnp.asarray(c), h), ref, atol=1e-12, err_msg=fn.__name__
        )


def _meyer_ref(t: float) -> float:
    """Wav-KAN's Meyer construction, one point at a time."""
    v = abs(t)
    if v >= 1:
        return 0.0
    if v <= 0.5:
        return np.sin(np.pi * v)
    s = 2 * v - 1
    nu = 35 * s**4 - 84 * s**5 + 70 * s**6 - 20 * s**7
    return np.sin(np.pi * v) * np.cos(np.pi / 2 * nu)


def test_meyer_and_shannon_wavelets(x64):
    x = RNG.uniform(-1.5, 1.5, (40, 3))
    c = np.linspace(-1, 1, 5)
    h = 0.4
    t = (x[..., None] - c) / h
    got = np.asarray(kf.basis.meyer(jnp.asarray(x), jnp.asarray(c), h))
    np.testing.assert_allclose(got, np.vectorize(_meyer_ref)(t), atol=1e-12)
    assert np.all(got[np.abs(t) >= 1] == 0)  # compact support
    got = np.asarray(kf.basis.shannon(jnp.asarray(x), jnp.asarray(c), h))
    np.testing.assert_allclose(
        got, (np.sin(2 * np.pi * t) - np.sin(np.pi * t)) / (np.pi * t), atol=1e-12
    )
    np.testing.assert_allclose(kf.basis.shannon(jnp.asarray(c), jnp.asarray(c), h).diagonal(), 1.0)
    # Shannon: band-pass spectrum, 1 on pi <= |w| <= 2 pi, else 0 (trapezoid on a long grid)
    u = np.linspace(-400, 400, 800_001)
    psi = np.asarray(kf.basis.shannon(jnp.asarray(u), jnp.zeros(1), 1.0))[:, 0]
    for w, want in [(0.5 * np.pi, 0.0), (1.5 * np.pi, 1.0), (3.0 * np.pi, 0.0)]:
        assert abs(np.trapezoid(psi * np.cos(w * u), u) - want) < 1e-2, w


def test_relu_kan_bump(x64):
    s, e = kf.basis.relu_kan_grid(4, 2, (-1.0, 1.0))
    np.testing.assert_allclose(s, -1 + 0.5 * np.arange(-2, 4))
    np.testing.assert_allclose(e - s, 1.5)
    x = RNG.uniform(-2.5, 2.5, 300)
    got = np.asarray(kf.basis.relu_kan(jnp.asarray(x), s, e))
    sn, en = np.asarray(s), np.asarray(e)
    ref = np.where(
        (x[:, None] > sn) & (x[:, None] < en),
        (x[:, None] - sn) ** 2 * (en - x[:, None]) ** 2 * 16 / (en - sn) ** 4,
        0.0,
    )
    np.testing.assert_allclose(got, ref, atol=1e-12)
    np.testing.assert_allclose(kf.basis.relu_kan((sn + en) / 2, s, e).diagonal(), 1.0)


@pytest.mark.parametrize("name", kf.basis.names())
def test_every_registered_basis_is_jit_grad_vmap_safe(x64, name):
    spec = kf.basis.get(name)
    g, k, r = 5, 3, (-1.0, 1.0)
    grid = spec.init_grid(3, g, k, r) if spec.has_grid else None
    x = jnp.asarray(RNG.uniform(-0.9, 0.9, (4, 3)))
    f = lambda x: spec.evaluate(x, grid, g, k, r)
    out = jax.jit(f)(x)
    assert out.shape == (4, 3, spec.num_basis(g, k))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(jax.vmap(f)(x), out, atol=1e-12)
    check_grads(lambda x: f(x).sum(-1), (x,), order=1, modes=["rev"], atol=1e-5, rtol=1e-5)


def test_unknown_basis_lists_known_names():
    with pytest.raises(ValueError, match="known bases: .*bspline"):
        kf.basis.get("splin")


def test_bad_degrees():
    for fn in (kf.basis.chebyshev, kf.basis.legendre, kf.basis.gram, kf.basis.jacobi):
        with pytest.raises(ValueError, match="degree"):
            fn(jnp.zeros(2), -1)
    with pytest.raises(ValueError, match="n_freq"):
        kf.basis.fourier(jnp.zeros(2), 0)
    with pytest.raises(ValueError, match="alpha"):
        kf.basis.jacobi(jnp.zeros(2), 2, alpha=-1.0)


def test_bspline_rejects_decreasing_knots():
    with pytest.raises(ValueError, match="non-decreasing"):
        kf.basis.bspline(jnp.zeros(3), jnp.array([0.0, 1.0, 0.5, 2.0, 3.0, 4.0]), 1)


@pytest.mark.parametrize("grid_range", [(-1.0, 1.0), (-2.0, 0.5)])
def test_registry_settings_against_independent_formulas(x64, grid_range):
    # what each registry name means for a layer: squashing, centres, widths, parameters
    x = np.random.default_rng(5).uniform(-2.5, 2.5, (7, 3))
    g, k = 5, 3
    s = np.tanh(x)[..., None]
    n = np.arange(k + 1)
    lo, hi = grid_range
    c = lo + (hi - lo) * np.arange(g) / (g - 1)  # centres span the range
    t = (x[..., None] - c) / ((hi - lo) / (g - 1))  # width: the centre spacing
    m = np.arange(1, g + 1)
    want = {
        "chebyshev": np.cos(n * np.arccos(s)),
        "legendre": scipy.special.eval_legendre(n, s),
        "jacobi": scipy.special.eval_jacobi(n, 1.0, 1.0, s),  # alpha = beta = 1
        "fourier": np.concatenate([np.cos(m * x[..., None]), np.sin(m * x[..., None])], -1),
        "rbf": np.exp(-(t**2)),
        "rswaf": 1 - np.tanh(t) ** 2,
        "mexican_hat": 2 / (np.sqrt(3) * np.pi**0.25) * (1 - t**2) * np.exp(-(t**2) / 2),
        "morlet": np.cos(5 * t) * np.exp(-(t**2) / 2),
        "dog": t * np.exp(-(t**2) / 2),
    }
    for name, ref in want.items():
        spec = kf.basis.registry.get(name)
        got = spec.evaluate(jnp.asarray(x), None, g, k, grid_range)
        np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12, err_msg=name)
