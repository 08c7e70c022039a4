"""Helpers of the fault-injection suite: run the CLI, hash a folder."""

import hashlib
import os
import pathlib
import subprocess
import sys

from keras_svq.cli import main


def digest(folder):
    """One hash of every file's path, bytes and mode under `folder`."""
    h = hashlib.sha256()
    for path in sorted(pathlib.Path(folder).rglob("*")):
        if path.is_file():
            h.update(str(path).encode() + path.read_bytes())
            h.update(oct(path.stat().st_mode).encode())
    return h.hexdigest()


def cli_error(argv, capsys, code=2):
    """Runs the CLI in-process; asserts exit `code` and one line on stderr; returns it."""
    got = main(argv)
    err = capsys.readouterr().err.strip()
    assert got == code, err
    assert len(err.splitlines()) == 1, err
    return err


def env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")


def cli_process(args, *, prefix=(), timeout=300, **kwargs):
    """`python -m keras_svq ARGS` in a fresh process (optionally under `prefix`)."""
    return subprocess.run(
        [*prefix, sys.executable, "-m", "keras_svq", *map(str, args)],
        capture_output=True,
        text=True,
        env=env(),
        timeout=timeout,
        **kwargs,
    )


def last_line(text):
    lines = [line for line in text.strip().splitlines() if line.startswith("keras-svq")]
    return lines[-1] if lines else text.strip().splitlines()[-1]
