"""Fixtures of the fault-injection suite (`tests/faults/`).

Each test replays one way a careless user or a hostile environment breaks a
run, and asserts the exact outcome: the exit code, the one-line message, and
that nothing the user had was changed.
"""

import pathlib
import sys

import pytest

# `cli_fixtures` (tests/) and `fault_helpers` (here) for the test modules.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

from cli_fixtures import tiny_config  # noqa: E402
from cli_fixtures import write_config  # noqa: E402
from cli_fixtures import write_series  # noqa: E402

from keras_svq.cli import main  # noqa: E402


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    write_series(root / "series.npy")
    write_config(root / "plain.yaml", tiny_config(root / "series.npy", svq=False))
    return root


@pytest.fixture(scope="module")
def trained(workdir):
    """A finished tiny run, trained once per module."""
    run = workdir / "run"
    argv = ["train", "--config", str(workdir / "plain.yaml"), "--output-dir", str(run)]
    assert main([*argv, "--quiet"]) == 0
    return run
