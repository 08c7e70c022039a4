"""Moving MNIST: the generator's motion rules and OpenSTL's file layout."""

import gzip

import numpy as np
import pytest

from keras_svq.data import MovingMNISTGenerator
from keras_svq.data import load_dataset
from keras_svq.data.moving_mnist import shipped_digits


def test_trajectory_rules():
    generator = MovingMNISTGenerator(shipped_digits()[0][:10])
    rows, cols = generator.trajectory(np.random.default_rng(0), 200)
    assert rows.min() >= 0 and rows.max() <= 36 and cols.min() >= 0 and cols.max() <= 36
    steps = np.abs(np.diff(cols.astype(float)))
    assert steps.max() <= np.ceil(36 * 0.1) + 1  # 0.1 of the canvas per frame at most
    assert (
        rows.max() == 36 or rows.min() == 0 or cols.max() == 36 or cols.min() == 0
    )  # bounces


def test_generate_pastes_digits_with_maximum():
    digits = np.zeros((1, 28, 28), "uint8")
    digits[0, 10:18, 10:18] = 200
    video = MovingMNISTGenerator(digits, num_digits=2).generate(
        np.random.default_rng(1), 20
    )
    assert video.shape == (20, 64, 64) and video.dtype == np.uint8
    assert set(np.unique(video)) <= {0, 200}


def test_load_openstl_layout(tmp_path):
    root = tmp_path / "moving_mnist"
    root.mkdir()
    test = np.random.default_rng(0).integers(0, 256, (20, 6, 64, 64), dtype="uint8")
    np.save(root / "mnist_test_seq.npy", test)
    digits = shipped_digits()[0][:50]
    with gzip.open(root / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"\0" * 16 + digits.tobytes())
    splits = load_dataset(
        "mmnist", data_dir=tmp_path, batch_size=4, seed=0, num_train=8
    )
    assert splits.num_examples == {"train": 8, "val": 6, "test": 6}
    x, y = splits.arrays("test")
    np.testing.assert_allclose(x[2, :, :, :, 0], test[:10, 2] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(y[5, :, :, :, 0], test[10:, 5] / 255.0, rtol=1e-6)
    bx, by = next(iter(splits[0]))
    assert bx.shape == (4, 10, 64, 64, 1) and by.shape == (4, 10, 64, 64, 1)


def test_missing_file_names_expected_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="moving_mnist/mnist_test_seq.npy"):
        load_dataset("mmnist", data_dir=tmp_path, batch_size=4)
