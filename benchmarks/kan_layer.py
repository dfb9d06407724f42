"""KAN layer forward + backward against a dense matmul with the same FLOPs, and against peers.

Run: ``python benchmarks/kan_layer.py [--batch 1024 --width 256 --grid 5 --order 3]``
(``--bases all`` adds every registered basis; ``--rounds`` sets the interleaved rounds).

Every candidate computes ``sum(y)`` and its gradient with respect to the
inputs and all parameters, in float32 on the default device:

* baseline: ``[B, in * n] @ [in * n, out]`` with gradients of both operands,
  ``n`` the basis's functions per edge (``G + k`` for B-splines);
* kanflow ``KANLayer``: the basis, that matmul and the SiLU base branch;
  for B-splines also after a grid update (non-uniform, per-input knots);
* peers, when importable in this Python (none is a kanflow dependency): the
  efficient-kan formulation in PyTorch (Cox-de Boor on ``[B, in, K]``, two
  ``F.linear``), jaxKAN's ``SplineLayer``, pykan's ``KANLayer``.

Candidates run interleaved, round by round, and the table shows median CPU
time (all threads) and wall time per call, the ratio to the baseline, and the
peak memory (XLA's estimate, arguments included; JAX candidates only).
Measured on a 2-core CPU (``--rounds 20``, knots as an argument): kanflow
B-spline 1.30x the matmul with the local form (1.24-1.6x over runs with
Cox-de Boor over all bases, 3.95-4.06x before the basis-major features and
the one derivative rule), the fastest peer 4.4x.
"""

from __future__ import annotations

import argparse
import os
import sys

import jax
import jax.numpy as jnp

sys.path.insert(0, os.path.dirname(__file__))
from _timing import compile_once, interleaved  # noqa: E402

import kanflow as kf  # noqa: E402


def matmul_case(b: int, rows: int, out: int, key) -> tuple:
    """The equal-FLOP baseline ``[b, rows] @ [rows, out]``, gradients of both operands."""
    k1, k2 = jax.random.split(key)
    feats = jax.random.uniform(k1, (b, rows), jnp.float32)
    w = jax.random.normal(k2, (rows, out), jnp.float32) / rows**0.5

    def fwd_bwd(w, f):
        return jax.grad(lambda w, f: (f @ w).sum(), argnums=(0, 1))(w, f)

    return fwd_bwd, (w, feats)


def kan_case(layer, x, key, knots=None) -> tuple:
    """A layer's fwd+bwd; its knots are an argument, as in training (a constant
    grid would let XLA fold the knot arithmetic: about 10 % faster, not real)."""
    variables = jax.jit(layer.init)(key, x)
    if knots is not None:
        variables = {**variables, "grid": {"knots": knots}}
    rest = {k: v for k, v in variables.items() if k != "params"}

    def fwd_bwd(params, rest, x):
        loss = lambda p, x: layer.apply({**rest, "params": p}, x).sum()
        return jax.grad(loss, argnums=(0, 1))(params, x)

    return fwd_bwd, (variables["params"], rest, x)


def torch_efficient_kan_case(b: int, n: int, grid: int, order: int):
    """efficient-kan's formulation in PyTorch: Cox-de Boor on ``[B, in, K]``, two linears."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    h = 2.0 / grid
    knots = (torch.arange(-order, grid + order + 1) * h - 1.0).expand(n, -1).contiguous()
    base_w = torch.randn(n, n, requires_grad=True)
    spline_w = torch.randn(n, n, grid + order, requires_grad=True)
    scaler = torch.randn(n, n, requires_grad=True)
    x = (torch.rand(b, n) * 2 - 1).requires_grad_(True)

    def bases(x):
        xe = x.unsqueeze(-1)
        out = ((xe >= knots[:, :-1]) & (xe < knots[:, 1:])).to(x.dtype)
        for p in range(1, order + 1):
            out = (xe - knots[:, : -(p + 1)]) / (knots[:, p:-1] - knots[:, : -(p + 1)]) * out[
                ..., :-1
            ] + (knots[:, p + 1 :] - xe) / (knots[:, p + 1 :] - knots[:, 1:-p]) * out[..., 1:]
        return out

    def fwd_bwd():
        for t in (base_w, spline_w, scaler, x):
            t.grad = None
        y = F.linear(F.silu(x), base_w) + F.linear(
            bases(x).view(b, -1), (spline_w * scaler.unsqueeze(-1)).view(n, -1)
        )
        y.sum().backward()
        return x.grad

    return fwd_bwd, ()


def jaxkan_case(b: int, n: int, grid: int, order: int, x):
    from flax import nnx
    from jaxkan.layers import get_layer

    layer = get_layer("spline")(n_in=n, n_out=n, k=order, G=grid, seed=0)
    graphdef, params, rest = nnx.split(layer, nnx.Param, ...)

    def fwd_bwd(params, x):
        def loss(params, x):
            return nnx.merge(graphdef, params, rest)(x).sum()

        return jax.grad(loss, argnums=(0, 1))(params, x)

    return fwd_bwd, (params, x)


def pykan_case(b: int, n: int, grid: int, order: int):
    import torch
    from kan.KANLayer import KANLayer as PykanLayer

    torch.manual_seed(0)
    layer = PykanLayer(n, n, num=grid, k=order, device="cpu")
    x = (torch.rand(b, n) * 2 - 1).requires_grad_(True)

    def fwd_bwd():
        layer.zero_grad()
        x.grad = None
        y = layer(x)[0]
        y.sum().backward()
        return x.grad

    return fwd_bwd, ()


def peers(b: int, n: int, grid: int, order: int, x) -> dict[str, tuple]:
    """The peers importable here, ``name -> (fn, args, compiled?)``; absent ones are reported."""
    out = {}
    for name, build in [
        ("efficient-kan (PyTorch)", lambda: torch_efficient_kan_case(b, n, grid, order)),
        ("jaxKAN SplineLayer", lambda: jaxkan_case(b, n, grid, order, x)),
        ("pykan KANLayer", lambda: pykan_case(b, n, grid, order)),
    ]:
        try:
            out[name] = build()
        except ImportError as err:
            print(f"(peer {name}: not installed here: {err.name})")
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--grid", type=int, default=5)
    p.add_argument("--order", type=int, default=3)
    p.add_argument("--bases", default="bspline", help="comma-separated names, or 'all'")
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--no-peers", action="store_true")
    a = p.parse_args(argv)
    b, n = a.batch, a.width
    names = kf.basis.names() if a.bases == "all" else a.bases.split(",")
    keys = iter(jax.random.split(jax.random.key(0), 64))
    x = jax.random.uniform(next(keys), (b, n), jnp.float32, -1, 1)

    cases: dict[str, tuple] = {}  # name -> (fn, args, baseline name or None)
    for name in names:
        spec = kf.basis.get(name)
        nb = spec.num_basis(a.grid, a.order)
        base = f"matmul [{b}, {n * nb}] @ [{n * nb}, {n}]"
        if base not in cases:
            cases[base] = (*matmul_case(b, n * nb, n, next(keys)), None)
        layer = kf.layers.KANLayer(n, basis=name, grid_size=a.grid, order=a.order)
        cases[f"kanflow {name}"] = (*kan_case(layer, x, next(keys)), base)
        if spec.has_grid:
            samples = jax.random.normal(next(keys), (b, n)) * 0.5
            knots = kf.grid.knots_from_samples(samples, a.grid, a.order, 0.02, (-1.0, 1.0))
            cases[f"kanflow {name}, updated grid"] = (*kan_case(layer, x, next(keys), knots), base)
    bspline_base = next((c[2] for k, c in cases.items() if k == "kanflow bspline"), None)

    candidates, memory = {}, {}
    for name, (fn, args, _) in cases.items():
        candidates[name], memory[name] = compile_once(fn, *args)
        candidates[name] = (candidates[name], args)
    if not a.no_peers and bspline_base is not None:
        for name, (fn, args) in peers(b, n, a.grid, a.order, x).items():
            if args:  # a JAX peer: compile it like ours
                compiled, memory[name] = compile_once(fn, *args)
                candidates[name] = (compiled, args)
            else:
                candidates[name] = (fn, args)
            cases[name] = (fn, args, bspline_base)

    times = interleaved(candidates, rounds=a.rounds)
    kind = jax.devices()[0].device_kind
    print(f"device: {kind}, batch {b}, in = out = {n}, G = {a.grid}, k = {a.order}, float32")
    head = ("candidate", "cpu ms", "ratio", "wall ms", "ratio", "MiB")
    print("{:44s} {:>8s} {:>6s} {:>8s} {:>6s} {:>7s}".format(*head))
    for name, (_, _, base) in cases.items():
        t = times[name]
        ref = times[base] if base else t
        mem = f"{memory[name] / 2**20:7.1f}" if name in memory else "      -"
        if base and name in memory and base in memory:
            mem += f" ({memory[name] / memory[base]:.2f}x)"
        print(
            f"{name:44s} {t.cpu * 1e3:8.2f} {t.cpu / ref.cpu:5.2f}x {t.wall * 1e3:8.2f} "
            f"{t.wall / ref.wall:5.2f}x {mem}"
        )
    if bspline_base is not None:
        nb = a.grid + a.order
        edges = b * n * n * nb * 4
        print(f"(a [batch, in, out, basis] float32 tensor: {edges / 2**30:.1f} GiB, never built)")


if __name__ == "__main__":
    main()
