"""The KAN scientist's loop end to end, whole fresh processes: kanflow against pykan.

Run: ``python benchmarks/symbolic_loop.py [--repeats 1]`` (with a Python that
has pykan and PyTorch to measure pykan too; kanflow never depends on them).

pykan's "hello KAN" example: from 1000 samples of ``exp(sin(pi x) + y^2)`` on
``[-1, 1]^2`` (float64), find the formula with a ``[2, 5, 1]`` B-spline KAN:

* pykan 0.2.8 as its tutorial runs it: ``KAN(width=[2, 5, 1], grid=3, k=3,
  seed=1)``; ``fit(steps=50, lamb=0.001)``; ``prune()``; ``fit(steps=50)``;
  ``refine(10)``; ``fit(steps=50)``; ``auto_symbolic(lib=[x, x^2, x^3, x^4,
  exp, log, sqrt, tanh, sin, abs])``; ``fit(steps=50)``; ``symbolic_formula()``
  (L-BFGS throughout, each of pykan's steps up to 20 inner iterations);
* kanflow: ``kf.symbolic.discover(x, y)`` with its defaults (the whole
  library of 27 functions; see its docstring for the recipe).

Each runs as a fresh ``python`` process started by this script and timed from
outside (interpreter start, imports and every JIT compilation included). Each
prints the formula it found and that formula's RMSE on 1000 fresh points
(rounded to 4 decimals, as printed). kanflow is timed three ways:

* ``cold``: a fresh process with JAX's persistent compilation cache off, so
  every program is compiled (most of its time: about 25 XLA programs);
* ``warm cache``: a fresh process reading the compiled programs from JAX's
  persistent compilation cache (``JAX_COMPILATION_CACHE_DIR``), filled by
  one earlier untimed run, as a second run of the same script would find it;
* ``in process``: a second ``discover`` on the same data in the same process
  (what each further search costs in a session or notebook), timed inside.

Without pykan the script says so and prints no ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import tempfile

from _fresh import pykan_exp_sin_dataset, run_fresh

HELLO_LIB = ["x", "x^2", "x^3", "x^4", "exp", "log", "sqrt", "tanh", "sin", "abs"]


def _truth(x):
    import numpy as np

    return np.exp(np.sin(np.pi * x[:, 0]) + x[:, 1] ** 2)


def _formula_rmse(expr) -> float:
    import numpy as np
    import sympy

    fresh = np.random.default_rng(123).uniform(-1, 1, (1000, 2))
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    fn = sympy.lambdify(symbols, expr, "numpy")
    args = [fresh[:, int(s.name.split("_")[1]) - 1] for s in symbols]
    pred = np.broadcast_to(np.asarray(fn(*args), dtype=float), (1000,))
    return float(np.sqrt(np.mean((pred - _truth(fresh)) ** 2)))


def kanflow_worker(cache_dir: str | None, again: bool) -> dict:
    import time

    import jax
    import numpy as np

    if cache_dir:  # every program, however quick to compile
        jax.config.update("jax_compilation_cache_dir", cache_dir)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    else:
        jax.config.update("jax_enable_compilation_cache", False)
    import kanflow as kf

    x = np.random.default_rng(0).uniform(-1, 1, (1000, 2))
    found = kf.symbolic.discover(x, _truth(x))
    seconds = None
    if again:
        t0 = time.perf_counter()
        same = kf.symbolic.discover(x, _truth(x)).formula == found.formula
        seconds = time.perf_counter() - t0 if same else float("nan")
    return {
        "formula": str(found.formula),
        "rmse": _formula_rmse(found.formula),
        "widths": list(found.widths),
        "stages": {k: round(v, 2) for k, v in found.seconds.items()},
        "again": seconds,
    }


def pykan_worker() -> dict:
    import torch
    from kan import KAN
    from kan.utils import ex_round

    dataset = pykan_exp_sin_dataset()

    def in_float64(method, *args):
        # pykan builds the pruned / refined model in torch's default dtype
        torch.set_default_dtype(torch.float64)
        try:
            return method(*args)
        finally:
            torch.set_default_dtype(torch.float32)

    model = KAN(width=[2, 5, 1], grid=3, k=3, seed=1).double()
    model.fit(dataset, opt="LBFGS", steps=50, lamb=0.001, log=50)
    model = in_float64(model.prune)
    model.fit(dataset, opt="LBFGS", steps=50, log=50)
    model = in_float64(model.refine, 10)
    model.fit(dataset, opt="LBFGS", steps=50, log=50)
    model.auto_symbolic(lib=HELLO_LIB, verbose=0)
    model.fit(dataset, opt="LBFGS", steps=50, log=50)
    expr = ex_round(model.symbolic_formula()[0][0], 4)
    return {
        "formula": str(expr),
        "rmse": _formula_rmse(expr),
        "widths": [w[0] if isinstance(w, list) else w for w in model.width],
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=1, help="fresh processes per library")
    p.add_argument("--worker", choices=("kanflow", "pykan"), help=argparse.SUPPRESS)
    p.add_argument("--cache", help=argparse.SUPPRESS)
    p.add_argument("--again", action="store_true", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        res = kanflow_worker(a.cache, a.again) if a.worker == "kanflow" else pykan_worker()
        print(json.dumps(res))
        return
    has_pykan = all(importlib.util.find_spec(m) for m in ("kan", "torch"))
    cache = tempfile.mkdtemp(prefix="jax_cache_")
    # fills the cache, and times a second discover in the same process
    in_process = run_fresh(__file__, ["--worker", "kanflow", "--cache", cache, "--again"])[1]
    runs: dict[str, list] = {"kanflow cold": [], "kanflow warm cache": [], "pykan": []}
    for _ in range(a.repeats):  # interleaved: cold, warm, pykan, cold, ...
        runs["kanflow cold"].append(run_fresh(__file__, ["--worker", "kanflow"]))
        runs["kanflow warm cache"].append(
            run_fresh(__file__, ["--worker", "kanflow", "--cache", cache])
        )
        if has_pykan:
            runs["pykan"].append(run_fresh(__file__, ["--worker", "pykan"]))
    shutil.rmtree(cache, ignore_errors=True)
    for name, results in runs.items():
        for secs, res in results:
            extra = f", stages {res['stages']}" if "stages" in res else ""
            print(
                f"{name:18s}: {secs:5.1f} s  widths {res['widths']}  formula {res['formula']}  "
                f"(RMSE {res['rmse']:.1e} on fresh points){extra}"
            )
    best = {k: min(s for s, _ in v) for k, v in runs.items() if v}
    best["kanflow in process"] = in_process["again"]  # NaN if it found another formula
    print(f"{'kanflow in process':18s}: {best['kanflow in process']:5.1f} s  (second discover)")
    if not has_pykan:
        print("pykan: not installed in this Python (pip install pykan torch); no ratio")
        return
    for name in ("kanflow cold", "kanflow warm cache", "kanflow in process"):
        print(f"{name}: {best['pykan'] / best[name]:.1f}x faster than pykan (best of each)")


if __name__ == "__main__":
    main()
