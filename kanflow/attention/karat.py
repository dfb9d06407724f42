"""Kolmogorov-Arnold attention (KArAt; Maity et al. 2025): a learnable row operator.

Softmax turns each row ``a = A[k, :]`` of the scaled scores ``A = Q K^T /
sqrt(d_head)`` (``N`` tokens) into weights. KArAt replaces it, per head, by the
low-rank operator

    ``sigma(a) = W Phi(a)``,  ``Phi_j(a) = sum_i phi_ji(a_i)``  (``j = 1 .. r``),

a KAN layer ``N -> r`` with learnable univariate ``phi_ji`` followed by a
linear map ``W: r -> N`` (no bias; no projection onto the simplex).

* **Fourier-KArAt** (``basis="fourier"``): ``phi_ji(a) = sum_{m=0..G}
  c_jim cos(m a) + s_jim sin(m a)``. The ``m = 0`` term is a per-edge constant;
  its sine coefficient multiplies ``sin 0 = 0`` and never trains, but it is
  part of the structure that reproduces the paper's parameter counts exactly:
  ``2 (G+1) N r + r N = (2G + 3) N r`` per head. Coefficients start as
  ``N(0, 1) / sqrt(N (G + 1))`` (FourierKAN's ``N(0,1)``-scaled init).
* **General KArAt** (any other name from :mod:`kanflow.basis`): ``phi_ji(a) =
  sum_c c_jic B_c(a)`` with the registry's conventions (B-splines on a fixed
  uniform grid over ``grid_range``): ``n N r + r N`` parameters per head.

``W`` starts as PyTorch's ``nn.Linear`` default, ``U(+-1/sqrt(r))``.

Memory: the naive evaluation builds a ``[batch, heads, N, N, n]`` basis tensor
(``n = 2 (G+1)`` for Fourier), ``n`` times the attention matrix, and autodiff
keeps it for the backward pass; that is where the paper's 2.5-3× memory
comes from. Here the Fourier operator is rematerialised per layer
(``jax.checkpoint``): only the scores are kept for the backward pass, which
recomputes one layer's ``cos(m A)``, ``sin(m A)`` at a time. ``Phi`` is
accumulated frequency by frequency (``cos(m A) @ C_m + sin(m A) @ S_m``, never
a ``[..., N, 2G]`` tensor); the higher frequencies come from ``cos A`` and
``sin A`` by angle addition, and the ``m = 0`` term is a constant. General
bases are evaluated in rematerialised chunks of ``chunk`` query rows.

Variants (:class:`kanflow.models.ViT`): *blockwise* (a separate operator per
head in every layer) and *universal* (one operator per head, shared by all
layers).
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import Array

from kanflow.basis._trig import sincos
from kanflow.layers.config import Space

__all__ = ["KArAtOperator", "fourier_row_operator", "basis_row_operator"]


def fourier_row_operator(scores: Array, coef: Array, w: Array) -> Array:
    """Fourier-KArAt on every row. ``[B, h, Nq, N] -> [B, h, Nq, N]``.

    Args:
      scores: ``A``, ``[batch, heads, rows, N]``.
      coef: ``[heads, 2, G + 1, N, r]`` (cosine then sine coefficients, ``m = 0..G``).
      w: ``[heads, r, N]``.
    """
    return _fourier_rows(scores, coef, w)


@jax.checkpoint
def _fourier_rows(scores: Array, coef: Array, w: Array) -> Array:
    # Rematerialised as a whole: only `scores` is kept for the backward pass, which
    # recomputes this layer's cosines while the other layers hold none.
    h, _, g1, n, r = coef.shape
    b, _, q, _ = scores.shape
    a = jnp.swapaxes(scores, 0, 1).reshape(h, b * q, n)  # heads first: one transpose per layer
    # m = 0: cos 0 = 1 gives a constant per (head, output); sin 0 = 0 contributes nothing
    phi = jnp.broadcast_to(jnp.sum(coef[:, 0, 0], axis=1)[:, None, :], (h, b * q, r))
    if g1 > 1:
        s1, c1 = sincos(a)  # XLA's CPU sin and cos are ~8x slower than this
        c, s = c1, s1
        for m in range(1, g1):
            if m > 1:  # angle addition: cos / sin of m A from those of A
                c, s = c * c1 - s * s1, s * c1 + c * s1
            phi = phi + jnp.einsum("hxi,hir->hxr", c, coef[:, 0, m])
            phi = phi + jnp.einsum("hxi,hir->hxr", s, coef[:, 1, m])
    out = jnp.einsum("hxr,hrn->hxn", phi, w)
    return jnp.swapaxes(out.reshape(h, b, q, n), 0, 1)


def basis_row_operator(scores: Array, features, coef: Array, w: Array, chunk: int) -> Array:
    """General KArAt on every row. ``[B, h, Nq, N] -> [B, h, Nq, N]``.

    Args:
      scores: ``[batch, heads, rows, N]``.
      features: ``[..., N] -> [..., N, n]`` basis evaluation.
      coef: ``[heads, N, n, r]``.
      w: ``[heads, r, N]``.
      chunk: query rows per rematerialised chunk.
    """
    b, h, nq, n = scores.shape
    flat = coef.reshape(h, -1, coef.shape[-1])  # [h, N n, r]

    @jax.checkpoint
    def rows(block):  # [B, h, c, N]
        f = features(block)  # [B, h, c, N, n]
        return jnp.einsum("bhqk,hkr->bhqr", f.reshape(*block.shape[:3], -1), flat)

    c = max(1, min(chunk, nq))
    pad = (-nq) % c
    s = jnp.pad(scores, ((0, 0), (0, 0), (0, pad), (0, 0)))
    blocks = jnp.moveaxis(s.reshape(b, h, -1, c, n), 2, 0)  # [nb, B, h, c, N]
    phi = jax.lax.map(rows, blocks)  # [nb, B, h, c, r]
    phi = jnp.moveaxis(phi, 0, 2).reshape(b, h, -1, phi.shape[-1])[:, :, :nq]
    return jnp.einsum("bhqr,hrn->bhqn", phi, w)


class KArAtOperator(nn.Module):
    """Per-head learnable row operator. ``[B, heads, Nq, N] -> [B, heads, Nq, N]``.

    Attributes:
      num_heads: heads (one operator each).
      num_tokens: ``N``, the row length it was built for.
      rank: ``r``.
      basis: ``"fourier"`` or a name from ``kanflow.basis.names()``.
      grid_size: ``G`` (Fourier: frequencies ``0..G``).
      order: basis order for general bases.
      grid_range: grid interval for general bases.
      chunk: query rows per chunk for general bases.
      param_dtype: dtype of the parameters.
    """

    num_heads: int
    num_tokens: int
    rank: int = 12
    basis: str = "fourier"
    grid_size: int = 3
    order: int = 3
    grid_range: tuple[float, float] = (-1.0, 1.0)
    chunk: int = 16
    param_dtype: jnp.dtype = jnp.float32

    def __post_init__(self):
        for f in ("num_heads", "num_tokens", "rank", "grid_size", "chunk"):
            v = getattr(self, f)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{f} must be an int >= 1, got {v!r}")
        if self.basis != "fourier":
            self.space  # noqa: B018 - validates basis, grid_size, order, grid_range
        super().__post_init__()

    @property
    def space(self) -> Space:
        """The basis of a general (non-Fourier) operator."""
        return Space(self.basis, self.grid_size, self.order, self.grid_range)

    @nn.compact
    def __call__(self, scores: Array) -> Array:
        if scores.ndim != 4 or scores.shape[1] != self.num_heads:
            raise ValueError(
                f"KArAtOperator expects scores [batch, {self.num_heads}, rows, N], "
                f"got shape {scores.shape}"
            )
        if scores.shape[-1] != self.num_tokens:
            raise ValueError(
                f"this operator was built for num_tokens={self.num_tokens} but the scores have "
                f"{scores.shape[-1]} tokens (a universal operator needs the same token count "
                "in every layer)"
            )
        h, n, r = self.num_heads, self.num_tokens, self.rank
        bound = 1.0 / math.sqrt(r)
        w = self.param(
            "w",
            lambda k, s, d: jax.random.uniform(k, s, d, -bound, bound),
            (h, r, n),
            self.param_dtype,
        )
        if self.basis == "fourier":
            g1 = self.grid_size + 1
            std = 1.0 / math.sqrt(n * g1)
            coef = self.param(
                "coef", nn.initializers.normal(std), (h, 2, g1, n, r), self.param_dtype
            )
            return fourier_row_operator(scores, coef, w)
        space = self.space
        nb = space.num_basis()
        coef = self.param(
            "coef",
            nn.initializers.normal(1.0 / math.sqrt(n * nb)),
            (h, n, nb, r),
            self.param_dtype,
        )
        grid = space.init_grid(n, scores.dtype)

        def features(x):
            return space.features(x, grid)

        return basis_row_operator(scores, features, coef, w, self.chunk)
