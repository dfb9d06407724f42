"""PINN eigen-solvers for ``-psi'' + V psi = E psi`` on ``[0, 1]``, ``psi(0) = psi(1) = 0``.

The wavefunction is ``psi = x (1 - x) N(x)`` for a network ``N`` (MLP or KAN,
:func:`kanflow.models.wavefunction.wavefunction`), so the walls are built in.
Every integral is a composite Gauss-Legendre quadrature split at the jumps of
``V``. Two methods:

``method="ritz"`` (default): Rayleigh-Ritz in the network's own output layer
(:mod:`kanflow.pinn.ritz`). The output layer of ``N`` is linear in its weights,
so for given hidden layers the best weights for the ``n + 1`` lowest states are
*solved* (a generalised eigenproblem on the quadrature), and L-BFGS moves the
hidden layers to lower the sum of those Ritz values. Each Ritz value bounds its
eigenvalue from above, every state comes out orthogonal to the lower ones
without a penalty, and near-degenerate pairs (tunnelling doublets) are resolved
together instead of competing. Every ``check_every`` steps the trained states
are re-integrated on an independent, finer quadrature (graded towards the
walls): training keeps the best iterate on that check and stops when it has
converged, or when the two quadratures disagree by more than ``consistency``
(the network has started to exploit the gaps between training nodes, e.g. a
ramp hidden between the wall and the first node).

``method="residual"``: the loss of arXiv 2504.05367 with quadrature in place of
random collocation::

    L = (int r^2 dx + beta * sum_m (int psi psi_m dx)^2) / int psi^2 dx + log(int psi^2 dx)^2,
    r = -psi'' + V psi - E psi,

after a variational warm start on the Rayleigh quotient (states kept orthogonal
to the lower PINN states by ``beta``), with a trainable ``E`` started from that
quotient. (The residual and overlap terms are those of the normalised psi, since
with the plain residual ``psi = 0`` traps training; the scale is pinned by
``log(norm)^2``.) ``E`` is fixed for the infinite well, as in the paper.

Either way, :attr:`SolveResult.energy` is the Rayleigh quotient of the final
``psi`` on the check quadrature (variational for the ground state; its error is
quadratic in the error of ``psi``), and :attr:`SolveResult.trained_energy` the
value training produced (the Ritz value on the training nodes, or the trainable
``E``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax
from jax import Array
from threadpoolctl import threadpool_limits
from tqdm.auto import tqdm

from kanflow.checks import as_int
from kanflow.models.wavefunction import wavefunction
from kanflow.pinn import ritz
from kanflow.pinn.potentials import InfiniteWell, Potential
from kanflow.pinn.quadrature import composite_gauss
from kanflow.pinn.reference import leading_sign
from kanflow.train.loop import NonFiniteError, fit
from kanflow.train.optim import make_optimizer

__all__ = ["SolveResult", "derivatives", "rayleigh_quotient", "solve", "solve_states"]


@dataclasses.dataclass
class SolveResult:
    """A solved state.

    Attributes:
      state: index n (0 = ground state).
      energy: the solver's best estimate of ``E_n``: the Rayleigh quotient
        ``int (psi'^2 + V psi^2) / int psi^2`` of the final psi on the check
        quadrature (independent of the training nodes).
      trained_energy: what training produced: the Ritz value on the training
        nodes (``method="ritz"``) or the trainable ``E`` (``"residual"``; fixed
        ``(n + 1)^2 pi^2`` for the infinite well).
      residual: ``||-psi'' + (V - energy) psi|| / (|energy| ||psi||)`` on the
        check quadrature (0 for an exact eigenpair).
      psi: ``x [m] -> psi [m]`` (float64 NumPy), normalised, signed as
        :func:`kanflow.pinn.reference_wavefunction` (the first lobe from x = 0
        above 1e-3 of the maximum is positive).
      history: per check (``"ritz"``: ``step``, ``loss`` = sum of the Ritz
        values, ``energy`` = this state's checked energy, ``inconsistency`` = the
        largest relative gap between the two quadratures) or per step
        (``"residual"``: ``step``, ``loss``, ``energy``, ``phase``).
      params, model: the trained network (``params`` gives this state's psi,
        before normalisation).
      wall_time: seconds (compilation included; for states solved together,
        the whole solve).
      stop: why training stopped (``"steps"``, ``"converged"``, ``"inconsistent"``,
        ``"non-finite"``), and at which step the kept iterate was reached.
    """

    state: int
    energy: float
    trained_energy: float
    residual: float
    psi: Callable[[Array], Array]
    history: dict[str, list]
    params: Any
    model: nn.Module
    wall_time: float
    stop: str = "steps"


def derivatives(f: Callable[[Array], Array], x: Array) -> tuple[Array, Array, Array]:
    """``(f, f', f'')`` at ``x [n]`` for a pointwise ``f: [n] -> [n]`` (forward mode)."""
    ones = jnp.ones_like(x)
    first = lambda x: jax.jvp(f, (x,), (ones,))
    (value, d1), (_, d2) = jax.jvp(first, (x,), (ones,))
    return value, d1, d2


def rayleigh_quotient(f: Callable[[Array], Array], v: Array, nodes: Array, weights: Array) -> Array:
    """``int (f'^2 + V f^2) / int f^2`` on the quadrature (``v`` is ``V`` at the nodes)."""
    value, d1 = jax.jvp(f, (nodes,), (jnp.ones_like(nodes),))
    return ritz.rayleigh_quotients(value[:, None], d1[:, None], weights, v)[0]


def _as_potential(potential) -> Potential:
    if isinstance(potential, Potential):
        return potential
    if callable(potential):
        return Potential(potential)
    raise TypeError(
        f"potential must be a kanflow.pinn potential or a callable x -> V(x), "
        f"got {type(potential).__name__}"
    )


def _first_order_energy(potential: Potential, state: int, nodes, weights) -> float:
    k = (state + 1) * np.pi
    v = np.asarray(potential(jnp.asarray(nodes)), dtype=np.float64)
    return float(k**2 + np.sum(weights * 2 * np.sin(k * nodes) ** 2 * v))


def check_quadrature(jumps, order: int, pieces: int) -> tuple[np.ndarray, np.ndarray]:
    """The independent quadrature that results are checked on.

    A different rule from training's (``order + 9`` nodes on ``2 pieces + 5``
    panels), also cut at ``1e-4`` and ``1e-8`` from each wall, so a ramp hidden
    between a wall and the first training node is seen.
    """
    walls = (1e-4, 1e-8, 1 - 1e-4, 1 - 1e-8)
    return composite_gauss(tuple(jumps) + walls, order + 9, 2 * pieces + 5)


def solve(
    potential,
    state: int = 0,
    model: str | nn.Module = "mlp",
    steps: int | None = None,
    seed: int = 0,
    *,
    method: str = "ritz",
    check_every: int | None = None,
    consistency: float | None = None,
    patience: int | None = None,
    ritz_steps: int | None = None,
    energy_every: int | None = None,
    lower: list[SolveResult] | None = None,
    orthogonality: float | None = None,
    quadrature_order: int = 32,
    quadrature_pieces: int = 8,
    quiet: bool = True,
) -> SolveResult:
    """Finds eigenstate ``state`` of ``potential`` with a PINN.

    Args:
      potential: a :mod:`kanflow.pinn` potential, or any callable ``x -> V(x)``
        (wrapped in :class:`Potential`).
      state: n >= 0.
      model: ``"mlp"``, ``"kan"`` or a :class:`~kanflow.models.wavefunction.Wavefunction`.
      steps: the most L-BFGS steps (default 2000 for ``"ritz"``, 3000 for
        ``"residual"``; ``"ritz"`` runs whole blocks of ``check_every``, so it
        rounds ``steps`` up to a multiple of it).
      seed: network initialisation seed.
      method: ``"ritz"`` (states ``0 .. n`` trained together in one network, the
        output layer solved; see the module docstring) or ``"residual"`` (the
        paper's loss, one network per state).
      check_every, consistency, patience: (``"ritz"``, defaults 10, 1e-8 and
        200; ``patience >= check_every``) every ``check_every``
        steps the states are evaluated on the check quadrature; training stops
        when the two quadratures' energies differ by more than ``consistency``
        (relative), or when the sum of Ritz values has not improved by ``1e-12``
        (relative) in ``patience`` steps; either event first restarts L-BFGS
        from the best checked iterate with an empty memory, twice at most (a
        stall is often a failed line search, not the minimum); the best checked
        iterate is kept.
      ritz_steps: (``"residual"``) warm-start steps on the Rayleigh quotient
        (default half).
      energy_every: (``"residual"``) ``E`` is evaluated every this many steps
        (default 50).
      lower: (``"residual"``) solutions of states ``0 .. n - 1`` to reuse.
      orthogonality: (``"residual"``) ``beta``, the overlap penalty's weight
        (default ``10 ((n + 1)^2 pi^2 + max V - min V)``, which exceeds the gap
        ``E_n - E_0``).
      quadrature_order, quadrature_pieces: Gauss-Legendre rule per panel and
        number of equal panels for training (the potential's jumps add cuts).
      quiet: hide the progress bar.

    Returns:
      :class:`SolveResult`.

    Raises:
      ValueError: a bad argument, or a non-finite potential.
      FloatingPointError: (``"residual"``) training diverged.

    Example::

        well = kf.pinn.FiniteWell(50.0)
        r = kf.pinn.solve(well, state=2, model="kan")  # states 0, 1, 2 trained together
        r.energy, r.psi(np.linspace(0, 1, 5))
    """
    if method == "ritz":
        given = {
            "lower": lower,
            "orthogonality": orthogonality,
            "ritz_steps": ritz_steps,
            "energy_every": energy_every,
        }
        if any(v is not None for v in given.values()):
            names = ", ".join(k for k, v in given.items() if v is not None)
            raise ValueError(
                f"{names}: only for method='residual' "
                "(method='ritz' solves the lower states in the same network)"
            )
        return solve_states(
            potential,
            as_int(state, "state", 0) + 1,
            model,
            steps,
            seed,
            check_every=10 if check_every is None else check_every,
            consistency=1e-8 if consistency is None else consistency,
            patience=200 if patience is None else patience,
            quadrature_order=quadrature_order,
            quadrature_pieces=quadrature_pieces,
            quiet=quiet,
        )[-1]
    if method != "residual":
        raise ValueError(f"method must be 'ritz' or 'residual', got {method!r}")
    given = {"check_every": check_every, "consistency": consistency, "patience": patience}
    if any(v is not None for v in given.values()):
        names = ", ".join(k for k, v in given.items() if v is not None)
        raise ValueError(f"{names}: only for method='ritz' (method='residual' has energy_every)")
    return _solve_residual(
        potential,
        state,
        model,
        3000 if steps is None else steps,
        seed,
        ritz_steps=ritz_steps,
        energy_every=50 if energy_every is None else energy_every,
        lower=lower,
        orthogonality=orthogonality,
        quadrature_order=quadrature_order,
        quadrature_pieces=quadrature_pieces,
        quiet=quiet,
    )


def solve_states(
    potential,
    n_states: int,
    model: str | nn.Module = "mlp",
    steps: int | None = None,
    seed: int = 0,
    *,
    check_every: int = 10,
    consistency: float = 1e-8,
    patience: int = 200,
    quadrature_order: int = 32,
    quadrature_pieces: int = 8,
    quiet: bool = True,
) -> list[SolveResult]:
    """States ``0 .. n_states - 1`` from one network by Rayleigh-Ritz (``solve``'s ``"ritz"``).

    Returns:
      One :class:`SolveResult` per state, ascending; they share ``history``,
      ``wall_time`` and ``stop``.
    """
    potential = _as_potential(potential)
    n_states = as_int(n_states, "n_states", 1)
    steps = as_int(2000 if steps is None else steps, "steps", 1)
    check_every = as_int(check_every, "check_every", 1)
    patience = as_int(patience, "patience", 1)
    if patience < check_every:  # it compares the sum of Ritz values with one patience ago
        raise ValueError(f"patience must be >= check_every, got {patience} < {check_every}")
    if not consistency > 0:
        raise ValueError(f"consistency must be > 0, got {consistency}")
    if quadrature_order < 1 or quadrature_pieces < 1:
        raise ValueError(
            f"quadrature_order and quadrature_pieces must be >= 1, "
            f"got {quadrature_order}, {quadrature_pieces}"
        )
    t0 = time.perf_counter()
    # the per-step SVD and eigh are small (m <= ~150): BLAS threads only spin against XLA's
    # (measured 25 s instead of 33 s for a KAN solve on 2 cores)
    with jax.enable_x64(True), threadpool_limits(1, user_api="blas"):
        results = _solve_ritz(
            potential,
            n_states,
            model,
            steps,
            seed,
            check_every,
            consistency,
            patience,
            quadrature_order,
            quadrature_pieces,
            quiet,
        )
    for r in results:
        r.wall_time = time.perf_counter() - t0
    return results


def _finish(net, params, model_state, v_check, nodes, weights):
    """Normalised, sign-fixed psi callable, Rayleigh quotient and residual on the check rule."""
    raw = lambda x: net.apply({"params": params, **model_state}, x)
    value, d1, d2 = derivatives(raw, nodes)
    norm = jnp.sum(weights * value**2)
    energy = ritz.rayleigh_quotients(value[:, None], d1[:, None], weights, v_check)[0]
    res = -d2 + (v_check - energy) * value
    residual = jnp.sqrt(jnp.sum(weights * res**2) / norm) / jnp.abs(energy)
    scale = 1.0 / jnp.sqrt(norm)
    sign = leading_sign(value)  # the check nodes ascend
    compiled = jax.jit(lambda x: sign * scale * raw(x))

    def psi(x) -> np.ndarray:
        with jax.enable_x64(True):  # callable later, outside this function's x64 scope
            return np.asarray(compiled(jnp.asarray(x, jnp.float64).reshape(-1)))

    return psi, float(energy), float(residual)


def _solve_ritz(
    potential: Potential,
    k: int,
    model,
    steps: int,
    seed: int,
    check_every: int,
    consistency: float,
    patience: int,
    order: int,
    pieces: int,
    quiet: bool,
) -> list[SolveResult]:
    net = wavefunction(model, jumps=potential.jumps) if isinstance(model, str) else model
    nodes, weights = map(jnp.asarray, composite_gauss(potential.jumps, order, pieces))
    c_nodes, c_weights = map(jnp.asarray, check_quadrature(potential.jumps, order, pieces))
    v, v_check = (jnp.asarray(potential(z), jnp.float64) for z in (nodes, c_nodes))
    if not (np.all(np.isfinite(np.asarray(v))) and np.all(np.isfinite(np.asarray(v_check)))):
        raise ValueError(f"potential {potential} is not finite at the quadrature nodes")

    variables = jax.jit(net.init)(jax.random.key(seed), nodes)
    model_state = {key: val for key, val in variables.items() if key != "params"}
    params = variables["params"]
    path = ritz.head_path(params)

    def psi_of(p, x):
        return net.apply({"params": p, **model_state}, x)

    loss = ritz.ritz_loss(psi_of, path, nodes, weights, v, k)
    opt = optax.lbfgs()
    value_and_grad = optax.value_and_grad_from_state(loss)

    def step(carry, _):
        p, opt_state = carry
        value, grad = value_and_grad(p, state=opt_state)
        updates, opt_state = opt.update(grad, opt_state, p, value=value, grad=grad, value_fn=loss)
        return (optax.apply_updates(p, updates), opt_state), value

    def solved(p):
        phi, dphi, _ = ritz.head_features(psi_of, p, path, nodes)
        return ritz.ritz_pairs(phi, dphi, weights, v, k)

    @jax.jit
    def run(p, opt_state):
        (p, opt_state), _ = jax.lax.scan(step, (p, opt_state), None, length=check_every)
        energies, coef = solved(p)
        phi, dphi, _ = ritz.head_features(psi_of, p, path, c_nodes)
        checked = ritz.rayleigh_quotients(phi @ coef, dphi @ coef, c_weights, v_check)
        return p, opt_state, energies, coef, checked

    opt_state = opt.init(params)
    history: dict[str, list] = {"step": [], "loss": [], "energies": [], "inconsistency": []}
    best_sum, best, best_step, stop = np.inf, params, 0, "steps"
    best_pairs = None  # (energies, coef) of ``best``
    restarts, since_restart, max_restarts = 0, 0, 2
    bar = tqdm(total=steps, desc=f"states 0-{k - 1}", disable=quiet, dynamic_ncols=True)
    done = 0
    while done < steps:
        params, opt_state, energies, coef, checked = run(params, opt_state)
        done += check_every
        bar.update(check_every)
        energies, checked = np.asarray(energies), np.asarray(checked)
        if not (np.all(np.isfinite(energies)) and np.all(np.isfinite(checked))):
            stop = "non-finite"
            break
        gap = float(np.max(np.abs(checked - energies) / np.abs(checked)))
        history["step"].append(done)
        history["loss"].append(float(energies.sum()))
        history["energies"].append(checked.tolist())
        history["inconsistency"].append(gap)
        bar.set_postfix(E=f"{checked[-1]:.10g}", gap=f"{gap:.1e}")
        if gap > consistency:
            if restarts == max_restarts:
                stop = "inconsistent"
                break
            params, opt_state = best, opt.init(best)  # back to the last trusted iterate
            restarts, since_restart = restarts + 1, len(history["loss"])
            continue
        if checked.sum() < best_sum:
            best_sum, best, best_step = float(checked.sum()), params, done
            best_pairs = (energies, coef)
        back = patience // check_every
        if len(history["loss"]) - since_restart > back:
            then = history["loss"][-back - 1]
            if then - float(energies.sum()) <= 1e-12 * abs(then):
                if restarts == max_restarts:
                    stop = "converged"
                    break
                # L-BFGS can stall (failed line searches) well before the minimum: restart
                # from the best checked iterate with an empty memory
                params, opt_state = best, opt.init(best)
                restarts, since_restart = restarts + 1, len(history["loss"])
    bar.close()

    energies, coef = best_pairs if best_pairs is not None else jax.jit(solved)(best)
    _, unravel = jax.flatten_util.ravel_pytree(ritz.head_leaves(best, path))
    results = []
    for n in range(k):
        p_n = ritz.set_head(best, path, unravel(coef[:, n]))
        psi, energy, residual = _finish(net, p_n, model_state, v_check, c_nodes, c_weights)
        own = {
            "step": history["step"],
            "loss": history["loss"],
            "energy": [e[n] for e in history["energies"]],
            "inconsistency": history["inconsistency"],
        }
        results.append(
            SolveResult(
                n,
                energy,
                float(energies[n]),
                residual,
                psi,
                own,
                p_n,
                net,
                0.0,
                f"{stop} (kept step {best_step})",
            )
        )
    return results


def _solve_residual(
    potential,
    state: int,
    model,
    steps: int,
    seed: int,
    *,
    ritz_steps: int | None,
    energy_every: int,
    lower: list[SolveResult] | None,
    orthogonality: float | None,
    quadrature_order: int,
    quadrature_pieces: int,
    quiet: bool,
) -> SolveResult:
    potential = _as_potential(potential)
    state = as_int(state, "state", 0)
    steps = as_int(steps, "steps", 1)
    energy_every = as_int(energy_every, "energy_every", 1)
    ritz_steps = steps // 2 if ritz_steps is None else ritz_steps
    if not 0 <= ritz_steps <= steps:
        raise ValueError(f"ritz_steps must be in [0, steps], got {ritz_steps}")
    opts = dict(
        model=model,
        steps=steps,
        seed=seed,
        ritz_steps=ritz_steps,
        energy_every=energy_every,
        orthogonality=orthogonality,
        quadrature_order=quadrature_order,
        quadrature_pieces=quadrature_pieces,
        quiet=quiet,
    )
    lower = list(lower or [])
    while len(lower) < state:
        lower.append(_solve_residual(potential, len(lower), lower=lower, **opts))
    t0 = time.perf_counter()
    with jax.enable_x64(True):
        result = _solve_x64(potential, state, lower[:state], **opts)
    result.wall_time = time.perf_counter() - t0
    return result


def _solve_x64(
    potential: Potential,
    state: int,
    lower: list[SolveResult],
    *,
    model,
    steps: int,
    seed: int,
    ritz_steps: int,
    energy_every: int,
    orthogonality: float | None,
    quadrature_order: int,
    quadrature_pieces: int,
    quiet: bool,
) -> SolveResult:
    net = wavefunction(model, jumps=potential.jumps) if isinstance(model, str) else model
    nodes_np, weights_np = composite_gauss(potential.jumps, quadrature_order, quadrature_pieces)
    nodes, weights = jnp.asarray(nodes_np), jnp.asarray(weights_np)
    v = jnp.asarray(potential(nodes), dtype=jnp.float64)
    fixed = isinstance(potential, InfiniteWell)
    e0 = (
        ((state + 1) * np.pi) ** 2
        if fixed
        else _first_order_energy(potential, state, nodes_np, weights_np)
    )
    if orthogonality is None:
        vmin, vmax = potential.bounds
        orthogonality = 10.0 * (((state + 1) * np.pi) ** 2 + vmax - vmin)
    lower_vals = (
        jnp.stack([jnp.asarray(r.psi(nodes)) for r in lower])
        if lower
        else jnp.zeros((0, nodes.size))
    )

    variables = jax.jit(net.init)(jax.random.key(seed), nodes)
    model_state = {k: val for k, val in variables.items() if k != "params"}
    params = {"net": variables["params"]}
    if not fixed:
        params["energy"] = jnp.asarray(e0, jnp.float64)

    def psi_fn(p, ms):
        return lambda x: net.apply({"params": p["net"], **ms}, x)

    def terms(p, ms):
        psi, d1, d2 = derivatives(psi_fn(p, ms), nodes)
        norm = jnp.sum(weights * psi**2)
        overlap = orthogonality * jnp.sum((lower_vals @ (weights * psi)) ** 2) / norm
        rayleigh = jnp.sum(weights * (d1**2 + v * psi**2)) / norm
        # the scale is pinned by log(norm)^2, which the scale-invariant terms cannot trade against
        return psi, d2, norm, overlap + jnp.log(norm) ** 2, rayleigh

    def ritz_loss(p, ms, batch, rng):
        _, _, _, penalty, rayleigh = terms(p, ms)
        return rayleigh + penalty, {"energy": rayleigh}

    def residual_loss(p, ms, batch, rng):
        psi, d2, norm, penalty, _ = terms(p, ms)
        energy = p["energy"] if not fixed else e0
        residual = -d2 + (v - energy) * psi
        return jnp.sum(weights * residual**2) / norm + penalty, {"energy": energy}

    history: dict[str, list] = {"step": [], "loss": [], "energy": [], "phase": []}
    bar = tqdm(total=steps, desc=f"state {state}", disable=quiet, dynamic_ncols=True)
    phases = (("ritz", ritz_loss, ritz_steps), ("residual", residual_loss, steps - ritz_steps))
    for name, loss_fn, n in phases:
        if n == 0:
            continue
        if name == "residual" and not fixed and history["energy"]:
            params["energy"] = jnp.asarray(history["energy"][-1], jnp.float64)
        energy_of = jax.jit(lambda p, ms, loss_fn=loss_fn: loss_fn(p, ms, {}, None)[1])

        def evaluate(p, ms, energy_of=energy_of, name=name) -> dict:
            energy = float(energy_of(p, ms)["energy"])
            bar.set_postfix(phase=name, E=f"{energy:.8g}")
            return {"energy": energy}

        try:
            res = fit(
                loss_fn,
                params,
                lambda step: {},
                optimizer=make_optimizer("lbfgs"),
                steps=n,
                model_state=model_state,
                eval_fn=evaluate,
                eval_every=energy_every,
                callback=lambda step, metrics: bar.update(1),
                quiet=True,
            )
        except NonFiniteError as err:
            last = float(energy_of(err.state.params, model_state)["energy"])
            raise FloatingPointError(
                f"PINN training diverged at step {len(history['step']) + err.step} "
                f"({name} phase); last finite energy {last:.10g}"
            ) from err
        params = res.state.params
        # E after step s (0-based) is the first evaluation at or after update s + 1
        after = np.searchsorted(res.history["eval_step"], np.arange(1, n + 1))
        offset = len(history["step"])
        history["step"].extend(offset + i for i in range(n))
        history["loss"].extend(res.history["loss"])
        history["energy"].extend(np.asarray(res.history["eval_energy"])[after].tolist())
        history["phase"].extend([name] * n)
    bar.close()

    c_nodes, c_weights = map(
        jnp.asarray, check_quadrature(potential.jumps, quadrature_order, quadrature_pieces)
    )
    v_check = jnp.asarray(potential(c_nodes), jnp.float64)
    psi, energy, residual = _finish(net, params["net"], model_state, v_check, c_nodes, c_weights)
    trained = float(params["energy"]) if not fixed else float(e0)
    return SolveResult(state, energy, trained, residual, psi, history, params, net, 0.0)
