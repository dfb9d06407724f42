"""The KAN scientist's loop (arXiv 2404.19756 §2.5): sparsity, pruning, symbolic edges, formulas.

* :func:`with_sparsity`: pykan's L1 + entropy penalty added to any KAN loss.
* pruning of plain KANs: :func:`kanflow.models.kan.prune` / ``prune_inputs``.
* :mod:`~kanflow.symbolic.library` and :func:`fit_affine`: edges as ``c f(a x + b) + d``.
* :class:`SymbolicKAN`, :func:`suggest_symbolic`, :func:`fix_symbolic`,
  :func:`auto_symbolic`, :func:`polynomial_swaps`, :func:`formula`: snapping edges to formulas.
* :func:`plot`: pykan-style network diagram.
* :func:`discover`: the whole loop in one call, data in, formula out.

Example:
  >>> import numpy as np, kanflow as kf
  >>> x = np.random.default_rng(0).uniform(-1, 1, (1000, 2))
  >>> found = kf.symbolic.discover(x, np.exp(np.sin(np.pi * x[:, 0]) + x[:, 1] ** 2))
  >>> found.formula  # doctest: +SKIP
  exp(x_2**2 + sin(3.1416*x_1))
"""

from kanflow.symbolic import library, sparsity
from kanflow.symbolic.discover import Discovery, discover, formula_rmse, holding_shifts
from kanflow.symbolic.fit import AffineFit, fit_affine, selection_loss
from kanflow.symbolic.model import (
    EdgeFit,
    SymbolicKAN,
    auto_symbolic,
    edge_values_on,
    equivalent,
    fix_symbolic,
    formula,
    network_scores,
    outside_domain,
    plot,
    polynomial_swaps,
    suggest_symbolic,
    tidy,
    to_symbolic,
)
from kanflow.symbolic.sparsity import with_sparsity

__all__ = [
    "AffineFit",
    "Discovery",
    "EdgeFit",
    "SymbolicKAN",
    "auto_symbolic",
    "discover",
    "edge_values_on",
    "equivalent",
    "fit_affine",
    "fix_symbolic",
    "formula",
    "formula_rmse",
    "holding_shifts",
    "library",
    "network_scores",
    "outside_domain",
    "plot",
    "polynomial_swaps",
    "selection_loss",
    "sparsity",
    "suggest_symbolic",
    "tidy",
    "to_symbolic",
    "with_sparsity",
]
