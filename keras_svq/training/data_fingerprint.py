"""What a run was trained on, so that a resume on other data is refused.

`fingerprint` records, for each file or folder the data section reads, its
path, size and modification time (a folder: its file count, total size and
newest time), with the normaliser the run fitted. A resumed run compares the
two (`differences`); changed data would silently mix two data sets in one
set of weights (and rewrite the normaliser the checkpoints were fitted
with).
"""

import datetime
import os
import pathlib

import numpy as np

# Data-section keys that name files or folders the loader reads.
_PATH_KEYS = ("array", "mask", "data_dir")


def _stat(path):
    path = pathlib.Path(path)
    if path.is_file():
        stat = path.stat()
        return {"size": stat.st_size, "mtime": stat.st_mtime_ns}
    if path.is_dir():
        count, size, newest = 0, 0, 0
        for folder, _, files in os.walk(path):
            for name in files:
                stat = os.stat(os.path.join(folder, name))
                count, size = count + 1, size + stat.st_size
                newest = max(newest, stat.st_mtime_ns)
        return {"files": count, "size": size, "mtime": newest}
    return {"missing": True}


def fingerprint(data_section, normalizer):
    """A JSON-ready record of the data files and the fitted normaliser."""
    files = {
        key: {
            "path": str(pathlib.Path(data_section[key]).resolve()),
            **_stat(data_section[key]),
        }
        for key in _PATH_KEYS
        if isinstance(data_section.get(key), str)
    }
    return {"files": files, "normalizer": normalizer.get_config()}


def _time(ns):
    return datetime.datetime.fromtimestamp(ns / 1e9).isoformat(timespec="seconds")


def _describe_file(key, old, new):
    if old.get("path") != new.get("path"):
        return f"data.{key} is now {new.get('path')} (was {old.get('path')})"
    changes = []
    for field in ("files", "size"):
        if old.get(field) != new.get(field):
            changes.append(f"{field} {old.get(field)} -> {new.get(field)}")
    if old.get("mtime") != new.get("mtime") and old.get("mtime") and new.get("mtime"):
        changes.append(f"modified {_time(old['mtime'])} -> {_time(new['mtime'])}")
    if new.get("missing"):
        changes = ["it is missing"]
    return f"data.{key} {new.get('path')}: {', '.join(changes)}" if changes else None


def _close(a, b):
    try:
        return np.allclose(
            np.asarray(a, "float64"), np.asarray(b, "float64"), rtol=1e-6
        )
    except (TypeError, ValueError):
        return a == b


def differences(saved, current):
    """Human-readable differences between two fingerprints (empty when the same)."""
    found = []
    old_files, new_files = saved.get("files", {}), current.get("files", {})
    for key in sorted(set(old_files) | set(new_files)):
        if key not in old_files or key not in new_files:
            found.append(f"data.{key} was {'added' if key in new_files else 'removed'}")
            continue
        change = _describe_file(key, old_files[key], new_files[key])
        if change:
            found.append(change)
    old_norm, new_norm = saved.get("normalizer", {}), current.get("normalizer", {})
    for key in sorted(set(old_norm) | set(new_norm)):
        if not _close(old_norm.get(key), new_norm.get(key)):
            found.append(
                f"normaliser {key} {_short(old_norm.get(key))} -> {_short(new_norm.get(key))}"
            )
    return found


def _short(value):
    if isinstance(value, (list, tuple)):
        shown = ", ".join(
            f"{v:.6g}" if isinstance(v, float) else str(v) for v in value[:4]
        )
        return f"[{shown}{', ...' if len(value) > 4 else ''}]"
    return f"{value:.6g}" if isinstance(value, float) else repr(value)
