"""The KAN scientist's loop: sparsity, pruning, symbolic edges, formulas."""

from kanflow.symbolic import library
from kanflow.symbolic.fit import AffineFit, fit_affine, selection_loss

__all__ = ["AffineFit", "fit_affine", "library", "selection_loss"]
