"""PINN wavefunctions for 1-D quantum wells, with exact and finite-difference references."""

from kanflow.pinn.potentials import Barrier, FiniteWell, InfiniteWell, Piecewise, Potential
from kanflow.pinn.quadrature import composite_gauss
from kanflow.pinn.reference import (
    exact_piecewise,
    finite_differences,
    reference_energies,
    reference_wavefunction,
)
from kanflow.pinn.solver import SolveResult, derivatives, rayleigh_quotient, solve

__all__ = [
    "Barrier",
    "FiniteWell",
    "InfiniteWell",
    "Piecewise",
    "Potential",
    "SolveResult",
    "composite_gauss",
    "derivatives",
    "exact_piecewise",
    "finite_differences",
    "rayleigh_quotient",
    "reference_energies",
    "reference_wavefunction",
    "solve",
]
