"""Helpers shared by the models."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def count_params(params) -> int:
    """Total number of scalars in a pytree of arrays (e.g. ``variables["params"]``)."""
    return int(sum(np.prod(np.shape(leaf)) for leaf in jax.tree_util.tree_leaves(params)))


def check_images(images: Any, what: str, size: tuple[int, int] | None = None) -> None:
    """``ValueError`` unless ``images`` is a float ``[batch, H, W, C]`` array (``size = (H, W)``).

    Integer (e.g. uint8 0..255) images are refused: scale them to ``[0, 1]``
    first (``kanflow.data`` batches already are).
    """
    shape, dtype = np.shape(images), jnp.result_type(images)
    h, w = ("H", "W") if size is None else size
    if len(shape) != 4:
        raise ValueError(f"{what} expects images [batch, {h}, {w}, channels], got shape {shape}")
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(
            f"{what} expects float images scaled to [0, 1], got dtype {dtype}: divide uint8 "
            "images by 255 first (kanflow.data.batches / load_arrays do)"
        )
