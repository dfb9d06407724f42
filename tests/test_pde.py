"""PDE toolkit: derivatives, collocation, RBA, RAD, the state transition, references, training."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import kanflow as kf
from kanflow.pinn import pde, pde_reference, pdes


def _field(x):
    return jnp.sin(2 * x[:, 0]) * jnp.exp(x[:, 1]) * x[:, 0] ** 2


def test_partial_derivatives_closed_form(x64):
    x = jax.random.uniform(jax.random.key(0), (9, 2), jnp.float64, -1, 1)
    a, b = np.asarray(x[:, 0]), np.asarray(x[:, 1])
    e = np.exp(b)
    np.testing.assert_allclose(pde.partial(_field, x), np.sin(2 * a) * e * a**2, rtol=1e-13)
    d0 = (2 * np.cos(2 * a) * a**2 + 2 * a * np.sin(2 * a)) * e
    np.testing.assert_allclose(pde.partial(_field, x, (0,)), d0, rtol=1e-12)
    np.testing.assert_allclose(pde.partial(_field, x, (0, 1)), d0, rtol=1e-12)  # d/dy e^y = e^y
    np.testing.assert_allclose(pde.partial(_field, x, (1, 1, 1)), np.sin(2 * a) * e * a**2)
    d00 = (-4 * np.sin(2 * a) * a**2 + 8 * a * np.cos(2 * a) + 2 * np.sin(2 * a)) * e
    np.testing.assert_allclose(pde.partial(_field, x, (0, 0)), d00, rtol=1e-11)
    np.testing.assert_allclose(pde.laplacian(_field, x), d00 + np.sin(2 * a) * e * a**2, rtol=1e-11)
    np.testing.assert_allclose(pde.laplacian(_field, x, axes=(1,)), np.sin(2 * a) * e * a**2)


def test_partials_equal_partial_for_every_request(x64):
    """Shared derivatives against the closed forms above, in any request order."""
    x = jax.random.uniform(jax.random.key(3), (9, 2), jnp.float64, -1, 1)
    a, b = np.asarray(x[:, 0]), np.asarray(x[:, 1])
    e = np.exp(b)
    value = np.sin(2 * a) * e * a**2
    d0 = (2 * np.cos(2 * a) * a**2 + 2 * a * np.sin(2 * a)) * e
    d00 = (-4 * np.sin(2 * a) * a**2 + 8 * a * np.cos(2 * a) + 2 * np.sin(2 * a)) * e
    closed = {(): value, (0,): d0, (1,): value, (0, 0): d00, (1, 1): value}
    closed.update({(0, 1): d0, (1, 0): d0, (1, 1, 1): value})
    for requests in ([(1, 1), (), (0,)], [(0, 0), (1, 1), ()], [(1,), (0,)], [(1, 0), (1, 1, 1)]):
        got = pde.partials(_field, x, requests)
        assert len(got) == len(requests)
        for r, g in zip(requests, got, strict=True):
            np.testing.assert_allclose(g, closed[r], rtol=1e-11, err_msg=str(r))
    with pytest.raises(ValueError, match="axes"):
        pde.partials(_field, x, [(2,)])


def test_partial_of_a_kan_against_finite_differences(x64):
    model = kf.models.KAN((2, 4, 1), grid_size=5, grid_range=(-1.0, 1.0), param_dtype=jnp.float64)
    x = jax.random.uniform(jax.random.key(1), (7, 2), jnp.float64, -0.9, 0.9)
    variables = model.init(jax.random.key(2), x)
    u = lambda z: model.apply(variables, z)  # [n, 1] is accepted
    h = 1e-4
    for axes in ((0,), (1,), (1, 1), (0, 1)):
        shift = np.zeros(2)
        shift[axes[-1]] = h
        lower = pde.partial(u, x - shift, axes[:-1])
        upper = pde.partial(u, x + shift, axes[:-1])
        np.testing.assert_allclose(pde.partial(u, x, axes), (upper - lower) / (2 * h), atol=1e-6)


def test_partial_errors():
    with pytest.raises(ValueError, match=r"points \[n, d\]"):
        pde.partial(_field, jnp.zeros(3))
    with pytest.raises(ValueError, match="axes must be in"):
        pde.partial(_field, jnp.zeros((3, 2)), (2,))
    with pytest.raises(ValueError, match="values \\[n\\] or \\[n, 1\\]"):
        pde.partial(lambda x: x, jnp.zeros((3, 2)))


def test_collocation_in_the_box_and_seeded():
    lo, hi = (0.0, -1.0), (1.0, 1.0)
    for draw in (pde.sobol, pde.latin_hypercube):
        pts = draw(100, lo, hi, seed=3)
        assert pts.shape == (100, 2) and pts.dtype == np.float64
        assert np.all(pts >= lo) and np.all(pts <= hi)
        np.testing.assert_array_equal(pts, draw(100, lo, hi, seed=3))
        assert not np.array_equal(pts, draw(100, lo, hi, seed=4))
    lhs = pde.latin_hypercube(50, lo, hi, seed=0)
    for d in range(2):  # one point per stratum in each coordinate
        strata = np.floor((lhs[:, d] - lo[d]) / (hi[d] - lo[d]) * 50).astype(int)
        assert sorted(strata) == list(range(50))
    with pytest.raises(ValueError, match="lo < hi"):
        pde.sobol(8, (1.0,), (0.0,))
    for lo_, hi_ in (((0.0,), (np.inf,)), ((-np.inf,), (0.0,))):  # inf or NaN points before
        with pytest.raises(ValueError, match="box must be finite"):
            pde.sobol(8, lo_, hi_)
    with pytest.raises(ValueError, match="d >= 1"):
        pde.latin_hypercube(8, (), ())
    with pytest.raises(ValueError, match="axes must name at least one"):  # was the int 0
        pde.laplacian(lambda z: z[..., 0], jnp.zeros((3, 2)), axes=())


def test_rba_update_formula_and_bound():
    r = jnp.array([0.5, -2.0, 1.0, 0.0])
    w = jnp.array([1.0, 1.0, 0.2, 0.7])
    expected = 0.9 * np.asarray(w) + 0.05 * np.abs(np.asarray(r)) / 2.0
    np.testing.assert_allclose(pde.rba_update(w, r, 0.9, 0.05), expected, rtol=1e-6)
    for _ in range(500):  # the fixed point of the largest residual is eta / (1 - gamma)
        w = pde.rba_update(w, r, 0.9, 0.05)
    np.testing.assert_allclose(w[1], 0.5, rtol=1e-6)
    assert float(jax.grad(lambda r: pde.rba_update(w, r).sum())(r).sum()) == 0.0


def test_rad_probabilities_and_resampling():
    r = jnp.array([0.0, 1.0, 3.0, -4.0])
    k, c = 2.0, 0.5
    e = np.abs(np.asarray(r)) ** k
    expected = e / e.mean() + c
    np.testing.assert_allclose(pde.rad_probabilities(r, k, c), expected / expected.sum(), rtol=1e-6)
    pool = jnp.arange(2000.0)[:, None]
    residual = jnp.where(pool[:, 0] < 100, 50.0, 0.0)  # 5 % of the pool holds all the residual
    picked = pde.rad_resample(jax.random.key(0), pool, residual, 200)
    assert len(np.unique(np.asarray(picked))) == 200  # without replacement
    # weights 50 / 2.5 + 1 = 21 (hot) and 1 (cold): the hot 5 % carry 2100 / 4000 of the first
    # draw, a little less as they run out (uniform drawing would give 5 %)
    assert 0.3 < np.mean(np.asarray(picked)[:, 0] < 100) < 0.55
    with pytest.raises(ValueError, match="cannot draw"):
        pde.rad_resample(jax.random.key(0), pool[:5], residual[:5], 6)
    # c < 0 would rank the largest residual last; a NaN would make every probability NaN
    for kw, match in ((dict(c=-2.0), "rad c must be >= 0"), (dict(k=-1.0), "rad k must be")):
        with pytest.raises(ValueError, match=match):
            pde.rad_probabilities(r, **kw)
    with pytest.raises(ValueError, match="residual at the resampling candidates is not finite"):
        pde.rad_resample(jax.random.key(0), pool, residual.at[7].set(jnp.nan), 200)


def test_transfer_moments_interpolates_the_basis_axis():
    params = {"coef": jnp.ones((2, 6, 3)), "scale": jnp.ones((2, 3))}
    optimizer = optax.adam(1e-2)
    state = optimizer.init(params)
    grads = {
        "coef": jax.random.normal(jax.random.key(0), (2, 6, 3)),
        "scale": jnp.full((2, 3), 0.5),
    }
    for _ in range(3):
        _, state = optimizer.update(grads, state, params)
    new = {"coef": jnp.ones((2, 11, 3)), "scale": jnp.ones((2, 3))}
    moved = pde.transfer_moments(optimizer, state, new)
    old_adam, new_adam = state[0], moved[0]
    assert int(new_adam.count) == 3  # the step count (bias correction, schedules) is kept
    np.testing.assert_array_equal(new_adam.mu["scale"], old_adam.mu["scale"])
    positions = np.arange(11) * 5 / 10
    for moment in ("mu", "nu"):
        old = np.asarray(getattr(old_adam, moment)["coef"])
        got = np.asarray(getattr(new_adam, moment)["coef"])
        assert got.shape == (2, 11, 3)
        for i in range(2):
            for o in range(3):
                want = np.interp(positions, np.arange(6), old[i, :, o])
                np.testing.assert_allclose(got[i, :, o], want, rtol=1e-6, atol=1e-12)
    assert np.all(np.asarray(new_adam.nu["coef"]) >= 0)
    # the moved state drives an update on the new shapes
    optimizer.update(jax.tree.map(jnp.ones_like, new), moved, new)
    with pytest.raises(ValueError, match="cannot carry"):
        pde.transfer_moments(optimizer, state, {"coef": jnp.ones((3, 6, 3)), "scale": new["scale"]})


def test_chebyshev_matrix_differentiates_polynomials_exactly(x64):
    n = 12
    x = pde_reference.chebyshev_points(n)
    d = pde_reference.chebyshev_matrix(n)
    p = np.polynomial.Polynomial(np.random.default_rng(0).normal(size=n + 1))
    np.testing.assert_allclose(d @ p(x), p.deriv()(x), atol=1e-9)


def test_burgers_reference_slope_at_the_shock_and_convergence():
    # the classic check (Basdevant et al. 1986): the steepest slope, du/dx at x = 0 and
    # t = 1.6037 / pi, is -152.00516
    h = 1e-7
    t = np.full(2, 1.6037 / np.pi)
    u = pde_reference.burgers_reference(t, np.array([-h, h]))
    np.testing.assert_allclose((u[1] - u[0]) / (2 * h), -152.00516, rtol=1e-6)
    tt, xx = np.meshgrid(np.linspace(0, 1, 11), np.linspace(-1, 1, 41), indexing="ij")
    coarse = pde_reference.burgers_reference(tt, xx, order=200)
    fine = pde_reference.burgers_reference(tt, xx, order=400)
    np.testing.assert_allclose(coarse, fine, atol=1e-9)
    np.testing.assert_allclose(coarse[0], -np.sin(np.pi * xx[0]), atol=1e-15)
    np.testing.assert_allclose(coarse[:, [0, -1]], 0.0, atol=1e-12)
    # the PDE by central differences, away from the shock at x = 0
    t0, x0, dt = 0.4, 0.5, 1e-4
    f = lambda t, x: pde_reference.burgers_reference(np.array([t]), np.array([x]))[0]
    ut = (f(t0 + dt, x0) - f(t0 - dt, x0)) / (2 * dt)
    ux = (f(t0, x0 + dt) - f(t0, x0 - dt)) / (2 * dt)
    uxx = (f(t0, x0 + dt) - 2 * f(t0, x0) + f(t0, x0 - dt)) / dt**2
    assert abs(ut + f(t0, x0) * ux - 0.01 / np.pi * uxx) < 1e-4


def test_burgers_reference_at_a_lower_viscosity_against_direct_quadrature():
    # nu = 0.001 / pi: the integrand peaks beyond 200 Gauss-Hermite nodes' reach (order 200
    # gives -0.8209 at t = 0.75, x = 0.1); the default order is chosen to converge. The
    # reference here: the Cole-Hopf quotient by the trapezoidal rule in y on [x - 3, x + 3]
    nu = 0.001 / np.pi
    t, x = np.array([0.75, 0.5, 1.0, 0.2]), np.array([0.1, -0.3, 0.01, 0.9])
    want = []
    for ti, xi in zip(t, x, strict=True):
        y = np.linspace(xi - 3, xi + 3, 600001)
        e = -np.cos(np.pi * y) / (2 * np.pi * nu) - (xi - y) ** 2 / (4 * nu * ti)
        w = np.exp(e - e.max())
        want.append(-np.sum(np.sin(np.pi * y) * w) / np.sum(w))
    np.testing.assert_allclose(pde_reference.burgers_reference(t, x, nu), want, atol=1e-9)
    # far nodes' weights underflow at high orders: no 0/0
    assert np.all(np.isfinite(pde_reference.burgers_reference(t, x, nu, order=800)))
    with pytest.raises(ValueError, match="did not converge for nu=1e-07"):
        pde_reference.burgers_reference(t, x, 1e-7)
    for bad, match in ((dict(nu=-1.0), "nu must be > 0"), (dict(x=[np.nan]), "finite")):
        with pytest.raises(ValueError, match=match):
            pde_reference.burgers_reference(**dict(dict(t=[0.5], x=[0.1]), **bad))


def test_allen_cahn_reference_converges():
    # spectral convergence once the interfaces (width ~0.014) are resolved: measured
    # max differences 1e-4 (256 vs 512) and 5e-7 (384 vs 512)
    t = np.array([0.0, 0.25, 1.0])
    x = np.linspace(-1, 1, 41)
    fine = pde_reference.allen_cahn_reference(t, x)  # n = 512
    for n, tol in ((256, 5e-4), (384, 3e-6)):
        np.testing.assert_allclose(pde_reference.allen_cahn_reference(t, x, n=n), fine, atol=tol)
    np.testing.assert_allclose(fine[0], x**2 * np.cos(np.pi * x), atol=1e-12)
    np.testing.assert_allclose(fine[:, [0, -1]], -1.0, atol=1e-12)
    assert fine[-1].min() > -1.01 and fine[-1].max() < 1.01  # u stays near the wells -1, 1
    # only t = 0 asked for: the initial condition (it failed to broadcast before)
    start = pde_reference.allen_cahn_reference([0.0, 0.0], x)
    np.testing.assert_allclose(start, np.tile(x**2 * np.cos(np.pi * x), (2, 1)), atol=1e-15)
    with pytest.raises(ValueError, match="finite"):
        pde_reference.allen_cahn_reference(t, [0.0, np.nan])


def test_edge_points_are_the_authors():
    # arXiv 2407.17611's notebooks: per face, the first 64 points of the box's scrambled
    # Sobol sequence (scipy, seed 42), the face's coordinate fixed
    from scipy.stats import qmc

    unit = qmc.Sobol(2, scramble=True, seed=42).random_base2(6)
    faces = {
        "burgers": {"initial": (0, 0.0), "x=-1": (1, -1.0), "x=1": (1, 1.0)},
        "helmholtz": {"x=-1": (0, -1.0), "x=1": (0, 1.0), "y=-1": (1, -1.0), "y=1": (1, 1.0)},
    }
    for name, expected in faces.items():
        problem = pdes.PROBLEMS[name]()
        lo, hi = np.asarray(problem.lo), np.asarray(problem.hi)
        assert [c.name for c in problem.conditions] == list(expected)
        for c in problem.conditions:
            axis, value = expected[c.name]
            want = lo + unit * (hi - lo)
            want[:, axis] = value
            np.testing.assert_array_equal(c.points, want)


def test_problems_are_consistent_with_their_references(x64):
    # each benchmark's own residual vanishes on its exact solution (closed forms)
    for name, fn in (
        ("diffusion", lambda x: jnp.exp(-x[:, 0]) * jnp.sin(jnp.pi * x[:, 1])),
        ("helmholtz", lambda x: jnp.sin(jnp.pi * x[:, 0]) * jnp.sin(4 * jnp.pi * x[:, 1])),
    ):
        problem, exact = pdes.PROBLEMS[name](), fn
        x = jnp.asarray(pde.sobol(64, problem.lo, problem.hi))
        np.testing.assert_allclose(problem.residual(exact, x), 0.0, atol=1e-9)
        for c in problem.conditions:
            np.testing.assert_allclose(c.residual(exact, jnp.asarray(c.points)), 0.0, atol=1e-12)
        assert problem.relative_l2(lambda z, f=fn: np.asarray(f(jnp.asarray(z)))) < 1e-12


def test_train_grid_updates_stop_at_until_and_follow_resampling(monkeypatch):
    """Updates fall every ``grid_update_every`` steps from ``grid_update_start`` (default 0) up
    to ``grid_update_until``; a RAD resampling moves the grids to the new points; Nesterov
    reaches the optimiser."""
    calls = []
    update = kf.grid.update
    monkeypatch.setattr(kf.grid, "update", lambda *a, **k: calls.append(1) or update(*a, **k))
    problem = pdes.diffusion()
    model = kf.models.KAN((2, 3, 1), grid_size=3, use_bias=True)
    common = dict(collocation=64, resample_pool=256, eval_every=3, quiet=True)
    runs = {}
    for nesterov in (False, True):
        calls.clear()
        runs[nesterov] = pde.train(
            problem,
            model,
            8,
            grid_update_every=2,
            grid_update_until=4,
            resample_at=(5,),
            nesterov=nesterov,
            **common,
        )
        assert len(calls) == 4  # steps 0, 2 and 4, then the resampling at 5 (not 6)
    a, b = (runs[n].variables["params"]["layer_0"]["coef"] for n in (False, True))
    assert not np.allclose(a, b)
    # every 3 from start, to until: (1, 2): step 1; (7, 8): step 7; (2, 9): steps 2, 5, 8
    for start, until, want in ((1, 2, 1), (7, 8, 1), (2, 9, 3)):
        calls.clear()
        pde.train(
            problem,
            model,
            10,
            grid_update_every=3,
            grid_update_until=until,
            grid_update_start=start,
            **common,
        )
        assert len(calls) == want, (start, until, len(calls))
    for bad in (dict(grid_update_every=0), dict(grid_update_every=2, grid_update_start=-1)):
        with pytest.raises(ValueError, match="grid_update_every must be >= 1"):
            pde.train(problem, model, 2, **bad, **common)
    refused = [
        (dict(grid_update_every=2, grid_update_start=5, grid_update_until=3), "no grid update"),
        (dict(rba_gamma=1.0), "rba_gamma must be in"),
        (dict(rba_eta=-1e-4), "rba_eta > 0"),
        (dict(learning_rate=-1e-3), "learning_rate must be > 0"),
    ]
    for bad, match in refused:
        with pytest.raises(ValueError, match=match):
            pde.train(problem, model, 8, **bad, **common)


def test_train_fits_the_grids_to_the_points_before_the_first_step():
    problem = pdes.diffusion()
    model = kf.models.KAN((2, 3, 1), grid_size=3, use_bias=True, grid_range=(-1.0, 1.0))
    kw = dict(collocation=64, eval_every=1, quiet=True, seed=2, optimizer=optax.set_to_zero())
    start = model.init(jax.random.key(2), jnp.zeros((1, 2)))
    x = jnp.asarray(pde.sobol(64, problem.lo, problem.hi, 2), jnp.float32)
    knots = {}
    for margin in (0.0, 0.3):  # the uniform part's margin reaches kf.grid.update
        want = kf.grid.update(model, start, x, grid_eps=0.05, margin=margin)[1]
        got = pde.train(problem, model, 1, grid_update_every=5, grid_margin=margin, **kw).variables
        for l in ("layer_0", "layer_1"):
            # knots span about [-1.3, 1.3], 0.2 apart: float32 rounding, absolute (one lies near 0)
            np.testing.assert_allclose(got["grid"][l]["knots"], want["grid"][l]["knots"], atol=1e-6)
            np.testing.assert_allclose(
                got["params"][l]["coef"], want["params"][l]["coef"], atol=1e-6
            )
        knots[margin] = want["grid"]["layer_0"]["knots"]
    assert not np.allclose(knots[0.3], knots[0.0])
    # the data's t lies in [0, 1]: the fitted knots of input t are not the uniform (-1, 1) ones
    assert not np.allclose(got["grid"]["layer_0"]["knots"][0], start["grid"]["layer_0"]["knots"][0])


def test_train_starts_from_given_variables():
    problem = pdes.diffusion()
    model = kf.models.KAN((2, 3, 1), grid_size=3, use_bias=True)
    kw = dict(collocation=64, eval_every=2, quiet=True, seed=1, optimizer=optax.set_to_zero())
    start = model.init(jax.random.key(7), jnp.zeros((1, 2)))
    start = {**start, "params": jax.tree.map(lambda a: 2 * a, start["params"])}
    got = pde.train(problem, model, 2, variables=start, **kw).variables
    jax.tree.map(np.testing.assert_array_equal, got, start)
    wrong = kf.models.KAN((2, 4, 1), grid_size=3, use_bias=True)
    with pytest.raises(ValueError, match="variables must have"):
        pde.train(problem, wrong, 2, variables=start, **kw)


def test_train_uses_the_given_optimizer():
    # an optimiser that never moves the parameters leaves the initial network
    problem = pdes.diffusion()
    model = kf.models.KAN((2, 3, 1), grid_size=3, use_bias=True)
    kw = dict(collocation=64, eval_every=2, quiet=True, seed=3)
    frozen = pde.train(problem, model, 4, optimizer=optax.set_to_zero(), **kw)
    start = model.init(jax.random.key(3), jnp.zeros((1, 2)))["params"]
    same = lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    jax.tree.map(same, frozen.variables["params"], start)
    moved = pde.train(problem, model, 4, **kw)  # Adam: steps of about 1e-3
    coef = moved.variables["params"]["layer_0"]["coef"]
    assert np.abs(coef - start["layer_0"]["coef"]).max() > 1e-4


def test_train_diffusion_with_extension_and_resampling():
    problem = pdes.diffusion()
    model = kf.models.KAN((2, 4, 1), grid_size=3, use_bias=True, grid_range=(-1.0, 1.0))
    result = pde.train(
        problem,
        model,
        300,
        learning_rate=1e-2,
        collocation=256,
        grid_sizes={0: 3, 150: 6},
        grid_update_every=50,
        resample_at=(200,),
        resample_pool=1024,
        eval_every=50,
        quiet=True,
    )
    assert result.model.grid_size == 6
    assert result.variables["params"]["layer_0"]["coef"].shape[1] == 6 + 3
    assert result.history["step"] == [50, 100, 150, 200, 250, 300]
    # measured: 0.33 at step 50, 0.081 at 300; the untrained network's error must fall 5x
    start = model.init(jax.random.key(0), jnp.zeros((1, 2)))
    untrained = problem.relative_l2(lambda z: np.asarray(model.apply(start, z))[:, 0])
    assert result.l2 < untrained / 5, (untrained, result.history["l2"])
    assert np.isfinite(result.u(problem.eval_points[:5])).all()
    with pytest.raises(ValueError, match="must lie in"):
        pde.train(problem, model, 10, grid_sizes={20: 6})


def test_causal_weights_and_loss_against_a_loop(x64):
    rng = np.random.default_rng(0)
    losses = rng.uniform(0, 2, 7)
    for eps in (0.0, 0.3, 5.0):
        want = [np.exp(-eps * sum(losses[:i])) for i in range(7)]
        np.testing.assert_allclose(pde.causal_weights(jnp.asarray(losses), eps), want, rtol=1e-13)
    grad = jax.grad(lambda l: pde.causal_weights(l, 1.0).sum())(jnp.asarray(losses))
    assert float(jnp.abs(grad).sum()) == 0.0  # the weights carry no gradient
    # uneven slices, one empty: mean over the non-empty slices of w_i * (mean of slice i)
    sq = rng.uniform(0, 1, 40)
    slices = rng.choice([0, 1, 3, 4], 40, p=[0.1, 0.2, 0.3, 0.4])
    got, w = pde._causal_loss(jnp.asarray(sq), jnp.asarray(slices), 5, jnp.asarray(0.7))
    means = [sq[slices == i].mean() if (slices == i).any() else 0.0 for i in range(5)]
    w_loop = [np.exp(-0.7 * sum(means[:i])) for i in range(5)]
    want = sum(w_loop[i] * means[i] for i in (0, 1, 3, 4)) / 4
    np.testing.assert_allclose(got, want, rtol=1e-13)
    np.testing.assert_allclose(w, w_loop, rtol=1e-13)
    t = jnp.asarray([[0.0, 5.0], [0.249, 0.0], [0.25, 0.0], [0.999, 0.0], [1.0, 0.0]])
    np.testing.assert_array_equal(pde._time_slices(t, 0, 0.0, 1.0, 4), [0, 0, 1, 3, 3])


def test_train_causal():
    """eps = 0 with equally filled slices is plain training; the eps ladder climbs one rung
    per step while every weight exceeds the tolerance; bad arguments are named."""
    problem = pdes.diffusion()
    model = kf.models.KAN((2, 3, 1), grid_size=3, use_bias=True)
    kw = dict(collocation=64, eval_every=1, quiet=True, seed=4, learning_rate=1e-2)
    plain = pde.train(problem, model, 3, **kw)
    flat = pde.train(problem, model, 3, causal_axis=0, causal_slices=8, causal_eps=(0.0,), **kw)
    # 64 scrambled Sobol points put 8 in each eighth of t
    np.testing.assert_allclose(flat.history["loss"], plain.history["loss"], rtol=1e-5)
    assert flat.history["causal_min_weight"] == [1.0] * 3
    ladder = (0.0, 1e-3, 2e-3)
    climb = pde.train(problem, model, 4, causal_axis=0, causal_eps=ladder, causal_tol=1e-30, **kw)
    assert climb.history["causal_eps"] == [0.0, 1e-3, 2e-3, 2e-3]
    steep = pde.train(problem, model, 3, causal_axis=0, causal_eps=(1e4,), **kw)
    assert steep.history["causal_eps"] == [1e4] * 3
    assert max(steep.history["causal_min_weight"]) < 1e-3  # late slices switched off
    assert not np.allclose(steep.history["loss"][1:], plain.history["loss"][1:], rtol=1e-3)
    for bad, match in [
        (dict(causal_axis=2), "causal_axis"),
        (dict(causal_axis=0, causal_eps=()), "causal_eps"),
        (dict(causal_axis=0, causal_slices=0), "causal_slices"),
        (dict(causal_axis=0, causal_tol=0.0), "causal_tol"),
    ]:
        with pytest.raises(ValueError, match=match):
            pde.train(problem, model, 2, **bad, **kw)


def test_train_resumes_from_a_checkpoint_exactly(tmp_path, monkeypatch):
    """Interrupted after 6 of 12 steps (just before the grid extension at step 6, between
    two resamplings, on a climbing causal ladder), a second call continues from step 6 and
    ends bitwise where the uninterrupted run ends; checkpoints of another run or further
    along are refused."""
    problem = pdes.diffusion()
    model = kf.models.KAN((2, 3, 1), grid_size=3, use_bias=True, grid_range=(-1.0, 1.0))
    ladder = tuple(1e-3 * k for k in range(12))  # one rung per step: the rung is state
    kw = dict(
        collocation=64,
        grid_sizes={0: 3, 6: 4},
        grid_update_every=4,
        resample_at=(5, 9),
        resample_pool=256,
        causal_axis=0,
        causal_eps=ladder,
        causal_tol=1e-30,
        eval_every=1,
        learning_rate=1e-2,
    )
    whole = pde.train(problem, model, 12, quiet=True, **kw)
    starts = []

    class InterruptAt6(pde.tqdm):
        def __init__(self, *args, **kwargs):
            starts.append(kwargs["initial"])
            super().__init__(*args, **kwargs)

        def update(self, n=1):
            super().update(n)
            if self.n == 6 and len(starts) == 1:  # the first call only
                raise KeyboardInterrupt

    monkeypatch.setattr(pde, "tqdm", InterruptAt6)
    ckpt = dict(checkpoint_dir=tmp_path / "ckpt", checkpoint_every=4)
    with pytest.raises(KeyboardInterrupt):
        pde.train(problem, model, 12, **ckpt, **kw)
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["4", "6"]
    resumed = pde.train(problem, model, 12, **ckpt, **kw)
    assert starts == [0, 6]
    assert resumed.model.grid_size == 4
    assert resumed.history == whole.history
    assert resumed.history["causal_eps"] == list(ladder)
    same = jax.tree.map(np.array_equal, resumed.variables, whole.variables)
    assert all(jax.tree.leaves(same))
    wider = kf.models.KAN((2, 4, 1), grid_size=3, use_bias=True, grid_range=(-1.0, 1.0))
    refused = [
        (dict(seed=1), "another run's: seed 0 there, 1 here"),
        (dict(model=wider), "another run's: shapes"),
        (dict(rba_eta=1e-3), "another run's: rba"),
        (dict(steps=10), "is past steps=10"),
        (dict(resample_at=(5, 10)), "another schedule"),
        (dict(learning_rate=optax.linear_schedule(1e-2, 0.0, 100)), "another schedule"),
    ]
    for bad, match in refused:
        args = {"model": model, "steps": 12, **kw, **bad}
        with pytest.raises(ValueError, match=f"the checkpoint in .* \\(step 12\\) .*{match}"):
            pde.train(problem, **args, **ckpt, quiet=True)
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["12", "8"]  # refused, not set aside
    # a longer run that shares the schedule up to step 12 continues from it
    longer = dict(kw, resample_at=(5, 9, 14))
    longer_run = pde.train(problem, model, 16, **ckpt, **longer)
    assert starts[-1] == 12 and longer_run.history["step"][-1] == 16
    # starting afresh sets the earlier run's checkpoints aside, so a resume finds this run's
    before = sorted(os.listdir(tmp_path / "ckpt"))
    other = kw | dict(grid_sizes={}, resample_at=())
    with pytest.warns(RuntimeWarning, match="held checkpoints of an earlier run"):
        pde.train(problem, model, 1, **other, **ckpt, resume=False)
    assert starts[-1] == 0
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["1"] + [f"{s}.superseded" for s in before]
    pde.train(problem, model, 1, **other, **ckpt)
    assert starts[-1] == 1
