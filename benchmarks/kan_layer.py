"""KANLayer forward+backward against a dense matmul with the same FLOPs.

Run: ``python benchmarks/kan_layer.py [--batch 1024 --width 256 --grid 5 --order 3]``

Both sides compute the loss ``sum(y)`` and its gradient with respect to the
inputs and all parameters, in float32 on the default device:

* baseline: ``[B, in * (G + k)] @ [in * (G + k), out]`` (the spline matmul alone),
* KANLayer: B-spline basis (Cox-de Boor) + that matmul + the SiLU base branch.

It prints seconds per call, the compiled temporary memory, and the ratios.
Reference points measured on a 2-core CPU like this one: efficient-kan (PyTorch)
~3.1x the matmul, jaxKAN's SplineLayer ~4.6x, pykan ~73x.
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
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--grid", type=int, default=5)
    p.add_argument("--order", type=int, default=3)
    p.add_argument("--repeats", type=int, default=20)
    a = p.parse_args(argv)
    b, n, nb = a.batch, a.width, a.grid + a.order
    keys = jax.random.split(jax.random.key(0), 3)

    x = jax.random.uniform(keys[0], (b, n), jnp.float32, -1, 1)
    layer = kf.layers.KANLayer(n, grid_size=a.grid, order=a.order)
    variables = jax.jit(layer.init)(keys[1], x)

    @jax.jit
    def kan_fwd_bwd(params, x):
        loss = lambda p, x: layer.apply({**variables, "params": p}, x).sum()
        return jax.grad(loss, argnums=(0, 1))(params, x)

    feats = jax.random.uniform(keys[2], (b, n * nb), jnp.float32)
    w = jax.random.normal(keys[2], (n * nb, n), jnp.float32) / (n * nb) ** 0.5

    @jax.jit
    def matmul_fwd_bwd(w, f):
        return jax.grad(lambda w, f: (f @ w).sum(), argnums=(0, 1))(w, f)

    t_mm = time_call(matmul_fwd_bwd, w, feats, repeats=a.repeats)
    t_kan = time_call(kan_fwd_bwd, variables["params"], x, repeats=a.repeats)
    m_mm = peak_bytes(matmul_fwd_bwd, w, feats)
    m_kan = peak_bytes(kan_fwd_bwd, variables["params"], x)
    kind = jax.devices()[0].device_kind
    print(f"device: {kind}, batch {b}, in = out = {n}, G = {a.grid}, k = {a.order}")
    print(f"dense matmul fwd+bwd : {t_mm * 1e3:8.2f} ms   {m_mm / 2**20:7.1f} MiB")
    print(f"KANLayer fwd+bwd     : {t_kan * 1e3:8.2f} ms   {m_kan / 2**20:7.1f} MiB")
    print(f"ratio KAN / matmul   : {t_kan / t_mm:8.2f} x time, {m_kan / m_mm:5.2f} x memory")
    edges = b * n * n * nb * 4
    print(
        f"(a [batch, in, out, basis] float32 tensor would be {edges / 2**30:.1f} GiB: never built)"
    )


if __name__ == "__main__":
    main()
