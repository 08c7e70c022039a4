"""Run a test script in a fresh interpreter on another Keras backend."""

import importlib.util
import os

import pytest

from keras_svq.testing.processes import run_python


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
    stdout = run_python(script, env=backend_env(backend), timeout=timeout)
    return stdout.strip().splitlines()[-1]


_TRAIN_BOTH_WAYS = """
import numpy as np, keras
{build_source}

def train(flag):
    keras.utils.set_random_seed(0)
    model = build(flag)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, *model.inputs[0].shape[1:])).astype("float32")
    y = rng.standard_normal((4, *model.outputs[0].shape[1:])).astype("float32")
    model.fit(x, y, batch_size=2, epochs=2, verbose=0)
    return model.get_weights()

print(max(float(np.abs(a - b).max()) for a, b in zip(train(False), train(True))))
"""


def weight_difference_on_backend(backend, build_source):
    """Trains a model built two ways on `backend`; the largest weight difference.

    `build_source` is Python source that defines `build(flag)`, returning an
    uncompiled `keras.Model` (one input, one output); `build(False)` and
    `build(True)` are trained identically (same seed, data and SGD steps).
    """
    script = _TRAIN_BOTH_WAYS.format(build_source=build_source)
    return float(run_on_backend(backend, script))
