"""Whole-process comparisons with peers (not part of the library; imports neither jax nor torch).

:func:`run_fresh` times a benchmark script's worker as a fresh ``python``
process from outside (interpreter start, imports and every compilation
included); :func:`pykan_exp_sin_dataset` is pykan's first example as the
workers that run pykan use it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time


def run_fresh(script: str, args: list[str]) -> tuple[float, dict]:
    """Runs ``python script *args``; ``(wall seconds, the JSON on its last stdout line)``."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, script, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if out.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{out.stderr[-2000:]}")
    return seconds, json.loads(out.stdout.strip().splitlines()[-1])


def pykan_exp_sin_dataset() -> dict:
    """pykan's ``create_dataset`` of ``exp(sin(pi x) + y^2)`` (1000 train / 1000 test
    points), made float64; moves into a fresh temporary folder first, because pykan
    writes its checkpoints and figures into the working directory."""
    import os
    import tempfile

    import torch
    from kan.utils import create_dataset

    os.chdir(tempfile.mkdtemp())
    f = lambda x: torch.exp(torch.sin(torch.pi * x[:, [0]]) + x[:, [1]] ** 2)
    dataset = create_dataset(f, n_var=2, train_num=1000, test_num=1000, device="cpu")
    for split in ("train", "test"):  # float64 points and labels
        x = dataset[f"{split}_input"] = dataset[f"{split}_input"].double()
        dataset[f"{split}_label"] = f(x)
    return dataset
