"""Small timing helpers shared by the benchmarks (not part of the library)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import jax


def time_call(fn: Callable, *args, repeats: int = 20, warmup: int = 2) -> float:
    """Median seconds per call of a compiled ``fn`` (results blocked on)."""
    for _ in range(warmup):
        jax.block_until_ready(fn(*args))
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def peak_bytes(jitted: Callable, *args) -> int:
    """XLA's compiled estimate of temporaries + outputs for ``jitted(*args)``."""
    stats = jitted.lower(*args).compile().memory_analysis()
    return int(stats.temp_size_in_bytes + stats.output_size_in_bytes)
