"""A run killed with SIGKILL mid-epoch resumes with the same command and ends
with exactly the weights of an uninterrupted run (seeded, deterministic)."""

import json
import os
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest
from cli_fixtures import tiny_config
from cli_fixtures import write_config
from cli_fixtures import write_series

pytestmark = pytest.mark.integration


def _command(config, run):
    return [
        sys.executable,
        "-m",
        "keras_svq",
        "train",
        "--config",
        str(config),
        "--output-dir",
        str(run),
        "--quiet",
    ]


def _env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")


def _weights(path):
    arrays = []
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: (
                arrays.append((name, obj[()]))
                if isinstance(obj, h5py.Dataset)
                else None
            )
        )
    return dict(arrays)


def _kill_mid_training(config, run):
    """Starts the run, SIGKILLs it during the epoch after the first backup."""
    proc = subprocess.Popen(
        _command(config, run),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    state = run / "backup" / "state.json"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if state.exists():
            time.sleep(0.2)  # inside the next epoch
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait(timeout=60)
    return proc.returncode


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path):
    series = write_series(tmp_path / "series.npy", frames=160)
    # ~53 steps per epoch: long enough to be killed inside an epoch.
    config = write_config(
        tmp_path / "tiny.yaml",
        tiny_config(
            series, svq=True, epochs=2, batch_size=2, deterministic=True, seed=7
        ),
    )
    killed, reference = tmp_path / "killed", tmp_path / "reference"

    code = _kill_mid_training(config, killed)
    assert code == -signal.SIGKILL, "the run ended before it could be killed"
    status = json.loads((killed / "run.json").read_text())["status"]
    assert status == "running"
    state = json.loads((killed / "backup" / "state.json").read_text())
    assert state["epoch"] == 1

    resumed = subprocess.run(
        _command(config, killed),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    full = subprocess.run(
        _command(config, reference),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert full.returncode == 0, full.stderr[-3000:]

    a = _weights(killed / "checkpoints" / "final.weights.h5")
    b = _weights(reference / "checkpoints" / "final.weights.h5")
    assert a.keys() == b.keys() and a
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-6, atol=1e-7, err_msg=name)
    history_a = json.loads((killed / "logs" / "history.json").read_text())
    history_b = json.loads((reference / "logs" / "history.json").read_text())
    assert [r["epoch"] for r in history_a] == [1, 2]
    np.testing.assert_allclose(
        [r["val_loss"] for r in history_a],
        [r["val_loss"] for r in history_b],
        rtol=1e-6,
    )
