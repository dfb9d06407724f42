"""Training core: state, jit-compiled step, fit loop, optimisers, checkpoints, sharding."""

from kanflow.train.checkpoint import Checkpointer
from kanflow.train.loop import FitResult, NonFiniteError, array_batches, fit, steps_per_second
from kanflow.train.losses import rmse, supervised_loss
from kanflow.train.optim import make_optimizer, make_schedule
from kanflow.train.sharding import data_mesh, replicate, shard_batch
from kanflow.train.state import TrainState, create_state
from kanflow.train.step import make_train_step, uses_linesearch

__all__ = [
    "Checkpointer",
    "FitResult",
    "NonFiniteError",
    "TrainState",
    "array_batches",
    "create_state",
    "data_mesh",
    "fit",
    "make_optimizer",
    "make_schedule",
    "make_train_step",
    "replicate",
    "rmse",
    "shard_batch",
    "steps_per_second",
    "supervised_loss",
    "uses_linesearch",
]
