"""Physics-informed KANs on jaxKAN's four PDE benchmarks (Rigas et al., arXiv 2407.17611).

Run::

    kanflow run pikan_benchmarks --quick   # 4 PDEs x {KAN, MLP}, 300 steps each: a few minutes
    kanflow run pikan_benchmarks           # 1e5 Adam steps per run, as the paper (hours on CPU)
    kanflow run pikan_benchmarks problems=diffusion, steps=20000   # one PDE, shorter
    # the 1e5-step schedule's first 20000 steps, the grids fitted to the points at step 0
    kanflow run pikan_benchmarks problems=allen_cahn, models=kan, stop=20000 grid_fit_at_start=true
    # hours long: keep the training state; the same command continues after an interruption
    kanflow run pikan_benchmarks checkpoint_dir=runs/pikan-ckpt

Per PDE (:mod:`kanflow.pinn.pdes`: diffusion, Helmholtz, Burgers, Allen-Cahn)
and network, :func:`kanflow.pinn.pde.train` trains full batch on 4096 Sobol
collocation points with 64 per boundary/initial edge, with the paper's
adaptive recipe: residual-based attention weights on every term, grid
extensions with the adaptive state transition (Adam moments carried to the
new grid), grid updates at a fixed G (from step 0 for the ``jaxkan``
parametrisation, fitting the grids to the collocation points before the first
step as the authors' code does; after one period for kanflow's), residual-based resampling
(Burgers, Allen-Cahn) and the paper's piecewise-constant learning-rate
schedules. The KAN is ``[2, 8, 8, 1]`` with cubic B-splines, SiLU residual
branch and a bias per node (721 parameters at G = 3); the MLP beside it is a
tanh ``[2, h, h, 1]`` with ``h`` chosen to match the KAN's final parameter
count, trained by the same schedule without the grid events. Event steps
scale with ``steps`` (a 300-step quick run keeps the schedule's shape; grid
updates at a fixed G stay at least 25 steps apart).

The table reports the relative L2 error on the paper's evaluation grids
against references computed here (closed forms; Cole-Hopf for Burgers; a
Chebyshev + Radau solve for Allen-Cahn), beside the paper's adaptive and plain
errors (read from the authors' published notebooks), with wall time on this
machine; each trained network is saved beside it (``<pde>-<network>/``, read
back with ``kf.load``). What to expect: the quick run (about 5 minutes) only shows the
pipeline working (errors of 10-140 %, measured); a full run takes about an
hour per PDE on 2 otherwise idle CPU cores (measured per KAN step on 4096
points: 10 ms at G = 3, 42 ms at G = 14; 4.3 ms for the MLP), so the README
states which runs were made.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import optax

import kanflow as kf

from .runner import Report, check_names, markdown_table

NAME = "pikan_benchmarks"
DESCRIPTION = "PIKANs on diffusion, Helmholtz, Burgers, Allen-Cahn vs jaxKAN (arXiv 2407.17611)"

PAPER_STEPS = 100_000

#: The paper's relative L2 errors (%), adaptive and plain (fixed G = 3), from the
#: authors' notebooks for arXiv 2407.17611.
PAPER = {
    "diffusion": (0.0210, 0.1933),
    "helmholtz": (0.1021, 2.0694),
    "burgers": (2.4296, 13.5037),
    "allen_cahn": (1.4143, 44.4296),
}

#: The paper's adaptive schedules, at its 1e5 steps (the authors' notebooks): grid
#: sizes by step, grid updates at fixed G every ``update`` steps up to
#: ``update_until``, RAD resampling steps (from 2^17 Sobol candidates; grids
#: move to the new points), learning-rate factors by step (they multiply) and
#: the grid's uniform share. Adam with Nesterov momentum throughout.
SCHEDULES = {
    "diffusion": {
        "grids": {0: 3, 8000: 8, 20000: 14},
        "update": 275,
        "update_until": 70000,
        "resample": (),
        "lr": {8000: 0.7, 20000: 0.5, 50000: 0.5, 75000: 0.5},
        "grid_eps": 0.05,
    },
    "helmholtz": {
        "grids": {0: 3, 20000: 7, 40000: 15},
        "update": 200,
        "update_until": 70000,
        "resample": (),
        "lr": {20000: 0.2, 40000: 0.5, 60000: 0.5, 80000: 0.5},
        "grid_eps": 1.0,
    },
    "burgers": {
        "grids": {0: 3, 8000: 8, 20000: 14},
        "update": 300,
        "update_until": 75000,
        "resample": (50000, 75000),
        "lr": {8000: 0.7, 20000: 0.7, 25000: 0.7, 50000: 0.8, 75000: 0.8, 85000: 0.6},
        "grid_eps": 0.05,
    },
    "allen_cahn": {
        "grids": {0: 3, 8000: 8, 20000: 12},
        "update": 275,
        "update_until": 70000,
        "resample": (20000, 30000, 40000, 50000, 60000),
        "lr": {15000: 0.6, 25000: 0.8, 50000: 0.7, 75000: 0.7},
        "grid_eps": 0.05,
    },
}

#: the problems in (t, x), t first (causal training applies to them)
EVOLUTION = ("diffusion", "burgers", "allen_cahn")


@dataclasses.dataclass(frozen=True)
class Config:
    """PIKAN benchmark settings (override with ``key=value``).

    Attributes:
      problems: any of ``diffusion``, ``helmholtz``, ``burgers``, ``allen_cahn``.
      models: ``"kan"`` and/or ``"mlp"``.
      steps: Adam steps per run (the paper: 1e5); event steps scale with it.
      learning_rate: the initial Adam learning rate (the paper: 1e-3).
      collocation: interior points (the paper: 4096).
      seed: initialisation and sampling seed.
      parametrisation: the KAN's edges, ``"pykan"`` (kanflow's KAN: edges
        summed, scales ``1/sqrt(in)``, random residual scales) or ``"jaxkan"``
        (jaxKAN 0.1's layer as far as kanflow's KAN writes it: it averages its
        edges, ``(1/in) sum_i (c_res silu + c_spl spline)``, ``c = 1``,
        coefficients ``N(0, 0.1^2)``; here both scales start at ``1 / in`` in
        every layer, so the function at initialisation is theirs, and Adam's
        steps on the two scales are divided by ``in``, as Adam on ``c`` moves
        ``c / in``; grid updates widen the uniform grid by 0.01 at each end, as
        theirs do). From the same start and points, training then follows
        the authors' code to float32 rounding
        (``benchmarks/pikan_jaxkan_crosscheck.py``).
      resample: whether to apply the schedule's residual-based resamplings
        (Burgers, Allen-Cahn); ``False`` trains on the first points throughout.
      causal: causal training in time for the evolution problems (diffusion,
        Burgers, Allen-Cahn; Wang et al., arXiv 2203.07404, not part of arXiv
        2407.17611's recipe): ``pde.train``'s ``causal_axis`` on t with its
        defaults (32 slices, the eps ladder 0.01 ... 100, tolerance 0.99).
        Measured on Burgers at 25000 steps without resampling: better on two
        of five seed pairs, worse on three; hence off by default.
      grid_fit_at_start: whether the KAN's fixed-G grid updates start at step
        0, fitting the grids to the collocation points before the first step
        (the authors' code), or after one update period (the initial grids
        kept until then; ``pde.train``'s ``grid_update_start``). ``None``
        (default): as the parametrisation's source does, ``True`` for
        ``jaxkan``, ``False`` for ``pykan``. At initialisation kanflow's KAN
        feeds its hidden layers only 0.07-0.83 of their (-1, 1) grid range, and
        the fit narrows their grids to that. With the fit, Allen-Cahn stalls
        early (error at step 20000 4-6x higher on three of three seeds) and
        diffusion's error is 3-10x higher at steps 2000-6000 (two of two
        seeds); at 1e5 steps (seed 0) Allen-Cahn ends at 2.90 % with it and
        0.736 % without, diffusion at 0.479 % and 0.0216 %, Helmholtz at
        0.0518 % and 0.112 % (the one problem where the fit wins; README).
      stop: train only the first ``stop`` steps of the ``steps``-step schedule
        (default: all of them); the events after it are dropped, the table
        reports the error at ``stop``.
      checkpoint_dir: keep each run's whole training state in
        ``<checkpoint_dir>/<problem>-<model>`` every 1000 steps (and on Ctrl-C);
        the same command with the same folder continues interrupted runs and
        skips finished ones, and the full command continues a ``stop=N`` run;
        a run with other settings is refused (``pde.train``'s ``checkpoint_dir``).
      resume: with ``false``, runs start afresh and the checkpoints already in
        their folders are set aside (``<step>.superseded``), not restored.
    """

    problems: tuple[str, ...] = ("diffusion", "helmholtz", "burgers", "allen_cahn")
    models: tuple[str, ...] = ("kan", "mlp")
    steps: int = PAPER_STEPS
    learning_rate: float = 1e-3
    collocation: int = 4096
    seed: int = 0
    parametrisation: str = "pykan"
    resample: bool = True
    causal: bool = False
    grid_fit_at_start: bool | None = None
    stop: int | None = None
    checkpoint_dir: str | None = None
    resume: bool = True


def quick_config() -> Config:
    return Config(steps=300, collocation=512, learning_rate=1e-2)


def _scaled(step: int, steps: int) -> int:
    return int(round(step * steps / PAPER_STEPS))


def kan_params(grid_size: int, widths=(2, 8, 8, 1), order: int = 3) -> int:
    """Parameters of the benchmark KAN: per edge ``G + k`` coefficients and 2 scales; biases."""
    edges = sum(a * b for a, b in zip(widths[:-1], widths[1:], strict=True))
    return edges * (grid_size + order + 2) + sum(widths[1:])


def mlp_width(n_params: int) -> int:
    """Hidden width ``h`` of a ``[2, h, h, 1]`` MLP with the closest count to ``n_params``."""
    count = lambda h: 2 * h + h + h * h + h + h + 1
    return min(range(2, 200), key=lambda h: abs(count(h) - n_params))


#: the KAN layer's two edge scales, which jaxKAN's averaging layer writes as c / in
_SCALES = ("scale_base", "scale_sp")

#: how far jaxKAN 0.1's grid updates reach past the samples (``pde.train``'s ``grid_margin``)
JAXKAN_GRID_MARGIN = 0.01


def _jaxkan_like(lr) -> tuple[dict, optax.GradientTransformation]:
    """KAN settings and optimiser that mimic jaxKAN 0.1's averaging layer (see ``Config``);
    :func:`_jaxkan_start` gives the matching initial variables."""
    import jax

    settings = dict(scale_base_sigma=0.0, noise_scale=0.1 * 6**0.5)  # coef N(0, 0.1^2) at G = 3

    def per_input(updates, params=None):
        del params

        def scaled(path, u):
            name = getattr(path[-1], "key", None)
            return u / u.shape[0] if name in _SCALES else u

        return jax.tree_util.tree_map_with_path(scaled, updates)

    return settings, optax.chain(optax.adam(lr, nesterov=True), optax.stateless(per_input))


def _jaxkan_start(model, seed: int) -> dict:
    """``model.init`` with both scales of every layer at ``1 / in`` (jaxKAN's ``c = 1``
    averaged over the layer's inputs)."""
    import jax
    import jax.numpy as jnp

    variables = model.init(jax.random.key(seed), jnp.zeros((1, model.widths[0]), jnp.float32))
    params = {
        name: {
            k: jnp.full_like(v, 1.0 / v.shape[0]) if k in _SCALES else v for k, v in layer.items()
        }
        for name, layer in variables["params"].items()
    }
    return {**variables, "params": params}


def _plot(problem, result, out_dir: str) -> None:
    import matplotlib.pyplot as plt

    pts = problem.eval_points
    n0 = np.unique(pts[:, 0]).size
    shape = (n0, pts.shape[0] // n0)
    ref = problem.reference_values.reshape(shape)
    got = result.u(pts).reshape(shape)
    a, b = pts[:, 0].reshape(shape), pts[:, 1].reshape(shape)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4), constrained_layout=True)
    for ax, values, title, cmap in (
        (axes[0], ref, "reference", "viridis"),
        (axes[1], got, "KAN", "viridis"),
        (axes[2], np.abs(got - ref), "|error|", "magma"),
    ):
        im = ax.pcolormesh(a, b, values, shading="auto", cmap=cmap)
        fig.colorbar(im, ax=ax)
        ax.set_title(f"{problem.name}: {title}", fontsize=9)
    fig.savefig(os.path.join(out_dir, f"{problem.name}.png"), dpi=110)
    plt.close(fig)


def run(cfg: Config, out_dir: str, quiet: bool = False, kan_start: dict | None = None) -> Report:
    """Trains each (problem, model); returns the table.

    ``kan_start``: variables every KAN starts from instead of ``model.init`` with
    ``cfg.seed`` (the ``[2, 8, 8, 1]`` KAN's structure at G = 3; e.g. jaxKAN's
    initial network copied over, as ``benchmarks/pikan_jaxkan_crosscheck.py``
    does)."""
    check_names("problem", cfg.problems, tuple(kf.pinn.pdes.PROBLEMS))
    check_names("model", cfg.models, ("kan", "mlp"))
    check_names("parametrisation", (cfg.parametrisation,), ("pykan", "jaxkan"))
    if cfg.steps < 10:
        raise ValueError(f"steps must be >= 10, got {cfg.steps}")
    n_steps = cfg.steps if cfg.stop is None else cfg.stop
    if not 1 <= n_steps <= cfg.steps:
        raise ValueError(f"stop must be in [1, steps = {cfg.steps}], got {cfg.stop}")
    rows, records = [], []
    for name in cfg.problems:
        problem = kf.pinn.pdes.PROBLEMS[name]()
        sched = SCHEDULES[name]
        grids = {_scaled(s, cfg.steps): g for s, g in sched["grids"].items()}
        grids = {s: g for s, g in grids.items() if s < n_steps}
        boundaries = {_scaled(s, cfg.steps): f for s, f in sched["lr"].items()}
        lr = optax.piecewise_constant_schedule(cfg.learning_rate, boundaries)
        resample = (_scaled(s, cfg.steps) for s in sched["resample"])
        resample = tuple(s for s in resample if 0 < s < n_steps) if cfg.resample else ()
        # scaled updates would run every step of a short run (each a host-side refit)
        update = max(25, _scaled(sched["update"], cfg.steps))
        final_kan = kan_params(max(sched["grids"].values()))
        for model_name in cfg.models:
            optimizer = start = None  # Adam (Nesterov), model.init
            margin = 0.0
            if model_name == "kan":
                settings = {}
                if cfg.parametrisation == "jaxkan":
                    settings, optimizer = _jaxkan_like(lr)
                    margin = JAXKAN_GRID_MARGIN
                model = kf.models.KAN(
                    (2, 8, 8, 1), grid_size=3, use_bias=True, grid_range=(-1.0, 1.0), **settings
                )
                if kan_start is not None:
                    start = kan_start
                elif cfg.parametrisation == "jaxkan":
                    start = _jaxkan_start(model, cfg.seed)
                until = _scaled(sched["update_until"], cfg.steps)
                fit = cfg.grid_fit_at_start
                fit = cfg.parametrisation == "jaxkan" if fit is None else fit
                events = dict(
                    grid_sizes=grids,
                    grid_update_every=update,
                    grid_update_until=until,
                    grid_update_start=0 if fit else update,
                )
            else:
                h = mlp_width(final_kan)
                model = kf.models.MLP((2, h, h, 1), activation="tanh")
                events = {}
            result = kf.pinn.pde.train(
                problem,
                model,
                n_steps,
                seed=cfg.seed,
                learning_rate=lr,
                collocation=cfg.collocation,
                grid_eps=sched["grid_eps"],
                grid_margin=margin,
                resample_at=resample,
                resample_pool=32 * cfg.collocation,  # the paper: 2^17 for 4096 points
                nesterov=True,
                optimizer=optimizer,
                variables=start,
                causal_axis=0 if cfg.causal and name in EVOLUTION else None,
                eval_every=max(1, cfg.steps // 50),
                checkpoint_dir=None
                if cfg.checkpoint_dir is None
                else os.path.join(cfg.checkpoint_dir, f"{name}-{model_name}"),
                resume=cfg.resume,
                quiet=quiet,
                **events,
            )
            n_params = kf.count_params(result.variables["params"])
            adaptive, plain = PAPER[name]
            rec = {
                "problem": name,
                "model": model_name,
                "params": n_params,
                "rel_l2": result.l2,
                "paper_adaptive_rel_l2": adaptive / 100,
                "paper_plain_rel_l2": plain / 100,
                "wall_time_s": result.wall_time,
                "steps": n_steps,
                "history": result.history,
            }
            records.append(rec)
            if not quiet:
                pct, secs = 100 * result.l2, result.wall_time
                print(f"  {name} {model_name}: rel L2 {pct:.4g} % ({secs:.0f} s)")
            # the trained network, for a look at its error later: kf.load(path)
            saved = os.path.join(out_dir, f"{name}-{model_name}")
            kf.save(saved, result.model, result.variables, overwrite=True)
            if model_name == "kan":
                _plot(problem, result, out_dir)
            rows.append(
                [
                    name,
                    model_name,
                    n_params,
                    f"{100 * result.l2:.4g}",
                    f"{adaptive:.4g}" if model_name == "kan" else "",
                    f"{plain:.4g}" if model_name == "kan" else "",
                    f"{result.wall_time / n_steps * 1e3:.1f}",
                    f"{result.wall_time:.0f}",
                ]
            )
    headers = [
        "PDE",
        "network",
        "params",
        "rel. L2 (%)",
        "paper adaptive (%)",
        "paper plain (%)",
        "ms / step",
        "time (s)",
    ]
    steps = f"{cfg.steps} Adam steps" if cfg.stop is None else f"{n_steps} of {cfg.steps} steps"
    options = [
        "" if cfg.resample else "no resampling",
        "causal in t" if cfg.causal else "",
        {None: "", True: "grids fitted at step 0", False: "initial grids kept"}[
            cfg.grid_fit_at_start
        ],
    ]
    table = (
        f"## PIKAN benchmarks ({steps}, seed {cfg.seed}, {cfg.collocation} "
        f"collocation points, float32, {cfg.parametrisation} KAN"
        + "".join(f", {o}" for o in options if o)
        + ")\n\n"
        + markdown_table(headers, rows)
        + "\nPaper: jaxKAN's [2, 8, 8, 1] KAN, 1e5 steps (arXiv 2407.17611, authors' notebooks). "
        "ms / step is wall time / steps, compilation included (dominant in short runs).\n"
    )
    return Report(metrics={"config": dataclasses.asdict(cfg), "results": records}, table=table)
