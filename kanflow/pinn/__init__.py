"""Physics-informed networks.

Quantum wells: PINN wavefunctions for the 1-D Schroedinger equation, with exact and
finite-difference references. PDEs: :mod:`kanflow.pinn.pde` (derivatives, collocation,
residual-based attention and resampling, training with grid extension),
:mod:`kanflow.pinn.pdes` (the PIKAN benchmarks) and :mod:`kanflow.pinn.pde_reference`.
"""

from kanflow.pinn import pde, pde_reference, pdes
from kanflow.pinn.potentials import (
    Barrier,
    FiniteWell,
    InfiniteWell,
    Piecewise,
    Potential,
    random_piecewise,
    random_smooth,
)
from kanflow.pinn.quadrature import composite_gauss
from kanflow.pinn.reference import (
    exact_piecewise,
    finite_differences,
    reference_energies,
    reference_wavefunction,
)
from kanflow.pinn.solver import (
    SolveResult,
    check_quadrature,
    derivatives,
    rayleigh_quotient,
    solve,
    solve_states,
)

__all__ = [
    "Barrier",
    "FiniteWell",
    "InfiniteWell",
    "Piecewise",
    "Potential",
    "SolveResult",
    "check_quadrature",
    "composite_gauss",
    "derivatives",
    "exact_piecewise",
    "finite_differences",
    "pde",
    "pde_reference",
    "pdes",
    "random_piecewise",
    "random_smooth",
    "rayleigh_quotient",
    "reference_energies",
    "reference_wavefunction",
    "solve",
    "solve_states",
]
