"""kanflow's PIKAN training beside jaxKAN's own code, step by step, on Burgers.

Run (jaxKAN is not a kanflow dependency; any environment with kanflow, scipy
and a checkout of jaxKAN at commit 42930cc, the code behind arXiv 2407.17611)::

    git clone https://github.com/srigas/jaxKAN /tmp/jaxKAN
    git -C /tmp/jaxKAN checkout 42930cc
    python benchmarks/pikan_jaxkan_crosscheck.py --jaxkan /tmp/jaxKAN --steps 300
    # kanflow's full recipe (kanflow run pikan_benchmarks problems=burgers, models=kan
    # parametrisation=jaxkan seed=42) from jaxKAN's initial network instead of its own:
    python benchmarks/pikan_jaxkan_crosscheck.py --jaxkan /tmp/jaxKAN --steps 100000 \
        --replicate results/burgers-from-jaxkan-init

Both codes train the paper's Burgers KAN (``[2, 8, 8, 1]``, cubic B-splines,
4096 Sobol points, 64 per edge, RBA weights, Adam with Nesterov momentum) from
the same initial network (jaxKAN's ``PRNGKey(0)`` init, copied into kanflow's
``parametrisation=jaxkan`` KAN) on the same points, through the paper's grid
events compressed into ``--steps``: grids 3 -> 8 -> 14 at a third and two thirds
of the run (adaptive state transition), updates at a fixed G every 7 steps up
to five sixths, learning-rate factors 0.7, 0.7, 0.8. The resampling is left
out (the two draw from different candidate pools and keys). Prints both losses
at a few steps, the largest relative difference of the losses over the run,
and how far apart the two trained networks are on the evaluation grid; beside
them, how far kanflow drifts from itself when its start is nudged by 1e-7
(relative): the problem's own sensitivity to float rounding. With
``--replicate OUT`` only kanflow trains, by ``pikan_benchmarks``'s whole
Burgers recipe (resampling included) from jaxKAN's initial network on the
authors' points: the published run's setting, up to the resampling's random
draws and float rounding; ``OUT`` gets ``metrics.json``, ``table.md``, the plot
and the saved network, as ``kanflow run`` writes them.

What to expect (measured, 300 steps, one CPU core): the losses agree to about
5e-5 relative through the grids of 3 and 8 (jaxKAN's RBA weights enter its loss
one step earlier: 4e-5 at the first step), and to about 1e-3 at the end, 100
steps after the extension to 14, where the nudged kanflow run has drifted from
itself by 4e-4; jaxKAN's 300 steps take about 6x kanflow's time.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import kanflow as kf
from kanflow_experiments import pikan_benchmarks, runner

WIDTHS = (2, 8, 8, 1)


def to_kanflow(v: dict) -> dict:
    """jaxKAN 0.1's KAN variables as kanflow's ``parametrisation=jaxkan`` KAN's.

    jaxKAN's edge ``e = o * in + i`` holds ``c_basis [G + k]``, ``c_spl``,
    ``c_res`` and one knot vector; its layer averages over inputs, so kanflow's
    scales are ``c / in``. Every output's knots of one input are equal.
    """
    import jax.numpy as jnp

    params, grids = {}, {}
    for layer, (n_in, n_out) in enumerate(zip(WIDTHS[:-1], WIDTHS[1:], strict=True)):
        p, knots = v["params"][f"layers_{layer}"], v["state"][f"layers_{layer}"]["grid"]
        knots = np.asarray(knots).reshape(n_out, n_in, -1)
        if not np.all(knots == knots[:1]):
            raise ValueError(f"layer {layer}: the knots differ between outputs of one input")
        coef = np.asarray(p["c_basis"]).reshape(n_out, n_in, -1).transpose(1, 2, 0)
        params[f"layer_{layer}"] = {
            "bias": jnp.asarray(v["params"][f"bias_{layer}"]),
            "coef": jnp.asarray(coef),
            "scale_base": jnp.asarray(np.asarray(p["c_res"]).reshape(n_out, n_in).T / n_in),
            "scale_sp": jnp.asarray(np.asarray(p["c_spl"]).reshape(n_out, n_in).T / n_in),
        }
        grids[f"layer_{layer}"] = {"knots": jnp.asarray(knots[0])}
    return {"params": params, "grid": grids}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--jaxkan", required=True, help="a jaxKAN checkout at commit 42930cc")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--replicate", metavar="OUT", help="train kanflow's recipe only, into OUT")
    a = p.parse_args(argv)
    if not os.path.isdir(os.path.join(a.jaxkan, "jaxkan")):
        raise SystemExit(f"--jaxkan: no jaxkan/ package under {a.jaxkan!r}")
    if a.steps < 12:
        raise SystemExit(f"--steps must be >= 12, got {a.steps}")
    sys.path.insert(0, os.path.abspath(a.jaxkan))
    import jax
    import jax.numpy as jnp
    import optax
    from jaxkan.models.KAN import KAN
    from jaxkan.utils.PIKAN import get_adapt_loss, gradf, sobol_sample, state_transition

    model = KAN(layer_dims=list(WIDTHS), k=3, const_spl=False, const_res=False, grid_e=0.05)
    start = model.init(jax.random.PRNGKey(0), jnp.ones([1, 2]))
    if a.replicate:
        cfg = pikan_benchmarks.Config(
            problems=("burgers",), models=("kan",), steps=a.steps, seed=42, parametrisation="jaxkan"
        )
        os.makedirs(a.replicate, exist_ok=True)
        report = pikan_benchmarks.run(cfg, a.replicate, kan_start=to_kanflow(start))
        runner.write_json(os.path.join(a.replicate, "metrics.json"), report.metrics)
        with open(os.path.join(a.replicate, "table.md"), "w") as f:
            f.write(report.table)
        print(report.table)
        return

    n = a.steps
    sizes = {0: 3, n // 3: 8, 2 * n // 3: 14}
    every, until = 7, 5 * n // 6
    lr = optax.piecewise_constant_schedule(1e-3, {n // 3: 0.7, 2 * n // 3: 0.7, 3 * n // 4: 0.8})

    # jaxKAN: the adaptive Burgers notebook's setup and training loop, events compressed
    box = lambda lo, hi, m: jnp.array(sobol_sample(np.array(lo), np.array(hi), m))
    x = box([0, -1], [1, 1], 2**12)
    edges = [box([0, -1], [0, 1], 64), box([0, -1], [1, -1], 64), box([0, 1], [1, 1], 64)]
    data = [-jnp.sin(np.pi * edges[0][:, 1:]), jnp.zeros((64, 1)), jnp.zeros((64, 1))]

    def pde_loss(params, z, state):
        u = lambda q: model.apply({"params": params, "state": state}, q)[0]
        nu = jnp.array(0.01 / jnp.pi)
        return gradf(u, 0, 1)(z) + u(z) * gradf(u, 1, 1)(z) - nu * gradf(u, 1, 2)(z)

    loss_fn = get_adapt_loss(pde_loss, model, start)
    opt = optax.adam(learning_rate=lr, nesterov=True)
    ones = [jnp.array(1.0)] * 4

    @jax.jit
    def step(params, opt_state, state, w):
        (loss, w), g = jax.value_and_grad(loss_fn, has_aux=True)(
            params, x, edges, data, ones, w, state
        )
        updates, opt_state = opt.update(g, opt_state, params)
        return {"params": optax.apply_updates(params, updates), "state": state}, opt_state, loss, w

    v, opt_state, g = start, opt.init(start["params"]), 3
    w = [jnp.ones((4096, 1))] + [jnp.ones((64, 1))] * 3  # RBA weights
    theirs, t0 = [], time.perf_counter()
    for i in range(n):
        if i % every == 0 and i <= until:
            v = model.apply(v, x, g, method=model.update_grids)
        if i in sizes:
            g = sizes[i]
            v = model.apply(v, x, g, method=model.update_grids)
            opt_state = state_transition(opt_state, v)
        v, opt_state, loss, w = step(v["params"], opt_state, v["state"], w)
        theirs.append(float(loss))
    t_theirs = time.perf_counter() - t0

    # kanflow: pde.train from the same network; seed 42 draws the authors' points
    problem = kf.pinn.pdes.burgers()
    same = lambda p, q: np.allclose(np.sort(np.asarray(p, np.float32), 0), np.sort(q, 0), atol=1e-7)
    ours_x = kf.pinn.pde.sobol(4096, problem.lo, problem.hi, 42)
    if not same(ours_x, np.asarray(x)) or not all(
        any(same(c.points, np.asarray(e)) for e in edges) for c in problem.conditions
    ):
        raise SystemExit("the two codes' collocation points differ: nothing to compare")
    settings, optimizer = pikan_benchmarks._jaxkan_like(lr)
    kmodel = kf.models.KAN(WIDTHS, grid_size=3, use_bias=True, grid_range=(-1.0, 1.0), **settings)
    train = lambda variables: kf.pinn.pde.train(
        problem,
        kmodel,
        n,
        seed=42,
        learning_rate=lr,
        grid_sizes=sizes,
        grid_update_every=every,
        grid_update_until=until,
        grid_eps=0.05,
        grid_margin=pikan_benchmarks.JAXKAN_GRID_MARGIN,  # as jaxKAN's grid update
        nesterov=True,
        optimizer=optimizer,
        variables=variables,
        eval_every=1,
        quiet=True,
    )
    t0 = time.perf_counter()
    res = train(to_kanflow(start))
    t_ours = time.perf_counter() - t0
    # the problem's own sensitivity: kanflow again, from a start nudged by 1e-7 (relative)
    nudged = to_kanflow(start)
    noise = lambda a, k: a * (1 + 1e-7 * jax.random.normal(jax.random.key(k), a.shape, a.dtype))
    leaves, tree = jax.tree.flatten(nudged["params"])
    nudged["params"] = jax.tree.unflatten(tree, [noise(a, k) for k, a in enumerate(leaves)])
    ours, again = np.asarray(res.history["loss"]), np.asarray(train(nudged).history["loss"])
    rel = np.abs(ours - theirs) / np.asarray(theirs)
    chaos = np.abs(again - ours) / ours
    head = ["step", "loss jaxKAN", "loss kanflow", "rel. diff", "kanflow nudged: rel. diff"]
    print(f"{head[0]:>6s} {head[1]:>12s} {head[2]:>12s} {head[3]:>9s}  {head[4]}")
    for i in sorted({0, 1, every, *sizes, *range(0, n, max(1, n // 10)), n - 1}):
        print(f"{i + 1:6d} {theirs[i]:12.6e} {ours[i]:12.6e} {rel[i]:9.1e}  {chaos[i]:9.1e}")
    z = np.asarray(problem.eval_points, np.float32)
    yt = np.asarray(model.apply(v, jnp.asarray(z))[0][:, 0])
    yo = res.u(z)
    print(f"largest relative loss difference over {n} steps: {rel.max():.1e}")
    print(
        "trained networks on the evaluation grid: relative L2 difference "
        f"{np.linalg.norm(yt - yo) / np.linalg.norm(yt):.1e}, errors against the reference "
        f"{problem.relative_l2(lambda _: yt):.4f} (jaxKAN) / {res.l2:.4f} (kanflow)"
    )
    print(f"wall time: jaxKAN {t_theirs:.0f} s, kanflow {t_ours:.0f} s (compilation included)")


if __name__ == "__main__":
    main()
