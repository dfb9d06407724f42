"""The node-pruning rule shared by every KAN family (pykan's, arXiv 2404.19756 §2.5.1).

A hidden node (an S-KAN node, an S-ConvKAN channel, a KAN node) is *live* if
some edge into it **and** some edge out of it have an importance score above
the threshold; a node that is dead on either side is removed. The scores are
pykan's ``mean |phi(x)|`` over data (:func:`kanflow.layers.edge_scores`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["live_nodes"]


def live_nodes(incoming: np.ndarray, outgoing: np.ndarray, threshold: float) -> np.ndarray:
    """Indices of the live nodes, in order.

    Args:
      incoming: ``[n]``, each node's largest incoming edge score.
      outgoing: ``[n]``, each node's largest outgoing edge score.
      threshold: a node is live if both exceed it.

    Raises:
      ValueError: a score or the threshold is not finite.

    Returns:
      ``[k]`` node indices, ``k >= 1``: when no node is live, the one whose
      weaker side is strongest is kept, so the network stays connected.
    """
    incoming, outgoing = np.asarray(incoming), np.asarray(outgoing)
    if incoming.shape != outgoing.shape or incoming.ndim != 1 or incoming.size == 0:
        raise ValueError(
            f"incoming and outgoing must be equal-length score vectors [n], got shapes "
            f"{incoming.shape} and {outgoing.shape}"
        )
    if not (np.all(np.isfinite(incoming)) and np.all(np.isfinite(outgoing))):
        raise ValueError(
            "the edge scores are not finite (NaN or inf in the data they were measured on, "
            "or in the network): pruning on them would keep an arbitrary node"
        )
    if not np.isfinite(threshold):
        raise ValueError(f"threshold must be finite, got {threshold!r}")
    keep = np.flatnonzero((incoming > threshold) & (outgoing > threshold))
    if keep.size == 0:
        keep = np.array([int(np.argmax(np.minimum(incoming, outgoing)))])
    return keep
