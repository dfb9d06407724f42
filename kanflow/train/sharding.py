"""Data parallelism over a ``jax.sharding.Mesh``.

One axis, ``"data"``: the train state is replicated on every device and each
batch is split along its leading axis. The same code runs on one CPU, one GPU,
a TPU slice or, after ``jax.distributed.initialize()``, on many hosts.

Multi-host: every process computes the same *global* batch (in-memory arrays
permuted by the same seed, or the same ``batch_fn(step)``), keeps only its own
rows (:func:`process_slice`: process ``i`` of ``P`` takes rows
``[i B / P, (i + 1) B / P)``) and :func:`shard_batch` assembles the global
array from the local slices; :func:`kanflow.train.fit` does this
(:func:`shard_global_batch`), so no example is fed twice. Launch one process
per host, each running the same script::

    import jax
    jax.distributed.initialize()  # coordinator, process count and id from the cluster env
    import kanflow as kf
    mesh = kf.train.data_mesh()  # every device of every host
    kf.train.fit(loss_fn, params, {"x": x, "y": y}, optimizer=opt, steps=1000,
                 batch_size=1024, mesh=mesh)  # 1024 = the global batch
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np
from jax.sharding import AxisType, Mesh, NamedSharding, PartitionSpec

__all__ = [
    "batch_sharding",
    "data_mesh",
    "process_slice",
    "replicate",
    "replicated",
    "shard_batch",
    "shard_global_batch",
]

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


def process_slice(batch, process_index: int, process_count: int):
    """Process ``process_index``'s rows of a global ``batch``: ``[B, ...] -> [B / P, ...]``.

    Every process holds the same global batch; process ``i`` of ``P`` keeps
    rows ``[i B / P, (i + 1) B / P)``, so the slices of all processes
    partition the batch.
    """
    if not 0 <= process_index < process_count:
        raise ValueError(f"process_index {process_index} is not in [0, {process_count})")

    def take(x):
        x = np.asarray(x)
        if x.shape[0] % process_count:
            raise ValueError(
                f"global batch size {x.shape[0]} must be divisible by the {process_count} processes"
            )
        n = x.shape[0] // process_count
        return x[process_index * n : (process_index + 1) * n]

    return jax.tree.map(take, batch)


def shard_global_batch(batch, mesh: Mesh):
    """The global ``batch`` (the same on every process) as arrays sharded over ``mesh``."""
    local = process_slice(batch, jax.process_index(), jax.process_count())
    return shard_batch(local, mesh)
