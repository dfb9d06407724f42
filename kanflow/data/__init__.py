"""Data: function-fitting targets and image-classification sources (tfds + grain)."""

from kanflow.data.functions import TARGETS, Target, bessel_j0, get_target, make_dataset
from kanflow.data.images import (
    DIGITS,
    ImageSource,
    batches,
    eval_batches,
    image_source,
    load_arrays,
)

__all__ = [
    "DIGITS",
    "TARGETS",
    "ImageSource",
    "Target",
    "batches",
    "bessel_j0",
    "eval_batches",
    "get_target",
    "image_source",
    "load_arrays",
    "make_dataset",
]
