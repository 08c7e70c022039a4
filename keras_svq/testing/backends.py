"""Run a test script in a fresh interpreter on another Keras backend."""

import importlib.util
import os
import subprocess
import sys

import pytest


def backend_env(backend):
    """The environment of a CPU-only process on Keras' `backend`."""
    return dict(
        os.environ,
        KERAS_BACKEND=backend,
        TF_CPP_MIN_LOG_LEVEL="3",
        CUDA_VISIBLE_DEVICES="",
        JAX_PLATFORMS="cpu",
    )


def run_on_backend(backend, script, timeout=600):
    """Runs `python -c script` on `backend`; returns its last stdout line.

    Skips the calling test when the backend is not installed, unless
    `KERAS_SVQ_REQUIRE_BACKENDS` (comma-separated; CI sets `jax,torch`)
    names it; fails with the process's stderr if the script fails.
    """
    required = os.environ.get("KERAS_SVQ_REQUIRE_BACKENDS", "").split(",")
    if importlib.util.find_spec(backend) is None and backend not in required:
        pytest.skip(f"{backend} is not installed")
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=backend_env(backend),
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]
