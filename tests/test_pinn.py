"""Quantum wells: potentials, reference solvers (closed forms, cross-checks), the PINN."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import kanflow as kf
from kanflow import pinn

PI2 = np.pi**2


def test_piecewise_regions_jumps_and_values():
    v = pinn.Piecewise([(0.6, 0.8, 5.0), (0.1, 0.3, -2.0)])
    assert v.regions == ((0, 0.1, 0), (0.1, 0.3, -2), (0.3, 0.6, 0), (0.6, 0.8, 5), (0.8, 1, 0))
    assert v.jumps == (0.1, 0.3, 0.6, 0.8)
    x = jnp.array([0.05, 0.2, 0.5, 0.7, 0.9])
    np.testing.assert_array_equal(v(x), [0, -2, 0, 5, 0])
    well = pinn.FiniteWell(10.0)
    np.testing.assert_array_equal(well(jnp.array([0.1, 0.5, 0.9])), [10, 0, 10])
    assert pinn.Barrier(7.0).bounds == (0.0, 7.0)


def test_potential_errors():
    with pytest.raises(TypeError, match="callable"):
        pinn.Potential(3.0)
    with pytest.raises(ValueError, match="not finite on"):
        pinn.Potential(lambda x: 1 / (x - 0.5) ** 2 * jnp.where(x == 0.5, jnp.inf, 1))
    with pytest.raises(ValueError, match="overlap"):
        pinn.Piecewise([(0.1, 0.5, 1.0), (0.4, 0.6, 2.0)])
    with pytest.raises(ValueError, match="0 <= x0 < x1 <= 1"):
        pinn.Piecewise([(0.5, 1.5, 1.0)])
    assert pinn.Potential(lambda x: x, jumps=(0.0, 0.5, 1.0)).jumps == (0.5,)  # walls dropped
    for bad in (1.5, -0.2, float("nan")):  # were dropped without a word
        with pytest.raises(ValueError, match="jumps must lie in"):
            pinn.Potential(lambda x: x, jumps=(0.5, bad))


@pytest.mark.parametrize(
    "solver,rtol", [(pinn.exact_piecewise, 1e-12), (pinn.finite_differences, 1e-8)]
)
def test_reference_solvers_closed_forms(solver, rtol):
    # (FD's floor is round-off in the 1/h^2 entries, ~1e-9 relative at its default grid)
    expected = PI2 * np.arange(1, 5) ** 2
    np.testing.assert_allclose(solver(pinn.InfiniteWell(), 4), expected, rtol=rtol)
    # a constant potential shifts every level by its value
    shifted = pinn.Piecewise([(0.0, 1.0, 3.5)])
    np.testing.assert_allclose(solver(shifted, 3), expected[:3] + 3.5, rtol=rtol)


@pytest.mark.parametrize(
    "potential", [pinn.FiniteWell(50.0), pinn.Barrier(100.0), pinn.Barrier(10.0)]
)
def test_exact_and_finite_differences_agree(potential):
    # FD is first order at jumps that miss the grid: the error halves with the spacing
    # (measured 2.2e-5 / 8.2e-5 / 3.7e-5 at 16000 points, 1.1e-5 / 4.1e-5 / 1.8e-5 at 32000)
    exact = pinn.exact_piecewise(potential, 3)
    coarse, fine = (pinn.finite_differences(potential, 3, n_points=n) for n in (16000, 32000))
    np.testing.assert_allclose(coarse, exact, rtol=1e-4)
    err_coarse, err_fine = (np.max(np.abs(fd - exact) / exact) for fd in (coarse, fine))
    assert 0.4 < err_fine / err_coarse < 0.6  # first-order convergence towards the exact values
    assert np.all(np.diff(exact) > 0)


def test_finite_differences_converge_on_smooth_potential():
    harmonic = pinn.Potential(lambda x: 200.0 * (x - 0.5) ** 2, "harmonic")
    coarse = pinn.finite_differences(harmonic, 3, n_points=1000)
    fine = pinn.finite_differences(harmonic, 3, n_points=4000)
    np.testing.assert_allclose(coarse, fine, rtol=5e-9)  # Richardson: fourth order (to round-off)


@pytest.mark.parametrize("potential", [pinn.FiniteWell(50.0), pinn.Barrier(100.0)])
def test_reference_wavefunctions_solve_the_equation(potential):
    x, h = np.linspace(0.0, 1.0, 4001, retstep=True)
    energies = pinn.reference_energies(potential, 3)
    psis = [pinn.reference_wavefunction(potential, n, x) for n in range(3)]
    gram = np.array([[np.trapezoid(a * b, x) for b in psis] for a in psis])
    np.testing.assert_allclose(gram, np.eye(3), atol=1e-6)
    for n, psi in enumerate(psis):
        assert psi[0] == 0 and abs(psi[-1]) < 1e-8 and psi[1] > 0
        d2 = (psi[2:] - 2 * psi[1:-1] + psi[:-2]) / h**2
        v = np.asarray(potential(jnp.asarray(x[1:-1])))
        away = np.min(np.abs(x[1:-1, None] - np.array(potential.jumps)), axis=1) > 2 * h
        residual = (-d2 + (v - energies[n]) * psi[1:-1])[away]
        assert np.max(np.abs(residual)) < 1e-3 * energies[n]


def test_derivatives_and_rayleigh_closed_form(x64):
    x = jnp.linspace(0.0, 1.0, 7)
    f, d1, d2 = pinn.derivatives(lambda x: jnp.sin(3 * x), x)
    np.testing.assert_allclose(d1, 3 * np.cos(3 * x), rtol=1e-12)
    np.testing.assert_allclose(d2, -9 * np.sin(3 * x), rtol=1e-12, atol=1e-12)
    nodes, weights = pinn.composite_gauss((0.3,), order=16, pieces=4)
    np.testing.assert_allclose(weights.sum(), 1.0, rtol=1e-14)
    q = pinn.rayleigh_quotient(
        lambda x: jnp.sin(2 * np.pi * x), jnp.zeros_like(nodes), nodes, weights
    )
    np.testing.assert_allclose(q, 4 * PI2, rtol=1e-12)


def _l2(psi, ref):
    x = np.linspace(0.0, 1.0, 2001)
    return np.sqrt(np.trapezoid((psi(x) - ref(x)) ** 2, x))


def _finite_well_transcendental(v0, n_states):
    """Finite well V = 0 on (1/4, 3/4), v0 on the 1/4-wide sides (hard walls at 0 and 1).

    Inside ``cos`` (even) or ``sin`` (odd) of ``k (x - 1/2)``, ``k = sqrt(E)``; in a side,
    the solution vanishing at the wall: value ``O = sinh(q/4)/q`` and slope ``O' = cosh(q/4)``
    at ``x = 1/4`` with ``q = sqrt(v0 - E)`` (``sin``/``cos`` with ``sqrt(E - v0)`` above
    the sides). Matching the log-derivative (the classic ``k tan(k a) = kappa``, with
    ``coth`` for the wall): even ``O' cos(k/4) - O k sin(k/4) = 0``, odd
    ``O' sin(k/4) + O k cos(k/4) = 0``.
    """
    import scipy.optimize

    def side(e):
        q = np.sqrt(abs(v0 - e))
        if e < v0:
            return np.sinh(q / 4) / q, np.cosh(q / 4)
        return np.sin(q / 4) / q, np.cos(q / 4)

    def even(e):
        value, slope = side(e)
        return slope * np.cos(np.sqrt(e) / 4) - value * np.sqrt(e) * np.sin(np.sqrt(e) / 4)

    def odd(e):
        value, slope = side(e)
        return slope * np.sin(np.sqrt(e) / 4) + value * np.sqrt(e) * np.cos(np.sqrt(e) / 4)

    grid = np.linspace(1e-6, v0 + 200.0, 30001)
    grid = grid[np.abs(grid - v0) > 1e-6]
    roots = []
    for f in (even, odd):
        vals = np.array([f(e) for e in grid])
        for i in np.nonzero(np.sign(vals[:-1]) != np.sign(vals[1:]))[0]:
            roots.append(scipy.optimize.brentq(f, grid[i], grid[i + 1], xtol=1e-14, rtol=1e-15))
    return np.sort(roots)[:n_states]


def test_exact_piecewise_matches_the_transcendental_equation():
    for v0 in (100.0, 300.0):  # at 100 the third state lies above the sides
        well = pinn.FiniteWell(v0)
        np.testing.assert_allclose(
            pinn.exact_piecewise(well, 3), _finite_well_transcendental(v0, 3), rtol=1e-11
        )


def test_ritz_pairs_match_scipy_generalised_eigh(x64):
    # a polynomial basis x (1 - x) x^j, a non-constant V and a duplicated (dependent) column
    import scipy.linalg

    pot = pinn.Piecewise([(0.2, 0.5, 40.0), (0.7, 0.9, 7.0)])
    nodes, weights = pinn.composite_gauss(pot.jumps, 24, 4)
    v = np.asarray(pot(jnp.asarray(nodes)))
    j = np.arange(6)
    phi = nodes[:, None] * (1 - nodes[:, None]) * nodes[:, None] ** j
    dphi = ((1 - 2 * nodes[:, None]) * nodes[:, None] ** j) + (
        nodes[:, None] * (1 - nodes[:, None]) * j * nodes[:, None] ** np.maximum(j - 1, 0)
    )
    s = phi.T @ (weights[:, None] * phi)
    h = dphi.T @ (weights[:, None] * dphi) + phi.T @ ((weights * v)[:, None] * phi)
    expected = scipy.linalg.eigh(h, s, eigvals_only=True)[:3]
    dup = lambda a: np.concatenate([a, a[:, :1]], axis=1)  # a dependent column is dropped
    e, c = pinn.ritz.ritz_pairs(
        jnp.asarray(dup(phi)), jnp.asarray(dup(dphi)), jnp.asarray(weights), jnp.asarray(v), 3
    )
    np.testing.assert_allclose(e, expected, rtol=1e-9)
    gram = np.asarray(c).T @ dup(phi).T @ (weights[:, None] * dup(phi)) @ np.asarray(c)
    np.testing.assert_allclose(gram, np.eye(3), atol=1e-9)  # S-orthonormal
    # each Ritz vector's Rayleigh quotient is its Ritz value
    q = pinn.ritz.rayleigh_quotients(
        dup(phi) @ np.asarray(c), dup(dphi) @ np.asarray(c), jnp.asarray(weights), jnp.asarray(v)
    )
    np.testing.assert_allclose(q, expected, rtol=1e-9)


@pytest.mark.parametrize("kind", ["mlp", "kan"])
def test_head_features_reproduce_the_network(x64, kind):
    net = kf.models.wavefunction(kind, jumps=(0.3,))
    x = jnp.linspace(0.0, 1.0, 37)
    variables = net.init(jax.random.key(1), x)
    rest = {k: v for k, v in variables.items() if k != "params"}
    params = variables["params"]
    psi_of = jax.jit(lambda p, x: net.apply({"params": p, **rest}, x))
    path = pinn.ritz.head_path(params)
    assert path[-1] == {"mlp": "dense_3", "kan": "layer_1"}[kind]
    phi, dphi, unravel = pinn.ritz.head_features(psi_of, params, path, x)
    theta = jax.random.normal(jax.random.key(2), (phi.shape[1],), jnp.float64)
    moved = pinn.ritz.set_head(params, path, unravel(theta))
    np.testing.assert_allclose(phi @ theta, psi_of(moved, x), rtol=1e-12, atol=1e-14)
    # the x-derivative against central differences of the network itself
    h = 1e-6
    fd = (psi_of(moved, x + h) - psi_of(moved, x - h)) / (2 * h)
    np.testing.assert_allclose(dphi @ theta, fd, rtol=1e-6, atol=1e-7)


def test_ritz_loss_gradient_is_the_derivative_of_the_ritz_sum(x64):
    # the loss holds the solved output layer constant (envelope theorem): its gradient must
    # still be the derivative of the sum of the two lowest Ritz values, checked by differences
    pot = pinn.Barrier(60.0)
    net = kf.models.wavefunction("mlp", hidden=(6,), jumps=pot.jumps)
    nodes, weights = map(jnp.asarray, pinn.composite_gauss(pot.jumps, 16, 4))
    v = pot(nodes)
    params = net.init(jax.random.key(0), nodes)["params"]
    psi_of = lambda p, x: net.apply({"params": p}, x)
    path = pinn.ritz.head_path(params)
    loss = jax.jit(pinn.ritz.ritz_loss(psi_of, path, nodes, weights, v, 2))

    def ritz_sum(p):
        phi, dphi, _ = pinn.ritz.head_features(psi_of, p, path, nodes)
        return jnp.sum(pinn.ritz.ritz_pairs(phi, dphi, weights, v, 2)[0])

    np.testing.assert_allclose(loss(params), ritz_sum(params), rtol=1e-12)
    grad = jax.grad(loss)(params)
    direction = jax.tree.map(
        lambda a: jax.random.normal(jax.random.key(a.size), a.shape, a.dtype), params
    )
    eps = 1e-5
    shift = lambda t: jax.tree.map(lambda a, d: a + t * d, params, direction)
    fd = (ritz_sum(shift(eps)) - ritz_sum(shift(-eps))) / (2 * eps)
    directional = sum(
        jnp.vdot(g, d) for g, d in zip(*map(jax.tree.leaves, (grad, direction)), strict=True)
    )
    np.testing.assert_allclose(directional, fd, rtol=1e-6)


def test_check_quadrature_sees_a_ramp_hidden_from_the_training_nodes(x64):
    # psi flat at every training node, dropping to 0 within 1e-6 of the walls: the training
    # rule's Rayleigh quotient is ~0 (far below pi^2, impossible), the check rule's is huge
    ramp = lambda x: jnp.tanh(x / 1e-6) * jnp.tanh((1 - x) / 1e-6)
    train = pinn.composite_gauss((), 32, 8)
    check = pinn.check_quadrature((), 32, 8)
    q_train, q_check = (
        pinn.rayleigh_quotient(ramp, jnp.zeros(n.size), jnp.asarray(n), jnp.asarray(w))
        for n, w in (train, check)
    )
    assert q_train < 1e-3 and q_check > 1e3


@pytest.mark.parametrize("kind", ["mlp", "kan"])
def test_solve_states_finite_well_meets_the_targets(kind):
    # default call, states 0-2 together; references from the transcendental equation
    well = pinn.FiniteWell(100.0)
    ref = _finite_well_transcendental(100.0, 3)
    results = pinn.solve_states(well, 3, kind)
    for r in results:
        assert abs(r.energy - ref[r.state]) / ref[r.state] < (1e-6 if r.state == 0 else 1e-5)
        ref_psi = lambda x, n=r.state: pinn.reference_wavefunction(well, n, x)
        assert _l2(r.psi, ref_psi) < 1e-4
        assert r.residual < 1e-2
    assert np.all(np.diff([r.energy for r in results]) > 0)
    # orthogonal without a penalty: the Ritz vectors share one network
    nodes, weights = pinn.composite_gauss(well.jumps, 32, 8)
    gram = [[np.sum(weights * a.psi(nodes) * b.psi(nodes)) for b in results] for a in results]
    np.testing.assert_allclose(gram, np.eye(3), atol=1e-8)


def test_solve_steep_harmonic_oscillator_closed_form():
    # V = a (x - 1/2)^2 with a = 2e4: the walls sit 6 oscillator lengths away, so
    # E_n = sqrt(a) (2n + 1) to far below the target (measured 1e-14 with the RBF KAN; the
    # tanh MLP learns such narrow states slowly: 2e-3 when it stops, see the README)
    a = 2.0e4
    harmonic = pinn.Potential(lambda x: a * (x - 0.5) ** 2, "steep harmonic")
    r = pinn.solve(harmonic, state=1, model="kan")
    assert abs(r.energy - 3 * np.sqrt(a)) / (3 * np.sqrt(a)) < 1e-5
    assert r.state == 1 and abs(r.trained_energy - r.energy) < 1e-6 * r.energy


@pytest.mark.parametrize("seed", [4, 11])
def test_solve_random_piecewise_potentials(seed):
    # drawn from the seeded family the README table reports on (states 0-2, MLP)
    pot = pinn.random_piecewise(seed)
    ref = pinn.reference_energies(pot, 3)
    for r in pinn.solve_states(pot, 3):
        assert abs(r.energy - ref[r.state]) / ref[r.state] < (1e-6 if r.state == 0 else 1e-5)
        assert _l2(r.psi, lambda x, n=r.state: pinn.reference_wavefunction(pot, n, x)) < 1e-4


def test_random_potential_families_are_seeded_and_in_range():
    for seed in range(30):
        p = pinn.random_piecewise(seed)
        assert p.regions == pinn.random_piecewise(seed).regions
        assert 1 <= len(p.regions) <= 6 and 0 <= p.bounds[0] and p.bounds[1] <= 500
        assert min(b - a for a, b, _ in p.regions) >= 0.02 - 1e-4
        s = pinn.random_smooth(seed)
        x = jnp.linspace(0, 1, 11)
        np.testing.assert_array_equal(s(x), pinn.random_smooth(seed)(x))
    assert pinn.random_piecewise(0).regions != pinn.random_piecewise(1).regions
    with pytest.raises(ValueError, match="min_width"):
        pinn.random_piecewise(0, max_pieces=6, min_width=0.5)


def test_residual_method_infinite_well_ground_state():
    # the paper's loss; E is fixed at pi^2 here: the trained psi is checked at the targets
    r = pinn.solve(pinn.InfiniteWell(), state=0, steps=400, method="residual")
    assert abs(r.energy - PI2) / PI2 < 1e-6
    assert r.trained_energy == PI2
    assert _l2(r.psi, lambda x: np.sqrt(2) * np.sin(np.pi * x)) < 1e-4
    assert r.history["phase"][0] == "ritz" and r.history["phase"][-1] == "residual"


def test_residual_method_first_excited_state_orthogonal_to_ground():
    barrier = pinn.Barrier(50.0)
    ref = pinn.reference_energies(barrier, 2)
    ground = pinn.solve(barrier, state=0, steps=600, method="residual")
    first = pinn.solve(barrier, state=1, steps=600, lower=[ground], method="residual")
    # the checked Rayleigh quotients: measured 5.8e-7 and 1.8e-6 after 600 steps, but the
    # ground state's 3.3e-6 where XLA compiles at LLVM level 0 (as the tests do): a 600-step
    # residual solve's end point moves with rounding, so both get the excited target, 1e-5.
    # The trainable E lags them (measured 5.9e-5, 1.4e-5): relaxed, measured bounds
    for r, e in ((ground, ref[0]), (first, ref[1])):
        assert abs(r.energy - e) / e < 1e-5
        assert abs(r.trained_energy - e) / e < 2e-4
    nodes, weights = pinn.composite_gauss(barrier.jumps, 32, 8)
    assert abs(np.sum(weights * ground.psi(nodes) * first.psi(nodes))) < 5e-4


def test_solve_errors_and_divergence():
    with pytest.raises(ValueError, match="state must be"):
        pinn.solve(pinn.InfiniteWell(), state=-1)
    with pytest.raises(ValueError, match="steps must be"):
        pinn.solve(pinn.InfiniteWell(), steps=0)
    with pytest.raises(TypeError, match="callable"):
        pinn.solve("well")
    with pytest.raises(ValueError, match="method must be"):
        pinn.solve(pinn.InfiniteWell(), method="galerkin")
    with pytest.raises(ValueError, match="lower, energy_every: only for method='residual'"):
        pinn.solve(pinn.InfiniteWell(), lower=[], energy_every=5)
    with pytest.raises(ValueError, match="check_every, patience: only for method='ritz'"):
        pinn.solve(pinn.InfiniteWell(), method="residual", check_every=0, patience=5)
    # with patience < check_every the stall test would compare a value with itself
    with pytest.raises(ValueError, match="patience must be >= check_every, got 5 < 10"):
        pinn.solve(pinn.InfiniteWell(), patience=5)
    # finite on the probe grid but NaN near the wall, where only quadrature nodes land
    sneaky = pinn.Potential(lambda x: jnp.where((x > 0.9997) & (x < 0.9999), jnp.nan, 0.0))
    with pytest.raises(ValueError, match="not finite at the quadrature nodes"):
        pinn.solve(sneaky, steps=10)
    with pytest.raises(FloatingPointError, match=r"diverged at step 0 .*last finite energy"):
        pinn.solve(sneaky, steps=10, method="residual")


def test_wavefunction_models_vanish_at_walls(x64):
    for kind in ("mlp", "kan"):
        model = kf.models.wavefunction(kind, jumps=(0.4,))
        variables = jax.jit(model.init)(jax.random.key(0), jnp.zeros(3))
        psi = jax.jit(model.apply)(variables, jnp.array([0.0, 0.4, 1.0]))
        assert psi[0] == 0 and psi[2] == 0
    with pytest.raises(ValueError, match="model must be"):
        kf.models.wavefunction("cnn")


def test_sign_convention_ignores_round_off_at_the_wall():
    # a state confined far from x = 0: its values near the wall are round-off of either sign
    x = np.linspace(0.0, 1.0, 2001)
    bump = np.exp(-((x - 0.7) ** 2) / 0.002)
    noisy = -bump + np.where(x < 0.2, 1e-30, 0.0)  # psi'(0) > 0 would keep the wrong sign
    assert pinn.reference.leading_sign(noisy) == -1
    assert pinn.reference.leading_sign(jnp.asarray(noisy)) == -1
    confined = pinn.Potential(lambda x: 3e4 * (x - 0.7) ** 2, "confined")
    for n in range(2):
        psi = pinn.reference_wavefunction(confined, n, x)
        first = psi[np.argmax(np.abs(psi) > 1e-3 * np.abs(psi).max())]
        assert first > 0
