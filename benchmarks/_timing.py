"""Timing helpers shared by the benchmarks (not part of the library).

On a shared CPU one wall-clock sample means little (a dense matmul alternates
between two speeds from call to call), so :func:`interleaved` runs every
candidate once per round, over many rounds, and reports the median CPU time
(``time.process_time``, all threads of this process) and the median wall time.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable

import jax


@dataclasses.dataclass
class Timing:
    cpu: float  # median CPU seconds per call
    wall: float  # median wall seconds per call


def compile_once(fn: Callable, *args) -> tuple[Callable, int]:
    """``jit(fn)`` compiled for ``args`` and its peak memory estimate in bytes
    (XLA's arguments + outputs + temporaries, less the aliased buffers)."""
    compiled = jax.jit(fn).lower(*args).compile()
    m = compiled.memory_analysis()
    peak = m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes
    return compiled, int(peak - m.alias_size_in_bytes)


def interleaved(
    candidates: dict[str, tuple[Callable, tuple]], rounds: int = 20, inner: int = 3
) -> dict[str, Timing]:
    """Median time per call of each ``name -> (compiled fn, args)``, interleaved.

    Each round times ``inner`` back-to-back calls of every candidate in turn.
    """
    for fn, args in candidates.values():  # warm up
        for _ in range(2):
            jax.block_until_ready(fn(*args))
    cpu: dict[str, list[float]] = {k: [] for k in candidates}
    wall: dict[str, list[float]] = {k: [] for k in candidates}
    for _ in range(rounds):
        for name, (fn, args) in candidates.items():
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(inner):
                jax.block_until_ready(fn(*args))
            wall[name].append((time.perf_counter() - t0) / inner)
            cpu[name].append((time.process_time() - c0) / inner)
    return {k: Timing(statistics.median(cpu[k]), statistics.median(wall[k])) for k in candidates}


def time_call(fn: Callable, *args, repeats: int = 20, warmup: int = 2) -> float:
    """Median wall seconds per call of a compiled ``fn`` (results blocked on)."""
    for _ in range(warmup):
        jax.block_until_ready(fn(*args))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def peak_bytes(jitted: Callable, *args) -> int:
    """Peak memory estimate of ``jitted(*args)`` (see :func:`compile_once`)."""
    return compile_once(jitted, *args)[1]
