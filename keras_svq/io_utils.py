"""Atomic file writes and the user-facing error type.

Everything a run leaves behind (checkpoints, configs, metrics, forecasts) is
written to a temporary name in the same folder and then renamed over the
target with `os.replace`, which is atomic on POSIX and Windows: a reader (or a
run restarted after SIGKILL) sees either the old file or the new one, never a
half-written one.
"""

import contextlib
import json
import os
import pathlib
import shutil
import tempfile


class UserError(ValueError):
    """A mistake the user can fix (bad path, unknown key, wrong name...).

    The command-line entry point prints its message on one line and exits
    with status 2, without a traceback.
    """


def _temporary_sibling(path, suffix=""):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent
    )
    os.close(fd)
    return pathlib.Path(tmp)


@contextlib.contextmanager
def atomic_path(path, suffix=""):
    """Yields a temporary path; on success it is renamed to `path`.

    `suffix` lets writers that check extensions (Keras wants `.weights.h5`,
    numpy wants `.npz`) accept the temporary name.
    """
    path = pathlib.Path(path)
    tmp = _temporary_sibling(path, suffix)
    try:
        yield tmp
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _fsync(path):
    try:
        with open(path, "rb") as f:
            os.fsync(f.fileno())
    except OSError:  # some file systems do not support fsync; best effort
        pass


def atomic_write_text(path, text):
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_json(path, obj):
    atomic_write_text(
        path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n"
    )


def atomic_save_npz(path, **arrays):
    import numpy as np

    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)


def atomic_save_weights(model, path):
    """`model.save_weights` through a temporary file (Keras wants `.weights.h5`)."""
    with atomic_path(path, suffix=".weights.h5") as tmp:
        model.save_weights(str(tmp), overwrite=True)


@contextlib.contextmanager
def atomic_directory(path):
    """Yields a temporary folder that replaces `path` when the block succeeds."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            old = path.with_name(f".{path.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def read_json(path):
    path = pathlib.Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"File not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path} is corrupt (not valid JSON: {e})") from None


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, pathlib.Path):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")
