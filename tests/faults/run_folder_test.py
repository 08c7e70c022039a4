"""Rows 1, 3, 6, 9, 12, 13 and 14 of issue 15: who owns a run folder, and what
is left in it after a crash, a full disk, a changed data file, a NaN run."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import yaml
from cli_fixtures import tiny_config
from cli_fixtures import write_config
from fault_helpers import cli_error
from fault_helpers import digest
from fault_helpers import env

from keras_svq.cli import main

pytestmark = pytest.mark.integration


def _train_argv(config, run, *extra):
    return [
        "train",
        "--config",
        str(config),
        "--output-dir",
        str(run),
        "--quiet",
        *extra,
    ]


def _start(config, run):
    return subprocess.Popen(
        [sys.executable, "-m", "keras_svq", *_train_argv(config, run)],
        env=env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(predicate, proc, seconds=240):
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_second_train_into_a_busy_folder_is_refused_then_takes_over(
    workdir, tmp_path, capsys, caplog
):
    series = workdir / "series.npy"
    slow = write_config(
        tmp_path / "slow.yaml",
        tiny_config(series, svq=False, epochs=40, batch_size=2, seed=1),
    )
    other = write_config(tmp_path / "other.yaml", tiny_config(series, svq=True))
    run = tmp_path / "run"
    first = _start(slow, run)
    try:
        lock = run / ".lock"
        assert _wait_for(lambda: lock.exists() and lock.stat().st_size > 0, first), (
            first.stderr.read() if first.poll() is not None else "no lock"
        )
        # Refused while it starts (before it wrote anything) and while it trains.
        err = cli_error(_train_argv(other, run), capsys)
        assert f"is in use by pid {first.pid}" in err
        assert _wait_for(lambda: (run / "config.yaml").exists(), first)
        holder = json.loads(lock.read_text())
        assert holder["pid"] == first.pid
        err = cli_error(_train_argv(other, run), capsys)
        assert err.startswith(
            f"keras-svq: error: run folder {run} is in use by pid {first.pid} on "
        )
        assert "since" in err and "choose another --output-dir" in err
        # The refused start changed nothing: the config is the first run's.
        assert (
            yaml.safe_load((run / "config.yaml").read_text())["training"]["epochs"]
            == 40
        )
        assert _wait_for(lambda: (run / "backup" / "state.json").exists(), first)
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=60)
    # The dead holder's lock is taken over (with a log line) and the run resumes.
    assert json.loads((run / ".lock").read_text())["pid"] == first.pid
    with caplog.at_level("INFO", logger="keras_svq"):
        code = main(
            _train_argv(
                slow,
                run,
                "--set",
                "training.epochs=40",
                "--set",
                "training.steps_per_epoch=1",
            )
        )
    # steps_per_epoch differs, so this is another config: refused, lock released.
    assert code == 2
    assert f"taking over the lock of pid {first.pid}" in caplog.text
    assert (run / ".lock").read_text() == ""


def test_nan_run_fails_with_exit_1_and_no_checkpoint(workdir, tmp_path, capsys):
    run = tmp_path / "nan"
    err = cli_error(
        _train_argv(
            workdir / "plain.yaml",
            run,
            "--set",
            "training.learning_rate=1e30",
            "--set",
            "training.steps_per_epoch=1",
            "--set",
            "training.epochs=1",
        ),
        capsys,
        code=1,
    )
    assert "became NaN/Inf by the end of epoch 1" in err
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "failed" and info["failed_epoch"] == 1
    assert not (run / "checkpoints").exists()


def test_resume_on_changed_data_is_refused(workdir, tmp_path, capsys):
    series = tmp_path / "series.npy"
    series.write_bytes((workdir / "series.npy").read_bytes())
    config = write_config(tmp_path / "c.yaml", tiny_config(series, svq=False, epochs=2))
    run = tmp_path / "run"
    assert main(_train_argv(config, run)) == 0
    info = json.loads((run / "run.json").read_text())
    info["status"] = "running"  # as if it had been killed before the end
    (run / "run.json").write_text(json.dumps(info))
    import numpy as np

    np.save(series, np.load(series) - 273.15)  # kelvin -> celsius
    before = digest(run)
    err = cli_error(_train_argv(config, run), capsys)
    assert f"the data changed since {run} started" in err
    assert "normaliser mean [279.835] -> [6.68" in err and "data.array" in err
    assert "--allow-data-change" in err
    assert digest(run) == before
    assert main(_train_argv(config, run, "--allow-data-change")) == 0


def _modes(root):
    return {
        str(p.relative_to(root)): oct(p.stat().st_mode & 0o777)
        for p in [root, *root.rglob("*")]
        if p.name != ".lock"
    }


@pytest.mark.parametrize(
    "umask, file_mode, dir_mode",
    [
        (0o022, "0o644", "0o755"),
        pytest.param(0o027, "0o640", "0o750", marks=pytest.mark.slow),
    ],
)
def test_everything_written_honours_the_umask(
    trained, workdir, tmp_path, umask, file_mode, dir_mode
):
    old = os.umask(umask)
    try:
        run = tmp_path / "run"
        assert main(_train_argv(workdir / "plain.yaml", run)) == 0
        export = tmp_path / "export"
        assert main(["export", "--run", str(run), "--output", str(export)]) == 0
    finally:
        os.umask(old)
    for root in (run, export):
        for name, mode in _modes(root).items():
            expected = dir_mode if (root / name).is_dir() else file_mode
            assert mode == expected, f"{root / name}: {mode}"


def test_interrupted_writes_leave_no_litter(workdir, tmp_path):
    series = workdir / "series.npy"
    config = write_config(tmp_path / "c.yaml", tiny_config(series, svq=False, epochs=2))
    run = tmp_path / "run"
    assert main(_train_argv(config, run)) == 0
    info = json.loads((run / "run.json").read_text())
    info["status"] = "running"
    (run / "run.json").write_text(json.dumps(info))
    # What a SIGKILL in the middle of each kind of write leaves.
    litter = [
        run / "checkpoints" / ".best.weights.h5.partial-abc123.tmp.weights.h5",
        run / ".run.json.partial-x1y2z3.tmp",
        run / "logs" / ".history.csv.partial-q9.tmp",
    ]
    for path in litter:
        path.write_bytes(b"half")
    assert main(_train_argv(config, run)) == 0
    assert not any(p.exists() for p in litter)
    export = tmp_path / "export"
    assert main(["export", "--run", str(run), "--output", str(export)]) == 0
    half = tmp_path / ".export.partial-k2j3h4"
    (half / "variables").mkdir(parents=True)
    assert (
        main(["export", "--run", str(run), "--output", str(export), "--overwrite"]) == 0
    )
    assert not half.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [
        ".export.lock"
    ]


def test_export_overwrite_never_leaves_the_folder_missing(trained, tmp_path):
    import threading

    export = tmp_path / "models" / "1"
    assert main(["export", "--run", str(trained), "--output", str(export)]) == 0
    missing, done = [], threading.Event()

    def watch():
        while not done.is_set():
            if not (export / "saved_model.pb").exists():
                missing.append(time.time())

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        assert (
            main(
                [
                    "export",
                    "--run",
                    str(trained),
                    "--output",
                    str(export),
                    "--overwrite",
                ]
            )
            == 0
        )
    finally:
        done.set()
        watcher.join()
    assert not missing, f"the export folder was missing {len(missing)} times"


def _tmpfs(path, size):
    path.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({proc.stderr.strip() or 'not root'})")


def test_disk_full_is_one_line_and_resumable(workdir, tmp_path, capsys):
    full = tmp_path / "full"
    _tmpfs(full, "700k")  # room for one checkpoint, not for the backup after it
    try:
        run = full / "run"
        err = cli_error(_train_argv(workdir / "plain.yaml", run), capsys)
        assert err.startswith(f"keras-svq: error: disk full: cannot write {run}/")
        assert "needs about 0.4 MB" in err and "free in" in err
        assert json.loads((run / "run.json").read_text())["status"] == "running"
        assert not [p for p in run.rglob(".*partial-*")]
    finally:
        subprocess.run(["umount", str(full)], check=False)


def _without_root_permissions():
    return ["capsh", "--drop=cap_dac_override,cap_dac_read_search", "--"]


def test_unwritable_folders_are_named(trained, workdir, tmp_path):
    if (
        os.geteuid() == 0
        and subprocess.run(["which", "capsh"], capture_output=True).returncode
    ):
        pytest.skip("running as root without capsh: permissions cannot be enforced")
    locked = tmp_path / "readonly"
    locked.mkdir()
    locked.chmod(0o555)
    import numpy as np

    np.save(tmp_path / "x.npy", np.zeros((1, 4, 16, 16, 1), "float32") + 280)
    prefix = _without_root_permissions() if os.geteuid() == 0 else []
    script = " ; ".join(
        " ".join([sys.executable, "-m", "keras_svq", *args]) + " 2>&1 | tail -1"
        for args in (
            [
                "predict",
                "--run",
                str(trained),
                "--input",
                str(tmp_path / "x.npy"),
                "--output",
                str(locked / "o.npz"),
            ],
            ["export", "--run", str(trained), "--output", str(locked / "exp")],
        )
    )
    proc = subprocess.run(
        [*prefix, "-c", script] if prefix else ["bash", "-c", script],
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("keras-svq")]
    assert (
        lines
        == [
            f"keras-svq: error: cannot write to {locked}: permission denied; choose a "
            "folder you can write to or change its permissions"
        ]
        * 2
    ), proc.stdout + proc.stderr
    assert list(locked.iterdir()) == []
