"""One process per run folder (or export target): an exclusive `flock`.

`FolderLock` takes a non-blocking exclusive lock on a lock file and writes
its holder (pid, host, start time) into it. A second process gets
`FolderInUse`, a one-line `UserError` naming the holder. The kernel drops
the lock when its holder dies, however it dies, so a lock left by a killed
process is simply taken over (and logged). The lock file stays: deleting it
while another process waits on it would let two processes hold "the" lock.
"""

import datetime
import json
import logging
import os
import pathlib
import socket

from keras_svq.io_utils import UserError
from keras_svq.io_utils import make_dirs
from keras_svq.io_utils import os_errors

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a warning, not a failure
    fcntl = None

logger = logging.getLogger(__name__)

LOCK_FILE = ".lock"


class FolderInUse(UserError):
    """Another live process holds the lock."""


class FolderLock:
    """An exclusive lock on `lock_path`, for `what` (named in the messages).

    Args:
        lock_path: path of the lock file (created if missing).
        what: str. What is locked, e.g. "run folder runs/era5".
        hint: str. What the user can do instead, appended to the error.
        owned_folder: path or None. A folder the lock created; when it holds
            nothing but the lock file at release, both are removed (a failed
            start leaves nothing behind).

    Use as a context manager:

    ```python
    with FolderLock(run / ".lock", f"run folder {run}"):
        ...
    ```
    """

    def __init__(self, lock_path, what, hint="", owned_folder=None):
        self.path = pathlib.Path(lock_path)
        self.what = what
        self.hint = hint
        self.owned_folder = None if owned_folder is None else pathlib.Path(owned_folder)
        self._fd = None

    @classmethod
    def for_folder(cls, folder, what, hint=""):
        """A lock file inside `folder` (created, and removed again if left empty)."""
        folder = pathlib.Path(folder)
        created = not folder.exists()
        return cls(
            folder / LOCK_FILE, what, hint, owned_folder=folder if created else None
        )

    @classmethod
    def for_target(cls, target, what, hint=""):
        """A lock file beside `target` (`.NAME.lock`), for folders that are swapped whole."""
        target = pathlib.Path(target)
        return cls(target.with_name(f".{target.name}.lock"), what, hint)

    def acquire(self):
        while True:
            make_dirs(self.path.parent)
            with os_errors(self.path):
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            if fcntl is None:
                logger.warning(
                    "no file locks on this platform: %s is not locked", self.what
                )
                self._fd = fd
                return self
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _read_holder(fd)
                os.close(fd)
                raise FolderInUse(
                    f"{self.what} is in use by {_describe(holder)}; wait for it to "
                    f"finish{self.hint}"
                ) from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # the file was replaced while we waited: lock the new one
        previous = _read_holder(fd)
        if previous:
            logger.info(
                "taking over the lock of %s (no longer running) on %s",
                _describe(previous),
                self.what,
            )
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
        self._fd = fd
        return self

    def release(self):
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # an empty lock file: released cleanly
            if self.owned_folder is not None and self._only_the_lock():
                self.path.unlink()
                self.owned_folder.rmdir()
        except OSError:
            pass
        finally:
            os.close(self._fd)  # drops the flock
            self._fd = None

    def _only_the_lock(self):
        return [p.name for p in self.owned_folder.iterdir()] == [self.path.name]

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
        return False


def _read_holder(fd):
    try:
        text = os.pread(fd, 4096, 0).decode(errors="replace").strip()
        return json.loads(text) if text else None
    except (OSError, ValueError):
        return {"pid": "?", "host": "?", "since": "?"}


def _describe(holder):
    if not holder:
        return "another process"
    return (
        f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} since "
        f"{holder.get('since', '?')}"
    )
