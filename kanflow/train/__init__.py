"""Training core: state, jit-compiled step, fit loop, optimisers, checkpoints, sharding."""

from kanflow.train.checkpoint import Checkpointer
from kanflow.train.classify import (
    ClassifierResult,
    evaluate_accuracy,
    forward_flops,
    train_classifier,
)
from kanflow.train.ema import EmaState, ema_params, track_ema
from kanflow.train.grids import GridPhase, Restart, best_of_restarts, fit_grid_schedule
from kanflow.train.loop import FitResult, NonFiniteError, array_batches, fit, steps_per_second
from kanflow.train.losses import image_classification_loss, rmse, supervised_loss
from kanflow.train.optim import make_optimizer, make_schedule, uses_linesearch
from kanflow.train.sharding import data_mesh, replicate, shard_batch
from kanflow.train.skan import SConvKANPhase, SKANPhase, fit_sconvkan, fit_skan
from kanflow.train.state import TrainState, create_state
from kanflow.train.step import make_train_step

__all__ = [
    "Checkpointer",
    "ClassifierResult",
    "EmaState",
    "FitResult",
    "GridPhase",
    "NonFiniteError",
    "Restart",
    "SConvKANPhase",
    "SKANPhase",
    "TrainState",
    "array_batches",
    "best_of_restarts",
    "create_state",
    "data_mesh",
    "ema_params",
    "evaluate_accuracy",
    "fit",
    "fit_grid_schedule",
    "fit_sconvkan",
    "fit_skan",
    "image_classification_loss",
    "forward_flops",
    "make_optimizer",
    "make_schedule",
    "make_train_step",
    "replicate",
    "rmse",
    "shard_batch",
    "steps_per_second",
    "supervised_loss",
    "track_ema",
    "train_classifier",
    "uses_linesearch",
]
