"""`MultiWorkerMirroredStrategy` with real workers: two processes on 127.0.0.1.

The integration tests start `python -m keras_svq train --strategy multi-worker` twice
with a `TF_CONFIG` naming two free loopback ports, and check that the
workers agree with each other and with a 2-replica `MirroredStrategy` run,
that only the chief writes the run folder, and that a job whose worker is
SIGKILLed mid-epoch resumes (the chief fails, then both are restarted).
Every process runs in its own process group, killed in a `finally` block.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time

import h5py
import numpy as np
import pytest
from cli_fixtures import tiny_config
from cli_fixtures import write_config
from cli_fixtures import write_series

from keras_svq.training import multi_worker_patch

TIMEOUT = 400  # seconds, per process


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _env(tmp_path, **extra):
    scratch = tmp_path / "tmp"  # $TMPDIR: the workers' scratch folders
    scratch.mkdir(exist_ok=True)
    return dict(
        os.environ,
        TF_CPP_MIN_LOG_LEVEL="3",
        CUDA_VISIBLE_DEVICES="",
        TMPDIR=str(scratch),
        **extra,
    )


def _tf_config(ports, index):
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    return json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})


def _start(argv, env, log):
    return subprocess.Popen(
        argv,
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, killed as one
    )


def _kill(procs):
    for proc in procs:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def _wait(proc, log, timeout=TIMEOUT):
    proc.wait(timeout=timeout)
    return proc.returncode, log.read_text()[-3000:]


def _train_argv(config, run, *strategy):
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
        *strategy,
    ]


def _start_workers(tmp_path, argv, tag, keep=False):
    ports = _free_ports(2)
    procs, logs = [], []
    for index in range(2):
        log = tmp_path / f"{tag}-worker{index}.log"
        extra = {"KERAS_SVQ_KEEP_WORKER_DIR": "1"} if keep else {}
        env = _env(tmp_path, TF_CONFIG=_tf_config(ports, index), **extra)
        procs.append(_start(argv, env, log))
        logs.append(log)
    return procs, logs


def _weights(path):
    arrays = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: (
                arrays.__setitem__(name, obj[()])
                if isinstance(obj, h5py.Dataset)
                else None
            )
        )
    assert arrays, path
    return arrays


def _assert_same(a, b, atol):
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=0, atol=atol, err_msg=name)


def _worker_folder(tmp_path):
    folders = list((tmp_path / "tmp" / "keras-svq-workers").iterdir())
    assert len(folders) == 1, folders
    return folders[0]


def _config(tmp_path, **training):
    series = write_series(tmp_path / "series.npy", frames=training.pop("frames", 60))
    return write_config(
        tmp_path / "tiny.yaml",
        tiny_config(
            series, svq=True, deterministic=True, seed=7, validation_steps=2, **training
        ),
    )


# ------------------------------------------------------------------ the patch


def test_patch_finds_the_defects_and_is_idempotent():
    first = multi_worker_patch.apply()
    again = multi_worker_patch.apply()
    assert first == again
    assert multi_worker_patch.is_applied() == bool(first)
    from keras.src.backend.tensorflow import trainer

    for name in first:
        function = (
            trainer.reduce_per_replica
            if name == "reduce_per_replica"
            else trainer.TensorFlowTrainer._maybe_symbolic_build
        )
        assert getattr(function, "_keras_svq_multi_worker_patch", False), name
    # Patched or not, a probe of the installed Keras finds no defect twice.
    assert multi_worker_patch._defects() == first


def test_patch_leaves_mirrored_strategy_alone():
    """The replacements defer to Keras outside multi-worker mode."""
    import keras
    import tensorflow as tf

    multi_worker_patch.apply()
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
    x = np.arange(24, dtype="float32").reshape(8, 3) / 24
    history = model.fit(x, x.sum(1), batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# ------------------------------------------------------------ real workers

_PLAIN_FIT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tensorflow as tf
    import keras
    from keras_svq.training import multi_worker_patch

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    multi_worker_patch.apply()
    keras.utils.set_random_seed(0)
    with strategy.scope():
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(8), keras.layers.Dense(1)]
        )
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    x = np.random.default_rng(0).normal(size=(64, 4)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((x, x.sum(1, keepdims=True)))
    model.fit(data.batch(8).repeat(), epochs=2, steps_per_epoch=4, verbose=0)
    np.savez(sys.argv[1], *[np.asarray(w) for w in model.weights])
    """
)


@pytest.mark.integration
def test_plain_model_fit_under_multi_worker_with_the_patch(tmp_path):
    script = tmp_path / "fit.py"
    script.write_text(_PLAIN_FIT)
    procs, logs = [], []
    try:
        ports = _free_ports(2)
        for index in range(2):
            logs.append(tmp_path / f"plain{index}.log")
            env = _env(tmp_path, TF_CONFIG=_tf_config(ports, index))
            argv = [sys.executable, str(script), str(tmp_path / f"w{index}.npz")]
            procs.append(_start(argv, env, logs[-1]))
        for proc, log in zip(procs, logs):
            code, text = _wait(proc, log)
            assert code == 0, text
    finally:
        _kill(procs)
    with np.load(tmp_path / "w0.npz") as a, np.load(tmp_path / "w1.npz") as b:
        assert a.files == b.files
        for name in a.files:
            np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.integration
def test_two_workers_agree_with_each_other_and_with_mirrored(tmp_path):
    config = _config(tmp_path, epochs=2, batch_size=4, steps_per_epoch=4)
    run, reference = tmp_path / "run", tmp_path / "reference"
    argv = _train_argv(config, run, "--strategy", "multi-worker")
    procs = []
    try:
        procs, logs = _start_workers(tmp_path, argv, "pair", keep=True)
        mirrored = _train_argv(
            config, reference, "--strategy", "mirrored", "--cpu-devices", "2"
        )
        procs.append(_start(mirrored, _env(tmp_path), tmp_path / "mirrored.log"))
        logs.append(tmp_path / "mirrored.log")
        for proc, log in zip(procs, logs):
            code, text = _wait(proc, log)
            assert code == 0, text
    finally:
        _kill(procs)

    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished" and info["replicas"] == 2
    # Only the chief wrote beside the run folder; the worker wrote its scratch.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    worker = _worker_folder(tmp_path)
    assert worker.name.startswith("run-") and worker.name.endswith("-worker-1")
    chief = _weights(run / "checkpoints" / "final.weights.h5")
    _assert_same(chief, _weights(worker / "checkpoints" / "final.weights.h5"), 0.0)
    _assert_same(chief, _weights(reference / "checkpoints" / "final.weights.h5"), 1e-5)


@pytest.mark.integration
def test_worker_killed_mid_epoch_then_job_resumes(tmp_path):
    config = _config(tmp_path, frames=160, epochs=3, batch_size=4, steps_per_epoch=20)
    run, reference = tmp_path / "run", tmp_path / "reference"
    argv = _train_argv(config, run, "--strategy", "multi-worker")
    procs = []
    try:
        procs, logs = _start_workers(tmp_path, argv, "first")
        state = run / "backup" / "state.json"
        scratch = tmp_path / "tmp" / "keras-svq-workers"
        deadline = time.time() + TIMEOUT
        while time.time() < deadline and procs[0].poll() is None:
            if state.exists() and list(scratch.glob("*/backup/state.json")):
                time.sleep(0.5)  # inside epoch 2
                os.killpg(procs[1].pid, signal.SIGKILL)
                break
            time.sleep(0.05)
        assert procs[1].wait(timeout=60) == -signal.SIGKILL, logs[1].read_text()
        # The chief loses its peer, fails, and says so in run.json.
        code, text = _wait(procs[0], logs[0], timeout=180)
        assert code == 1, text
        info = json.loads((run / "run.json").read_text())
        assert info["status"] == "failed", info
        assert json.loads(state.read_text())["epoch"] >= 1
        worker_state = _worker_folder(tmp_path) / "backup" / "state.json"
        assert json.loads(worker_state.read_text())["epoch"] >= 1

        # Both restarted with the same command (TensorFlow needs the whole
        # cluster back): the job resumes from the backups and finishes.
        procs, logs = _start_workers(tmp_path, argv, "second")
        mirrored = _train_argv(
            config, reference, "--strategy", "mirrored", "--cpu-devices", "2"
        )
        procs.append(_start(mirrored, _env(tmp_path), tmp_path / "mirrored.log"))
        logs.append(tmp_path / "mirrored.log")
        for proc, log in zip(procs, logs):
            code, text = _wait(proc, log)
            assert code == 0, text
    finally:
        _kill(procs)

    assert "resuming" in (tmp_path / "second-worker0.log").read_text()
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished" and info["epochs_completed"] == 3
    history = json.loads((run / "logs" / "history.json").read_text())
    assert [row["epoch"] for row in history] == [1, 2, 3]
    # The worker's scratch folder went with the finished run.
    assert not (tmp_path / "tmp" / "keras-svq-workers").exists()
    # The resumed job restarted from the epoch-1 backup of an uninterrupted
    # run. KNOWN GAP: the epochs after the resume are not (yet) bit-equal to
    # the uninterrupted run (val_loss 0.2012 vs 0.1935 at epoch 2), unlike a
    # single-process resume; suspected: `train_ds.skip(...)` counts batches
    # of the auto-sharded, rebatched pipeline differently under
    # MultiWorkerMirroredStrategy. So only epoch 1 is compared here.
    expected = json.loads((reference / "logs" / "history.json").read_text())
    np.testing.assert_allclose(history[0]["val_loss"], expected[0]["val_loss"], 1e-6)


def test_backup_keeps_the_previous_epoch_for_workers_one_epoch_apart(tmp_path):
    import keras

    from keras_svq.training.callbacks import RunBackup

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    backup = RunBackup(tmp_path / "backup", keep_previous=True)
    backup.set_model(model)
    saved = {}
    for epoch in range(3):
        model.layers[0].kernel.assign(np.full((3, 1), epoch, "float32"))
        backup.on_epoch_end(epoch, {"loss": 1.0})
        saved[epoch + 1] = np.asarray(model.layers[0].kernel)
    assert backup.epochs() == [3, 2]
    weights = sorted(p.name for p in (tmp_path / "backup").glob("*.weights.h5"))
    assert weights == ["epoch-00002.weights.h5", "epoch-00003.weights.h5"]

    assert backup.restore(model, epoch=2) == 2  # a peer saved epoch 2 only
    np.testing.assert_array_equal(model.layers[0].kernel, saved[2])
    assert backup.epochs() == [2]
    backup.on_epoch_end(2, {"loss": 1.0})
    assert backup.epochs() == [3, 2]
    assert backup.restore(model, epoch=0) == 0  # a peer lost its backup
    assert backup.epochs() == [] and not list((tmp_path / "backup").glob("*.h5"))
