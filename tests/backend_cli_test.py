"""`keras-svq --backend`: training on another Keras backend, and one-line errors
for what only TensorFlow can do (SavedModel export, tf.distribute)."""

import importlib.util
import os
import subprocess
import sys

import pytest
import yaml
from cli_fixtures import tiny_config
from cli_fixtures import write_series

REQUIRED = {b for b in os.environ.get("KERAS_SVQ_REQUIRE_BACKENDS", "").split(",") if b}


def _need(backend):
    if importlib.util.find_spec(backend) is None:
        if backend in REQUIRED:
            pytest.fail(f"backend {backend!r} is required but not installed")
        pytest.skip(f"{backend} is not installed")


def _cli(*args, env=None):
    return subprocess.run(
        [sys.executable, "-m", "keras_svq", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **(env or {})),
        timeout=600,
    )


def test_train_on_the_torch_backend(tmp_path):
    _need("torch")
    config = tmp_path / "tiny.yaml"
    config.write_text(
        yaml.safe_dump(tiny_config(write_series(tmp_path / "s.npy"), svq=True))
    )
    proc = _cli(
        "--backend",
        "torch",
        "train",
        "--config",
        str(config),
        "--output-dir",
        str(tmp_path / "run"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "run" / "checkpoints" / "best.weights.h5").exists()
    assert (
        "svq_perplexity_2" in (tmp_path / "run" / "logs" / "history.json").read_text()
    )


def test_export_needs_tensorflow_in_one_line(tmp_path):
    _need("jax")
    proc = _cli(
        "--backend",
        "jax",
        "export",
        "--run",
        str(tmp_path),
        "--output",
        str(tmp_path / "out"),
    )
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("keras-svq: error: export converts through TensorFlow")
    assert "--backend tensorflow" in last


def test_distribution_strategies_need_tensorflow():
    _need("jax")
    code = (
        "from keras_svq.training.strategy import get_strategy\n"
        "try:\n    get_strategy('mirrored')\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3"),
    )
    assert proc.stdout.startswith("UserError --strategy mirrored uses tf.distribute"), (
        proc.stderr
    )
