"""Test configuration: four host CPU devices for sharding tests, float64 helper."""

import os
import shutil
import tempfile

# Must happen before jax is imported anywhere: the sharding tests need several devices.
# Most of the suite's time is XLA compiling small programs; LLVM's optimisation level 0
# cuts the CPU time of tests/test_layers.py and tests/test_train.py by 24-30 % (measured
# here) and leaves the arithmetic as it is (no fast-math either way).
os.environ.setdefault(
    "XLA_FLAGS", "--xla_force_host_platform_device_count=4 --xla_backend_optimization_level=0"
)
os.environ.setdefault("MPLBACKEND", "Agg")
# Many tests (and the notebooks' kernels, which inherit this environment) compile the same
# small programs again: a compilation cache private to this process cuts the CPU time of
# tests/test_symbolic_model.py + tests/test_grid.py by 16 % from cold (measured here). One
# directory per process (xdist worker), so no two processes write one file; removed at the end.
# (xdist's workers inherit the controller's environment: a directory set here is replaced.)
_inherited = os.environ.get("JAX_COMPILATION_CACHE_DIR")
if _inherited is None or _inherited == os.environ.get("KANFLOW_TEST_XLA_CACHE"):
    _cache = tempfile.mkdtemp(prefix="kanflow-xla-cache-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = os.environ["KANFLOW_TEST_XLA_CACHE"] = _cache
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")
# pytest-xdist runs two processes on two cores: a multi-threaded BLAS in each (scipy's
# OpenBLAS, which also serves jax's CPU eigh and svd) makes them spin against each other
# (a Ritz solve took 15x longer)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import jax  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def x64():
    """Runs the test with ``jax_enable_x64``."""
    with jax.enable_x64(True):
        yield


def pytest_unconfigure(config):
    """Removes this process's compilation cache (an xdist worker may skip atexit handlers)."""
    if os.environ.get("KANFLOW_TEST_XLA_CACHE") == os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        shutil.rmtree(os.environ["KANFLOW_TEST_XLA_CACHE"], ignore_errors=True)
