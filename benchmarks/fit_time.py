"""Time to accuracy, whole fresh processes: kanflow against pykan in the same run.

Run: ``python benchmarks/fit_time.py [--repeats 1]`` (with a Python that has
pykan and PyTorch to measure pykan too; kanflow never depends on them).

pykan's first example: fit ``exp(sin(pi x) + y^2)`` on ``[-1, 1]^2`` (1000
train / 1000 test points, float64) with a ``[2, 1, 1]`` B-spline KAN (k = 3),
L-BFGS, grid extended 3 -> 10 -> 20:

* pykan 0.2.8 as its tutorial runs it: ``KAN(width=[2, 1, 1], grid=3, k=3,
  seed=1)`` (made float64 with ``.double()``), ``fit(dataset, opt="LBFGS",
  steps=200, stop_grid_update_step=30)`` per grid, ``refine`` between grids;
* kanflow: :func:`kanflow.recipes.fit_grid_schedule` (``--steps-per-grid``
  L-BFGS steps per grid, best of ``--restarts`` initialisations on the
  training loss).

Each runs as a fresh ``python`` process started by this script and timed from
outside (interpreter start, imports and every JIT compilation included); the
test RMSE at G = 20 comes back on its last line. Without pykan the script says
so and prints no ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import json

from _fresh import pykan_exp_sin_dataset, run_fresh


def kanflow_worker(steps_per_grid: int, restarts: int) -> dict:
    import jax

    with jax.enable_x64(True):
        import jax.numpy as jnp
        import numpy as np

        import kanflow as kf

        d = kf.data.make_dataset("exp_sin_sq", 1000, 1000, seed=0, dtype=np.float64)
        model = kf.models.KAN((2, 1, 1), param_dtype=jnp.float64)
        phases = kf.recipes.fit_grid_schedule(
            model,
            d["train_x"],
            d["train_y"],
            (3, 10, 20),
            steps_per_grid=steps_per_grid,
            restarts=restarts,
        )
        final = phases[-1]
        pred = jax.jit(final.model.apply)(final.variables, d["test_x"])
        rmse = float(jnp.sqrt(jnp.mean((pred - d["test_y"]) ** 2)))
    return {"rmse": rmse, "phases": {p.grid_size: round(p.elapsed, 2) for p in phases}}


def pykan_worker() -> dict:
    import torch
    from kan import KAN

    dataset = pykan_exp_sin_dataset()
    model = None
    for g in (3, 10, 20):
        # float64 by .double(): with torch's default dtype set to float64 instead,
        # pykan 0.2.8's L-BFGS stalls at its first loss here; refine builds the new
        # model in the default dtype, so it runs under float64
        if model is None:
            model = KAN(width=[2, 1, 1], grid=g, k=3, seed=1).double()
        else:
            torch.set_default_dtype(torch.float64)
            model = model.refine(g)
            torch.set_default_dtype(torch.float32)
        model.fit(dataset, opt="LBFGS", steps=200, stop_grid_update_step=30, log=50)
    with torch.no_grad():
        pred = model(dataset["test_input"])
    rmse = float(torch.sqrt(torch.mean((pred - dataset["test_label"]) ** 2)))
    return {"rmse": rmse}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps-per-grid", type=int, default=600)
    p.add_argument("--restarts", type=int, default=8)
    p.add_argument("--repeats", type=int, default=1, help="fresh processes per library")
    p.add_argument("--worker", choices=("kanflow", "pykan"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker == "kanflow":
        print(json.dumps(kanflow_worker(a.steps_per_grid, a.restarts)))
        return
    if a.worker == "pykan":
        print(json.dumps(pykan_worker()))
        return
    has_pykan = all(importlib.util.find_spec(m) for m in ("kan", "torch"))
    ours = ["--worker", "kanflow", f"--steps-per-grid={a.steps_per_grid}"]
    ours.append(f"--restarts={a.restarts}")
    runs: dict[str, list] = {"kanflow": [], "pykan": []}
    for _ in range(a.repeats):  # interleaved: kanflow, pykan, kanflow, ...
        runs["kanflow"].append(run_fresh(__file__, ours))
        if has_pykan:
            runs["pykan"].append(run_fresh(__file__, ["--worker", "pykan"]))
    best = {k: min(v, key=lambda r: r[0]) for k, v in runs.items() if v}
    for name, (secs, res) in best.items():
        extra = f", cumulative per grid {res['phases']}" if "phases" in res else ""
        print(f"{name:8s}: test RMSE {res['rmse']:.2e} at G=20 in {secs:.1f} s{extra}")
    if not has_pykan:
        print("pykan: not installed in this Python (pip install pykan torch); no ratio")
    else:
        print(f"kanflow is {best['pykan'][0] / best['kanflow'][0]:.1f}x faster than pykan")


if __name__ == "__main__":
    main()
