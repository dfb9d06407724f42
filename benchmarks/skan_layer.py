"""SKANLayer cost before and after space selection, against a one-basis KANLayer.

Run: ``python benchmarks/skan_layer.py [--batch 1024 --width 128]``

Forward + backward (gradient of ``sum(y)`` with respect to inputs and every
parameter), float32, for ``width -> width`` layers:

* ``KANLayer``: B-spline G5 k3 (the baseline, ratio 1),
* ``SKANLayer mixed``: all twelve spaces of the default pool, every node mixing them,
* ``SKANLayer selected, all spaces used``: nodes spread evenly over the pool
  (every basis is still evaluated once, each node has one space's columns),
* ``SKANLayer selected, 1 space used``: every node chose the B-spline.

Prints seconds per call, compiled temporary memory, parameters, and ratios.
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(__file__))
from _timing import peak_bytes, time_call  # noqa: E402

import kanflow as kf  # noqa: E402


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--width", type=int, default=128)
    p.add_argument("--repeats", type=int, default=10)
    a = p.parse_args(argv)
    x = jax.random.uniform(jax.random.key(0), (a.batch, a.width), jnp.float32, -1, 1)
    pool = kf.layers.DEFAULT_SPACES
    spread = tuple(j % len(pool) for j in range(a.width))
    mixed = kf.layers.SKANLayer(a.width)
    layers = {
        "KANLayer (B-spline G5 k3)": kf.layers.KANLayer(a.width),
        f"SKANLayer mixed ({len(pool)} spaces)": mixed,
        f"SKANLayer selected, {len(pool)} spaces used": kf.layers.SKANLayer(
            a.width, selection=spread
        ),
        "SKANLayer selected, 1 space used": kf.layers.SKANLayer(a.width, selection=(0,) * a.width),
    }
    base = None
    print(f"batch {a.batch}, {a.width} -> {a.width}, {jax.devices()[0].platform}")
    print(f"{'layer':36s} {'ms':>8s} {'x':>6s} {'MiB':>8s} {'x':>6s} {'params':>9s}")
    for name, layer in layers.items():
        variables = jax.jit(layer.init)(jax.random.key(1), x)
        rest = {k: v for k, v in variables.items() if k != "params"}

        @jax.jit
        def fwd_bwd(params, x, layer=layer, rest=rest):
            loss = lambda p, x: layer.apply({"params": p, **rest}, x).sum()
            return jax.grad(loss, argnums=(0, 1))(params, x)

        secs = time_call(fwd_bwd, variables["params"], x, repeats=a.repeats)
        mem = peak_bytes(fwd_bwd, variables["params"], x)
        base = base or (secs, mem)
        print(
            f"{name:36s} {secs * 1e3:8.2f} {secs / base[0]:6.2f} {mem / 2**20:8.1f} "
            f"{mem / base[1]:6.2f} {kf.count_params(variables['params']):9d}"
        )


if __name__ == "__main__":
    main()
