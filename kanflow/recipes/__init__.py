"""Model-specific training recipes built on the generic core in :mod:`kanflow.train`.

* :mod:`~kanflow.recipes.grids`: a KAN through a schedule of grid sizes (pykan's grid
  extension), with best-of-restarts on the first grid;
* :mod:`~kanflow.recipes.skan`: S-KAN and S-ConvKAN through their three stages
  (mixed, selective, pruned);
* :mod:`~kanflow.recipes.classify`: image classification end to end (epochs over an
  image source, augmentation, test accuracy, FLOPs, time per epoch).
"""

from kanflow.recipes.classify import (
    ClassifierResult,
    evaluate_accuracy,
    forward_flops,
    image_classification_loss,
    train_classifier,
)
from kanflow.recipes.grids import GridPhase, Restart, best_of_restarts, fit_grid_schedule
from kanflow.recipes.skan import SConvKANPhase, SKANPhase, fit_sconvkan, fit_skan

__all__ = [
    "ClassifierResult",
    "GridPhase",
    "Restart",
    "SConvKANPhase",
    "SKANPhase",
    "best_of_restarts",
    "evaluate_accuracy",
    "fit_grid_schedule",
    "fit_sconvkan",
    "fit_skan",
    "forward_flops",
    "image_classification_loss",
    "train_classifier",
]
