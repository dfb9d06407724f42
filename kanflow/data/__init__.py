"""Data: function-fitting targets (more loaders join as the framework grows)."""

from kanflow.data.functions import TARGETS, Target, bessel_j0, get_target, make_dataset

__all__ = ["TARGETS", "Target", "bessel_j0", "get_target", "make_dataset"]
