"""The generic training core: state, jit-compiled step, fit loop, optimisers, losses,
checkpoints, sharding, EMA. Nothing here names a model; the model-specific schedules
(grid extension, S-KAN stages, image classification) are in :mod:`kanflow.recipes`."""

from kanflow.train.checkpoint import Checkpointer
from kanflow.train.ema import EmaState, ema_params, track_ema
from kanflow.train.loop import (
    DivergenceError,
    FitResult,
    NonFiniteError,
    array_batches,
    fit,
    steps_per_second,
)
from kanflow.train.losses import apply_model, rmse, smooth_one_hot, supervised_loss
from kanflow.train.optim import make_optimizer, make_schedule, uses_linesearch
from kanflow.train.sharding import (
    data_mesh,
    process_slice,
    replicate,
    shard_batch,
    shard_global_batch,
)
from kanflow.train.state import TrainState, create_state
from kanflow.train.step import make_train_step

__all__ = [
    "Checkpointer",
    "DivergenceError",
    "EmaState",
    "FitResult",
    "NonFiniteError",
    "TrainState",
    "apply_model",
    "array_batches",
    "create_state",
    "data_mesh",
    "ema_params",
    "fit",
    "make_optimizer",
    "make_schedule",
    "make_train_step",
    "process_slice",
    "replicate",
    "rmse",
    "shard_batch",
    "shard_global_batch",
    "smooth_one_hot",
    "steps_per_second",
    "supervised_loss",
    "track_ema",
    "uses_linesearch",
]
