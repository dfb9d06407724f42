"""Multi-head self-attention and Kolmogorov-Arnold attention (KArAt).

:class:`SelfAttention` turns each row of ``A = Q K^T / sqrt(d_head)`` into
weights with softmax or with a learnable row operator,
:class:`KArAtOperator` (Fourier-KArAt or any basis, low rank ``r``).
"""

from kanflow.attention.karat import KArAtOperator, basis_row_operator, fourier_row_operator
from kanflow.attention.mhsa import SelfAttention

__all__ = ["KArAtOperator", "SelfAttention", "basis_row_operator", "fourier_row_operator"]
