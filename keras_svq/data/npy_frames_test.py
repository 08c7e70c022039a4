"""`NpyFrames`: rows of a `.npy` file read with plain reads, equal to numpy's."""

import numpy as np
import pytest

from keras_svq.data.npy_frames import NpyFrames


def test_rows_slices_and_repeats_equal_numpy(tmp_path):
    array = np.random.default_rng(0).random((50, 4, 3, 2)).astype("float32")
    np.save(tmp_path / "a.npy", array)
    frames = NpyFrames(tmp_path / "a.npy")
    assert frames.shape == (50, 4, 3, 2) and frames.dtype == np.float32
    assert frames.ndim == 4 and len(frames) == 50
    rows = np.array([7, 3, 3, 40, 8, 9, 10])
    np.testing.assert_array_equal(frames[rows], array[rows])
    np.testing.assert_array_equal(frames[5:9], array[5:9])
    np.testing.assert_array_equal(frames[-1], array[-1])
    np.testing.assert_array_equal(frames[np.array([2]), 1:3], array[[2], 1:3])
    np.testing.assert_array_equal(np.asarray(frames), array)


def test_reads_only_the_rows_asked_for(tmp_path, monkeypatch):
    np.save(tmp_path / "a.npy", np.zeros((1000, 8, 8), "uint16"))
    frames = NpyFrames(tmp_path / "a.npy")
    runs = []
    original = NpyFrames._read_run

    def counting(self, fd, lo, hi):
        runs.append((lo, hi))
        return original(self, fd, lo, hi)

    monkeypatch.setattr(NpyFrames, "_read_run", counting)
    frames[np.array([10, 11, 12, 500, 501])]
    assert runs == [(10, 13), (500, 502)]  # two contiguous reads, 5 rows


def test_errors(tmp_path):
    np.save(tmp_path / "f.npy", np.asfortranarray(np.zeros((4, 3, 2))))
    with pytest.raises(ValueError, match="Fortran order"):
        NpyFrames(tmp_path / "f.npy")
    np.save(tmp_path / "t.npy", np.zeros((10, 3, 3), "float32"))
    data = (tmp_path / "t.npy").read_bytes()
    (tmp_path / "t.npy").write_bytes(data[: len(data) - 100])
    with pytest.raises(ValueError, match="truncated"):
        NpyFrames(tmp_path / "t.npy")[np.arange(10)]
    with pytest.raises(IndexError, match="out of range"):
        NpyFrames(tmp_path / "t.npy")[np.array([12])]
