import json

import pytest

from keras_svq.io_utils import UserError
from keras_svq.io_utils import atomic_path
from keras_svq.io_utils import atomic_write_json
from keras_svq.io_utils import read_json


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "metrics.json"
    atomic_write_json(path, {"a": 1})
    atomic_write_json(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]


def test_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "state.json"
    atomic_write_json(path, {"epoch": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(path) as tmp:
            tmp.write_text('{"epoch": 2, "trunc')
            raise RuntimeError("killed mid-write")
    assert read_json(path) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_corrupt_json_names_the_file(tmp_path):
    path = tmp_path / "run.json"
    path.write_text("{not json")
    with pytest.raises(UserError, match="run.json is corrupt"):
        read_json(path)
