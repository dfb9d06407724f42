"""Test configuration: four host CPU devices for sharding tests, float64 helper."""

import os

# Must happen before jax is imported anywhere: the sharding tests need several devices.
# Most of the suite's time is XLA compiling small programs; LLVM's optimisation level 0
# cuts the CPU time of tests/test_layers.py and tests/test_train.py by 24-30 % (measured
# here) and leaves the arithmetic as it is (no fast-math either way).
os.environ.setdefault(
    "XLA_FLAGS", "--xla_force_host_platform_device_count=4 --xla_backend_optimization_level=0"
)
os.environ.setdefault("MPLBACKEND", "Agg")
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
