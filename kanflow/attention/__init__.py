"""Multi-head self-attention with a pluggable row operator (softmax for now).

Kolmogorov-Arnold attention (KArAt, Fourier-KArAt) replaces the softmax on
each row of ``A = Q K^T / sqrt(d_head)`` by a learnable operator; this
module is where those operators live (see the KArAt issue). Today only
``"softmax"`` is implemented.
"""

from kanflow.attention.mhsa import OPERATORS, SelfAttention

__all__ = ["OPERATORS", "SelfAttention"]
