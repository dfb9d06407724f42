"""Data parallelism over a ``jax.sharding.Mesh``.

One axis, ``"data"``: the train state is replicated on every device and each
batch is split along its leading axis. The same code runs on one CPU, one GPU,
a TPU slice or, after ``jax.distributed.initialize()``, on many hosts (each
host then passes its own slice of the global batch; :func:`shard_batch`
assembles the global array).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

__all__ = ["data_mesh", "replicated", "batch_sharding", "shard_batch", "replicate"]

DATA_AXIS = "data"


def data_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh named ``"data"`` over ``devices`` (default: all devices)."""
    devices = list(jax.devices() if devices is None else devices)
    return jax.make_mesh(
        (len(devices),), (DATA_AXIS,), axis_types=(AxisType.Auto,), devices=devices
    )


def replicated(mesh: Mesh) -> NamedSharding:
    """Sharding that keeps a full copy on every device of ``mesh``."""
    return NamedSharding(mesh, PartitionSpec())


def batch_sharding(mesh: Mesh) -> NamedSharding:
    """Sharding that splits the leading (batch) axis over ``"data"``."""
    return NamedSharding(mesh, PartitionSpec(DATA_AXIS))


def replicate(tree, mesh: Mesh):
    """Places every leaf of ``tree`` on all devices of ``mesh``."""
    return jax.device_put(tree, replicated(mesh))


def shard_batch(batch, mesh: Mesh):
    """Splits every leaf of ``batch`` along axis 0 over ``mesh``.

    Single process: ``batch`` is the global batch. Multi-process: each
    process passes its local slice (global batch / process count).
    """
    n = mesh.shape[DATA_AXIS]
    sharding = batch_sharding(mesh)

    def put(x):
        x = np.asarray(x)
        global_size = x.shape[0] * jax.process_count()
        if global_size % n:
            raise ValueError(
                f"batch size {global_size} must be divisible by the {n} devices of the mesh"
            )
        if jax.process_count() == 1:
            return jax.device_put(x, sharding)
        return jax.make_array_from_process_local_data(sharding, x)

    return jax.tree.map(put, batch)
