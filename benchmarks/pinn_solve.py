"""Wall time and accuracy of single PINN solves against kanflow's accuracy targets.

Run: ``python benchmarks/pinn_solve.py [--model mlp --method ritz --steps N]``

For the infinite well, the V0 = 50 finite well and the V0 = 100 barrier,
solves the ground state from a fresh start and prints wall time (compilation
included), the relative error of ``energy`` (the checked Rayleigh quotient) and
of ``trained_energy``, and the L2 error of psi, against the targets (ground
state: 1e-6 energy, 1e-4 L2, under 30 s on 2 CPU cores).
"""

from __future__ import annotations

import argparse

import numpy as np

import kanflow as kf


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=None, help="default: the method's")
    p.add_argument("--model", default="mlp", choices=["mlp", "kan"])
    p.add_argument("--method", default="ritz", choices=["ritz", "residual"])
    a = p.parse_args(argv)
    x = np.linspace(0.0, 1.0, 4001)
    print(f"{'potential':40s} {'time (s)':>8s} {'E rel':>9s} {'trained':>9s} {'L2 psi':>9s}")
    for pot in (kf.pinn.InfiniteWell(), kf.pinn.FiniteWell(50.0), kf.pinn.Barrier(100.0)):
        ref = kf.pinn.reference_energies(pot, 1)[0]
        r = kf.pinn.solve(pot, 0, a.model, a.steps, method=a.method)
        l2 = np.sqrt(np.trapezoid((r.psi(x) - kf.pinn.reference_wavefunction(pot, 0, x)) ** 2, x))
        rel, rel_r = abs(r.energy - ref) / ref, abs(r.trained_energy - ref) / ref
        print(f"{str(pot):40s} {r.wall_time:8.1f} {rel:9.1e} {rel_r:9.1e} {l2:9.1e}")
    print("targets: time < 30 s, E rel <= 1e-6, L2 <= 1e-4")


if __name__ == "__main__":
    main()
