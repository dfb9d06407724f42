"""The KAN scientist's loop (arXiv 2404.19756 §2.5): sparsity, pruning, symbolic edges, formulas.

* :mod:`~kanflow.symbolic.sparsity`: pykan's L1 + entropy penalty as a loss wrapper.
* pruning of plain KANs: :func:`kanflow.models.kan.prune` / ``prune_inputs``.
* :mod:`~kanflow.symbolic.library` and :func:`fit_affine`: edges as ``c f(a x + b) + d``.
"""

from kanflow.symbolic import library, sparsity
from kanflow.symbolic.fit import AffineFit, fit_affine, selection_loss
from kanflow.symbolic.sparsity import with_sparsity

__all__ = ["AffineFit", "fit_affine", "library", "selection_loss", "sparsity", "with_sparsity"]
