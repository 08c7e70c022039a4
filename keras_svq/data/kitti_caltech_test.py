"""KittiCaltech from small files in OpenSTL's `kitticaltech_npy` and cache layouts."""

import h5py
import numpy as np
import pytest

from keras_svq.data import load_dataset
from keras_svq.data.kitti_caltech import source_windows


def test_npy_layout(tmp_path):
    root = tmp_path / "kitticaltech_npy"
    root.mkdir()
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (30, 8, 10, 3), dtype="uint8")
    test = rng.random((20, 8, 10, 3)).astype("float32")
    np.save(root / "train_data.npy", train)
    np.save(root / "train_idx.npy", np.array([0, 11, 19]))
    np.save(root / "test_data.npy", test)
    np.save(root / "test_idx.npy", np.array([9, 0]))
    splits = load_dataset("kitticaltech", data_dir=tmp_path, batch_size=2, seed=0)
    assert splits.num_examples == {"train": 3, "val": 2, "test": 2}
    x, y = splits.arrays("train")
    assert x.shape == (3, 10, 8, 10, 3) and y.shape == (3, 1, 8, 10, 3)
    np.testing.assert_allclose(x[1], train[11:21] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(y[2, 0], train[29] / 255.0, rtol=1e-6)
    xt, yt = splits.arrays("test")
    np.testing.assert_allclose(yt[0, 0], test[19], rtol=1e-6)


def test_hkl_and_caltech_cache_layout(tmp_path):
    (tmp_path / "kitti_hkl").mkdir()
    (tmp_path / "caltech").mkdir()
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 256, (25, 8, 10, 3), dtype="uint8")
    sources = np.array([b"a"] * 13 + [b"b"] * 12)
    with h5py.File(tmp_path / "kitti_hkl" / "X_train.hkl", "w") as f:
        f["data_0"] = frames
    with h5py.File(tmp_path / "kitti_hkl" / "sources_train.hkl", "w") as f:
        f["data_0"] = sources
    np.save(tmp_path / "caltech" / "data_cache.npy", frames[:12])
    np.save(tmp_path / "caltech" / "indices_cache.npy", np.array([1], "int32"))
    splits = load_dataset(
        "kitticaltech", data_dir=tmp_path, batch_size=2, input_length=3, output_length=1
    )
    np.testing.assert_array_equal(
        source_windows(list(sources), 4), [21, 17, 13, 9, 5, 1]
    )
    assert splits.num_examples == {"train": 6, "val": 1, "test": 1}


def test_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="kitticaltech_npy.*train_data.npy"):
        load_dataset("kitticaltech", data_dir=tmp_path, batch_size=2)
