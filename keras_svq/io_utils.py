"""Safe files: atomic writes, permissions, checksums, clear errors.

Everything a run leaves behind (checkpoints, configs, metrics, forecasts,
exports) is written to a temporary name in the same folder and then renamed
over the target with `os.replace`, which is atomic on POSIX and Windows: a
reader (or a run restarted after SIGKILL) sees either the old file or the new
one, never a half-written one. Temporary names carry `TEMP_MARK`
(`.NAME.partial-XXXX`), so what a killed writer left is recognised and
removed at the next start (`remove_litter`).

Files and folders are created with the permissions the umask gives (0644 /
0755 under umask 022), as `open` and `mkdir` would, so another user (a TF
Serving process, a colleague) can read them; `tempfile` alone would give 0600.

Weights files get a `.sha256` sidecar (`atomic_save_weights`), verified by
`verify_checksum` before they are loaded, so bit-rot is a one-line error.

A failed write names what the user can fix: a folder without write
permission, a read-only file system, or a full disk (`DiskFull`, with the
bytes needed and free).

YAML (configs, presets) is read with `yaml_load` / `read_yaml`, safe loaders
that also read `1e-3` as a float, and written with `yaml_dump`.
"""

import contextlib
import errno
import hashlib
import json
import logging
import os
import pathlib
import re
import shutil
import tempfile

import yaml

logger = logging.getLogger(__name__)

TEMP_MARK = ".partial-"
CHECKSUM_SUFFIX = ".sha256"


class UserError(ValueError):
    """A mistake the user can fix (bad path, unknown key, wrong name...).

    The command-line entry point prints its message on one line and exits
    with status 2, without a traceback.
    """


class DiskFull(UserError):
    """A write failed for lack of space (ENOSPC / EDQUOT); what was there is intact."""


# ------------------------------------------------------------ permissions


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def share(path, directory=False):
    """Gives `path` the mode a plain `open`/`mkdir` would (0666/0777 minus the umask)."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def share_tree(root):
    """`share` for a folder and everything in it (what a library wrote privately)."""
    share(root, directory=True)
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            share(os.path.join(folder, name), directory=True)
        for name in files:
            share(os.path.join(folder, name))


# ----------------------------------------------------------------- errors


def _existing_folder(path):
    folder = pathlib.Path(path).parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def _megabytes(n):
    return f"{n / 1e6:.1f} MB" if n >= 1e5 else f"{int(n)} bytes"


def _is_disk_full(error):
    return getattr(error, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or (
        "No space left on device" in str(error) or "Disk quota exceeded" in str(error)
    )


def explain_os_error(error, target, needed=None):
    """A one-line `UserError` for an `OSError` the user can fix, else None."""
    target = pathlib.Path(target)
    folder = _existing_folder(target) if not target.is_dir() else target
    if _is_disk_full(error):
        try:
            free = _megabytes(shutil.disk_usage(folder).free)
        except OSError:
            free = "unknown"
        need = f"needs about {_megabytes(needed)}, " if needed else ""
        return DiskFull(
            f"disk full: cannot write {target} ({need}{free} free in {folder}); "
            "free some space and run the same command again (nothing written before "
            "was changed)"
        )
    code = getattr(error, "errno", None)
    if isinstance(error, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return UserError(
            f"cannot write to {folder}: permission denied; choose a folder you can "
            "write to or change its permissions"
        )
    if code == errno.EROFS:
        return UserError(
            f"cannot write to {folder}: read-only file system; choose another folder"
        )
    return None


@contextlib.contextmanager
def os_errors(target, needed=None):
    """Re-raises fixable `OSError`s of the block as one-line `UserError`s."""
    try:
        yield
    except OSError as e:
        explained = explain_os_error(e, target, needed)
        if explained is None:
            raise
        raise explained from None


def make_dirs(path):
    """`mkdir -p` whose failure names the folder."""
    with os_errors(pathlib.Path(path) / "x"):
        pathlib.Path(path).mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------- atomic writes


def _temporary_sibling(path, suffix=""):
    path = pathlib.Path(path)
    make_dirs(path.parent)
    with os_errors(path):
        fd, tmp = tempfile.mkstemp(
            prefix=f".{path.name}{TEMP_MARK}", suffix=f".tmp{suffix}", dir=path.parent
        )
    os.close(fd)
    return pathlib.Path(tmp)


@contextlib.contextmanager
def atomic_path(path, suffix="", needed=None):
    """Yields a temporary path; on success it is renamed to `path`.

    `suffix` lets writers that check extensions (Keras wants `.weights.h5`,
    numpy wants `.npz`) accept the temporary name. `needed` (bytes, an
    estimate) goes into the message if the disk fills.
    """
    path = pathlib.Path(path)
    tmp = _temporary_sibling(path, suffix)
    try:
        _check_space(path, needed)
        yield tmp
        _fsync(tmp)
        share(tmp)
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)  # before measuring what is free
        explained = explain_os_error(e, path, needed)
        if explained is None:
            raise
        raise explained from None
    finally:
        if tmp.exists():
            tmp.unlink()


def _check_space(path, needed):
    """Refuses a write of `needed` bytes that cannot fit, before it starts.

    Some writers (HDF5) leave their library in a broken state when the disk
    fills under them; not starting is cleaner than failing half-way.
    """
    if not needed:
        return
    try:
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return
    if free < needed:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))


def _fsync(path):
    try:
        with open(path, "rb") as f:
            os.fsync(f.fileno())
    except OSError:  # some file systems do not support fsync; best effort
        pass


def atomic_write_text(path, text):
    with atomic_path(path, needed=len(text.encode())) as tmp:
        tmp.write_text(text)


def atomic_write_json(path, obj):
    atomic_write_text(
        path, json.dumps(obj, indent=2, sort_keys=False, default=_json_default) + "\n"
    )


def atomic_save_npz(path, **arrays):
    import numpy as np

    needed = sum(np.asarray(a).nbytes for a in arrays.values())
    with atomic_path(path, suffix=".npz", needed=needed) as tmp:
        np.savez(tmp, **arrays)


# -------------------------------------------------------------- checksums


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checksum_path(path):
    return pathlib.Path(f"{path}{CHECKSUM_SUFFIX}")


def _recorded_checksums(path):
    sidecar = checksum_path(path)
    if not sidecar.exists():
        return None
    return [
        line.split()[0] for line in sidecar.read_text().splitlines() if line.strip()
    ]


def verify_checksum(path):
    """Raises `UserError` when `path` no longer matches its `.sha256` sidecar.

    Files without a sidecar (written by other tools or older versions) pass.
    """
    path = pathlib.Path(path)
    recorded = _recorded_checksums(path)
    if recorded is None:
        return False
    if sha256_file(path) not in recorded:
        raise UserError(
            f"Checkpoint {path} is corrupt: its SHA-256 differs from the one recorded "
            f"when it was written ({checksum_path(path).name}), so the file was damaged "
            "on disk or in a copy; restore it from a copy, or use another checkpoint"
        )
    return True


def atomic_save_weights(model, path):
    """`model.save_weights` through a temporary file, with a `.sha256` sidecar.

    Two-phase, so that a kill at any instant leaves a checkpoint that passes
    `verify_checksum`: the sidecar first lists the old and the new digests,
    then the weights are renamed into place, then the sidecar keeps the new
    digest only.
    """
    path = pathlib.Path(path)
    with atomic_path(path, suffix=".weights.h5", needed=_weights_size(model)) as tmp:
        with _quiet_hdf5_teardown():
            model.save_weights(str(tmp), overwrite=True)
        digest = sha256_file(tmp)
        previous = _recorded_checksums(path) or []
        atomic_write_text(checksum_path(path), "\n".join([digest, *previous]) + "\n")
    atomic_write_text(checksum_path(path), f"{digest}  {path.name}\n")


# HDF5 bytes per variable beyond its values (groups, attributes), measured
# on Keras 3 `.weights.h5` files.
_HDF5_BYTES_PER_VARIABLE = 4800


def _weights_size(model):
    """About the size of `model.save_weights`' file, in bytes."""
    import numpy as np

    values = sum(
        int(np.prod(w.shape)) * np.dtype(w.dtype).itemsize for w in model.weights
    )
    return values + _HDF5_BYTES_PER_VARIABLE * len(model.weights)


@contextlib.contextmanager
def _quiet_hdf5_teardown():
    """Keeps h5py's teardown flood off stderr when a write fails for lack of space.

    After such a failure every h5py object freed reports the same error
    (Cython prints a traceback per object); the failure itself is raised and
    explained once. What the block writes to stderr is held back and passed
    on unless the disk was full.
    """
    import gc
    import io
    import sys

    previous, held = sys.stderr, io.StringIO()
    sys.stderr = held
    full = False
    try:
        yield
    except BaseException as e:
        full = _is_disk_full(e)
        if full:
            # Free the failed writer's objects now, while stderr is held.
            e.__traceback__ = None
            gc.collect()
        raise
    finally:
        sys.stderr = previous
        if not full and held.getvalue():
            previous.write(held.getvalue())


def remove_with_checksum(path):
    path = pathlib.Path(path)
    path.unlink(missing_ok=True)
    checksum_path(path).unlink(missing_ok=True)


# ---------------------------------------------------------------- folders


def _exchange(a, b):
    """Atomically swaps two paths (Linux `renameat2(RENAME_EXCHANGE)`); False if unsupported."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(
        at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False  # this file system cannot exchange: fall back to two renames
    raise OSError(code, os.strerror(code), str(b))


@contextlib.contextmanager
def atomic_directory(path):
    """Yields a temporary folder that replaces `path` when the block succeeds.

    When `path` exists, the two are exchanged in one atomic step where the
    file system allows it (Linux), so a reader polling `path` (TF Serving)
    never finds it missing; elsewhere the old folder is renamed away just
    before the new one is renamed in.
    """
    path = pathlib.Path(path)
    make_dirs(path.parent)
    with os_errors(path):
        tmp = pathlib.Path(
            tempfile.mkdtemp(prefix=f".{path.name}{TEMP_MARK}", dir=path.parent)
        )
    try:
        with os_errors(path):
            yield tmp
            share_tree(tmp)
            if not path.exists():
                os.replace(tmp, path)
            elif _exchange(tmp, path):
                shutil.rmtree(tmp)  # now the old folder
            else:
                old = pathlib.Path(
                    tempfile.mkdtemp(prefix=f".{path.name}{TEMP_MARK}", dir=path.parent)
                )
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def is_litter(name):
    """True for the temporary name of an interrupted write (`.NAME.partial-XXXX...`)."""
    return name.startswith(".") and TEMP_MARK in name


def remove_litter(folder, recursive=False, target=None):
    """Removes what interrupted writes left in `folder`; returns the paths removed.

    Only for folders this process owns (a locked run folder), or with
    `target` (a file or folder name) for the temporaries of that one target
    (a locked export): a write in progress elsewhere would lose its file.
    """
    folder = pathlib.Path(folder)
    prefix = "." if target is None else f".{target}{TEMP_MARK}"
    if not folder.is_dir():
        return []
    removed = []
    walk = os.walk(folder) if recursive else [(str(folder), [], None)]
    for parent, dirs, _ in walk:
        for entry in os.scandir(parent):
            if not (is_litter(entry.name) and entry.name.startswith(prefix)):
                continue
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
                if entry.name in dirs:
                    dirs.remove(entry.name)
            else:
                os.unlink(entry.path)
            removed.append(pathlib.Path(entry.path))
    if removed:
        logger.info(
            "removed %d temporary file(s) of interrupted writes in %s",
            len(removed),
            folder,
        )
    return removed


def read_json(path):
    path = pathlib.Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"File not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise UserError(f"{path} is corrupt (not valid JSON: {e})") from None


# ------------------------------------------------------------------- YAML


class YamlLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` that reads `1e-3` as a float.

    YAML 1.1 (PyYAML) resolves a float only with a dot (`1.0e-3`), so the
    `1e-3` everyone writes in a config would otherwise be the string "1e-3".
    """


YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def yaml_load(text):
    """Parses YAML text safely (no Python objects), reading `1e-3` as a float."""
    return yaml.load(text, Loader=YamlLoader)  # noqa: S506 - a SafeLoader subclass


def yaml_dump(obj):
    """YAML text of plain values, keys in insertion order, short lists inline."""
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=None)


def read_yaml(path, what="YAML file", expected="a mapping"):
    """The mapping a YAML file holds; a missing, invalid or non-mapping file is a `UserError`.

    Args:
        path: str or path.
        what: str. How the not-found error names the file. Defaults to "YAML file".
        expected: str. What the non-mapping error says the file must hold.
            Defaults to "a mapping".
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise UserError(f"{what} not found: {path}")
    try:
        data = yaml_load(path.read_text())
    except yaml.YAMLError as e:
        reason = " ".join(str(e).split())
        raise UserError(f"{path} is not valid YAML: {reason}") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} must hold {expected}")
    return data


def _json_default(obj):
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, pathlib.Path):
        return str(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serialisable")
