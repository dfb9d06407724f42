"""Helpers shared by the models."""

from __future__ import annotations

import jax
import numpy as np


def count_params(params) -> int:
    """Total number of scalars in a pytree of arrays (e.g. ``variables["params"]``)."""
    return int(sum(np.prod(np.shape(leaf)) for leaf in jax.tree_util.tree_leaves(params)))
