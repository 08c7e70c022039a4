"""Row 13 and 14 of issue 15 under `kill -9` at random instants (slow: `-m slow`).

A bounded, seeded loop of SIGKILLs during start-up, training, checkpoint
writes and `export --overwrite`; after each, what is on disk is loadable,
and the final result equals an uninterrupted run, with no temporary left.
"""

import json
import os
import random
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
from fault_helpers import env

from keras_svq.cli import main

pytestmark = pytest.mark.slow


def _weights(path):
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda n, o: (
                arrays.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None
            )
        )
    return arrays


def _litter(root):
    return [p for p in root.rglob("*") if ".partial-" in p.name]


def _finished(run):
    path = run / "run.json"
    return path.exists() and json.loads(path.read_text()).get("status") == "finished"


def _kill_at_random(args, rng, low, high):
    proc = subprocess.Popen(
        [sys.executable, "-m", "keras_svq", *map(str, args)],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + rng.uniform(low, high)
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_random_kills_during_training_resume_to_the_same_weights(tmp_path, capsys):
    series = write_series(tmp_path / "series.npy", frames=720)
    config = write_config(
        tmp_path / "c.yaml",
        tiny_config(
            series, svq=True, epochs=3, batch_size=1, deterministic=True, seed=7
        ),
    )
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    argv = ["train", "--config", str(config), "--quiet", "--output-dir"]
    assert main([*argv, str(reference)]) == 0
    rng = random.Random(15)
    kills = 0
    for _ in range(6):  # until it finishes between two kills, or 6 kills
        code, err = _kill_at_random([*argv, killed], rng, 2, 12)
        if code == 0 or _finished(killed):  # (killed on its way out)
            break
        assert code == -signal.SIGKILL, err[-2000:]
        kills += 1
    if not _finished(killed):
        assert main([*argv, str(killed)]) == 0, capsys.readouterr().err
    assert kills >= 3
    assert not _litter(killed)
    want, got = (
        _weights(reference / "checkpoints" / "final.weights.h5"),
        _weights(killed / "checkpoints" / "final.weights.h5"),
    )
    assert want.keys() == got.keys()
    assert max(float(np.max(np.abs(want[k] - got[k]))) for k in want) == 0.0


def test_random_kills_during_export_keep_the_old_export(tmp_path):
    import tensorflow as tf

    series = write_series(tmp_path / "series.npy")
    config = write_config(tmp_path / "c.yaml", tiny_config(series, svq=False))
    run, export = tmp_path / "run", tmp_path / "models" / "1"
    assert (
        main(["train", "--config", str(config), "--output-dir", str(run), "--quiet"])
        == 0
    )
    assert main(["export", "--run", str(run), "--output", str(export)]) == 0
    rng = random.Random(14)
    for _ in range(4):
        _kill_at_random(
            ["export", "--run", run, "--output", export, "--overwrite"], rng, 3, 15
        )
        assert (export / "saved_model.pb").exists() and (
            export / "signature.json"
        ).exists()
    assert (
        main(["export", "--run", str(run), "--output", str(export), "--overwrite"]) == 0
    )
    assert not _litter(export.parent)
    signature = tf.saved_model.load(str(export)).signatures["serving_default"]
    out = signature(inputs=tf.zeros((1, 4, 16, 16, 1)) + 280.0)["output_0"]
    assert out.shape == (1, 4, 16, 16, 1)


_FILL_MID_WRITE = """
import sys
from keras_svq import cli, io_utils
io_utils._HDF5_BYTES_PER_VARIABLE = 0  # under-estimate: the write itself fills the disk
sys.argv = ["keras-svq", *sys.argv[1:]]
cli.console_main()
"""


def test_disk_filling_during_a_checkpoint_write_never_crashes(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    mount = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=700k", "tmpfs", str(full)],
        capture_output=True,
        text=True,
    )
    if mount.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({mount.stderr.strip() or 'not root'})")
    try:
        series = write_series(tmp_path / "series.npy")
        config = write_config(tmp_path / "c.yaml", tiny_config(series, svq=False))
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _FILL_MID_WRITE,
                "train",
                "--config",
                str(config),
                "--output-dir",
                str(full / "run"),
                "--quiet",
            ],
            capture_output=True,
            text=True,
            env=env(),
            timeout=300,
        )
        assert proc.returncode == 2, proc.stderr[-2000:]  # not 139 (segfault)
        lines = [
            line for line in proc.stderr.splitlines() if line.startswith("keras-svq")
        ]
        assert len(lines) == 1 and lines[0].startswith("keras-svq: error: disk full"), (
            lines
        )
        assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
        assert not _litter(full)
    finally:
        subprocess.run(["umount", str(full)], check=False)


def test_sigterm_ends_cleanly_and_the_run_resumes(tmp_path, capsys):
    series = write_series(tmp_path / "series.npy", frames=400)
    config = write_config(
        tmp_path / "c.yaml", tiny_config(series, svq=False, epochs=3, batch_size=1)
    )
    run = tmp_path / "run"
    argv = ["train", "--config", str(config), "--quiet", "--output-dir", str(run)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "keras_svq", *argv],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    state = run / "backup" / "state.json"
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and not state.exists():
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-2000:]
    assert err.strip().splitlines()[-1] == "keras-svq: terminated (SIGTERM)"
    assert not _litter(run)
    assert (run / ".lock").read_text() == ""  # released, not abandoned
    assert main(argv) == 0, capsys.readouterr().err
    assert _finished(run)
