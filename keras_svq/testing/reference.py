"""Locating the ground-truth files that live outside the package.

The reference fixtures (official PyTorch outputs, parameter counts:
`reference/`) and the real sample data (`data/`) are test inputs, not
package data, so they live in a folder of their own, the *shared folder*:

1. the folder named by the environment variable `KERAS_SVQ_SHARED`, when it
   is set (a wrong path is an error, never a silent skip);
2. otherwise, in a source checkout, `shared/` beside the repository:
   `<checkout>/../shared` (`default_shared_root()`); an installed package
   has no default.

When neither exists, `shared_root()` raises `SharedFolderNotFound` (a
`FileNotFoundError`) whose message names `KERAS_SVQ_SHARED`. Under pytest
(`skip_tests_when_missing()`, called by the repository's `conftest.py`), a
test or test module that asks for a shared file is skipped with that message
instead, but only when the variable is unset and the default folder does not
exist: a missing file inside an existing folder still fails.
"""

import os
import pathlib

SHARED_ENV = "KERAS_SVQ_SHARED"

_SOURCE_ROOT = pathlib.Path(__file__).resolve().parents[2]
_skip_when_missing = False


class SharedFolderNotFound(FileNotFoundError):
    """The shared folder (reference fixtures, sample data) does not exist."""


def default_shared_root():
    """`<checkout>/../shared` in a source checkout; None for an installed package."""
    if not (_SOURCE_ROOT / "setup.py").is_file():
        return None
    return _SOURCE_ROOT.parent / "shared"


def skip_tests_when_missing(enabled=True):
    """Makes a missing shared folder skip the asking test instead of failing it.

    Only when `KERAS_SVQ_SHARED` is unset: a path the user set must exist.
    """
    global _skip_when_missing
    _skip_when_missing = bool(enabled)


def shared_root():
    """The shared folder (see the module docstring for where it is looked for)."""
    env = os.environ.get(SHARED_ENV)
    if env:
        root = pathlib.Path(env).expanduser()
        if not root.is_dir():
            raise SharedFolderNotFound(
                f"{SHARED_ENV}={env} is not a folder; set {SHARED_ENV} to the "
                "folder that holds reference/ and data/"
            )
        return root
    root = default_shared_root()
    if root is not None and root.is_dir():
        return root
    where = f"the default {root} (beside the checkout)" if root else "a default"
    message = (
        f"The shared test folder (reference/, data/) was not found: {SHARED_ENV} "
        f"is not set and {where} does not exist. Set {SHARED_ENV} to its path."
    )
    if _skip_when_missing:
        import pytest

        pytest.skip(message, allow_module_level=True)
    raise SharedFolderNotFound(message)


def reference_path(name):
    """Path of a file in `<shared>/reference/` (official-code fixtures)."""
    path = shared_root() / "reference" / name
    if not path.exists():
        raise FileNotFoundError(f"Reference file {path} does not exist.")
    return path


def shared_data_path(name):
    """Path of a file in `<shared>/data/` (real sample data)."""
    path = shared_root() / "data" / name
    if not path.exists():
        raise FileNotFoundError(f"Shared data file {path} does not exist.")
    return path
