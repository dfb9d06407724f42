"""PINN eigen-solver for ``-psi'' + V psi = E psi`` on ``[0, 1]``, ``psi(0) = psi(1) = 0``.

Loss (arXiv 2504.05367, with quadrature in place of random collocation)::

    L = (int r^2 dx + beta * sum_m (int psi psi_m dx)^2) / int psi^2 dx + log(int psi^2 dx)^2,
    r = -psi'' + V psi - E psi,

(the paper's residual + normalisation loss, with two changes: the residual
and overlap terms are those of the normalised psi, since with the plain
residual ``psi = 0`` is a minimum that traps training whenever ``E`` starts
away from an eigenvalue; and the scale is pinned by ``log(norm)^2``, which
those scale-invariant terms cannot trade against, where ``(norm - 1)^2`` let
L-BFGS shrink psi towards zero),

with the integrals on composite Gauss-Legendre nodes split at every jump of
``V`` (so collocation points lie on both sides of each discontinuity and none
on it); ``psi''`` by forward-mode autodiff. ``E`` is fixed for the infinite
well (``(n + 1)^2 pi^2``, as in the paper) and trainable otherwise, starting
from first-order perturbation theory about the infinite well,
``E_0 = (n + 1)^2 pi^2 + int 2 sin^2((n + 1) pi x) V(x) dx``. Excited state ``n``
is kept orthogonal to the PINN solutions of states ``0 .. n - 1`` by the
``beta`` term.

Training (L-BFGS, float64) has two phases. A variational warm start first
minimises the Rayleigh quotient ``int (psi'^2 + V psi^2) / int psi^2`` (plus the
overlap penalty): its minimiser is the lowest state orthogonal to the lower
ones, so training starts in the right state's basin (the residual loss alone
happily converges to whichever eigenpair is nearest the initial ``E``, e.g. the
first excited state of a high barrier). ``E`` then starts at that quotient and
the residual loss refines ``psi`` and ``E`` together.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax import Array
from tqdm.auto import tqdm

from kanflow.checks import as_int
from kanflow.models.wavefunction import wavefunction
from kanflow.pinn.potentials import InfiniteWell, Potential
from kanflow.pinn.quadrature import composite_gauss
from kanflow.train.loop import NonFiniteError, fit
from kanflow.train.optim import make_optimizer

__all__ = ["SolveResult", "solve", "derivatives", "rayleigh_quotient"]


@dataclasses.dataclass
class SolveResult:
    """A solved state.

    Attributes:
      state: index n (0 = ground state).
      energy: the trained (or fixed) eigenvalue.
      rayleigh_energy: ``int (psi'^2 + V psi^2) / int psi^2`` of the trained psi.
      psi: ``x [m] -> psi [m]`` (float64 NumPy), normalised, jit-compiled.
      history: training history (``loss``, ``energy`` per step).
      params, model: the trained network.
      wall_time: seconds (compilation included).
    """

    state: int
    energy: float
    rayleigh_energy: float
    psi: Callable[[Array], Array]
    history: dict[str, list]
    params: Any
    model: nn.Module
    wall_time: float


def derivatives(f: Callable[[Array], Array], x: Array) -> tuple[Array, Array, Array]:
    """``(f, f', f'')`` at ``x [n]`` for a pointwise ``f: [n] -> [n]`` (forward mode)."""
    ones = jnp.ones_like(x)
    first = lambda x: jax.jvp(f, (x,), (ones,))
    (value, d1), (_, d2) = jax.jvp(first, (x,), (ones,))
    return value, d1, d2


def rayleigh_quotient(f: Callable[[Array], Array], v: Array, nodes: Array, weights: Array) -> Array:
    """``int (f'^2 + V f^2) / int f^2`` on the quadrature (``v`` is ``V`` at the nodes)."""
    ones = jnp.ones_like(nodes)
    value, d1 = jax.jvp(f, (nodes,), (ones,))
    return jnp.sum(weights * (d1**2 + v * value**2)) / jnp.sum(weights * value**2)


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


def solve(
    potential,
    state: int = 0,
    model: str | nn.Module = "mlp",
    steps: int = 3000,
    seed: int = 0,
    *,
    ritz_steps: int | None = None,
    energy_every: int = 50,
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
      state: n >= 0; for n > 0 the lower states are solved first (or taken
        from ``lower``) and ``psi`` is kept orthogonal to them.
      model: ``"mlp"``, ``"kan"`` or a :class:`~kanflow.models.wavefunction.Wavefunction`.
      steps: total L-BFGS steps, ``ritz_steps`` of them (default half)
        on the Rayleigh quotient, the rest on the residual loss.
      seed: network initialisation seed.
      lower: solutions of states ``0 .. state - 1`` to reuse.
      orthogonality: ``beta``, the weight of the overlap penalty. It must
        exceed the gap ``E_n - E_0``, or the warm start prefers a lower state
        plus the penalty; the default ``10 ((n + 1)^2 pi^2 + max V - min V)``
        bounds that gap (min-max comparison with the infinite well).
      quadrature_order, quadrature_pieces: Gauss-Legendre rule per panel and
        number of equal panels (the potential's jumps add cuts).
      energy_every: ``E`` is evaluated every this many steps (``fit``'s ``eval_fn``);
        ``history["energy"]`` holds, for each step, the next evaluation's value.
      quiet: hide the progress bar.

    Returns:
      :class:`SolveResult`.

    Raises:
      ValueError: ``state < 0``, ``steps <= 0``, or a non-finite potential.
      FloatingPointError: training diverged; the message names the step and
        the last finite energy.
    """
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
        lower.append(solve(potential, len(lower), lower=lower, **opts))
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

    raw = psi_fn(params, model_state)
    scale = 1.0 / jnp.sqrt(jnp.sum(weights * raw(nodes) ** 2))
    sign = jnp.sign(jax.jvp(raw, (jnp.zeros(1),), (jnp.ones(1),))[1][0])  # psi'(0) > 0
    compiled = jax.jit(lambda x: sign * scale * raw(x))

    def psi(x) -> np.ndarray:
        with jax.enable_x64(True):  # callable later, outside this function's x64 scope
            return np.asarray(compiled(jnp.asarray(x, jnp.float64).reshape(-1)))

    energy = float(params["energy"]) if not fixed else float(e0)
    rayleigh = float(rayleigh_quotient(raw, v, nodes, weights))
    return SolveResult(state, energy, rayleigh, psi, history, params, net, 0.0)
