"""SKANLayer cost before and after space selection, against a one-basis KANLayer.

Run: ``python benchmarks/skan_layer.py [--batch 1024 --width 128]``

Forward + backward (gradient of ``sum(y)`` with respect to inputs and every
parameter), float32, for ``width -> width`` layers:

* ``KANLayer``: B-spline G5 k3 (the baseline, ratio 1),
* ``SKANLayer mixed``: all twelve spaces of the default pool, every node mixing them,
* ``SKANLayer selected, all spaces used``: nodes spread evenly over the pool
  (every basis is still evaluated once, each node has one space's columns),
* ``SKANLayer selected, 1 space used``: every node chose the B-spline,
* the same three S-KAN cases with ``selects="input"`` (each input selects the
  space of its outgoing edges: once selected, one basis evaluation per input
  and one matmul, however many spaces are in use).

Candidates run interleaved over ``--rounds`` rounds; prints the median CPU
time per call (all threads), peak memory (XLA's estimate, arguments included),
parameters, and ratios to the KANLayer. Targets: mixed <= (number of spaces)
x 1.1, selected <= 1.5x.
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(__file__))
from _timing import compile_once, interleaved  # noqa: E402
from kan_layer import kan_case  # noqa: E402

import kanflow as kf  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--rounds", type=int, default=10)
    a = p.parse_args(argv)
    x = jax.random.uniform(jax.random.key(0), (a.batch, a.width), jnp.float32, -1, 1)
    pool = kf.layers.DEFAULT_SPACES
    spread = tuple(j % len(pool) for j in range(a.width))
    layers = {"KANLayer (B-spline G5 k3)": kf.layers.KANLayer(a.width)}
    for selects in ("output", "input"):
        layers |= {
            f"{selects}: mixed ({len(pool)} spaces)": kf.layers.SKANLayer(a.width, selects=selects),
            f"{selects}: selected, {len(pool)} used": kf.layers.SKANLayer(
                a.width, selection=spread, selects=selects
            ),
            f"{selects}: selected, 1 used": kf.layers.SKANLayer(
                a.width, selection=(0,) * a.width, selects=selects
            ),
        }
    candidates, memory, params = {}, {}, {}
    for name, layer in layers.items():
        fwd_bwd, args = kan_case(layer, x, jax.random.key(1))  # knots as an argument
        compiled, memory[name] = compile_once(fwd_bwd, *args)
        candidates[name] = (compiled, args)
        params[name] = kf.count_params(args[0])
    times = interleaved(candidates, rounds=a.rounds)
    base = next(iter(layers))
    print(f"batch {a.batch}, {a.width} -> {a.width}, {jax.devices()[0].platform}")
    print(
        "{:36s} {:>8s} {:>6s} {:>8s} {:>6s} {:>9s}".format(
            "layer", "cpu ms", "x", "MiB", "x", "params"
        )
    )
    for name in layers:
        t, m = times[name].cpu, memory[name]
        print(
            f"{name:36s} {t * 1e3:8.2f} {t / times[base].cpu:6.2f} {m / 2**20:8.1f} "
            f"{m / memory[base]:6.2f} {params[name]:9d}"
        )


if __name__ == "__main__":
    main()
