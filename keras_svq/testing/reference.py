"""Locating the ground-truth files that live beside the checkout.

The reference fixtures (official PyTorch outputs, parameter counts) and the
real sample data live in `../shared/` next to the repository. They are test
inputs, not package data, so they are found relative to the source tree, or
through the `KERAS_SVQ_SHARED` environment variable.
"""

import os
import pathlib

_REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]


def _shared_root():
    env = os.environ.get("KERAS_SVQ_SHARED")
    root = pathlib.Path(env) if env else _REPO_ROOT.parent / "shared"
    if not root.is_dir():
        raise FileNotFoundError(
            f"The shared reference folder was not found at {root}. Check out the "
            "repository beside `shared/`, or set KERAS_SVQ_SHARED to its path."
        )
    return root


def reference_path(name):
    """Path of a file in `shared/reference/` (official-code fixtures)."""
    path = _shared_root() / "reference" / name
    if not path.exists():
        raise FileNotFoundError(f"Reference file {path} does not exist.")
    return path


def shared_data_path(name):
    """Path of a file in `shared/data/` (real sample data)."""
    path = _shared_root() / "data" / name
    if not path.exists():
        raise FileNotFoundError(f"Shared data file {path} does not exist.")
    return path
