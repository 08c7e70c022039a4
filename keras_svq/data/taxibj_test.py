"""TaxiBJ from a small file in OpenSTL's `dataset.npz` layout."""

import numpy as np
import pytest

from keras_svq.data import load_dataset


def _write(root, n_train=6, n_test=3):
    rng = np.random.default_rng(0)
    arrays = {
        "X_train": rng.uniform(-1, 1, (n_train, 4, 2, 32, 32)),
        "Y_train": rng.uniform(-1, 1, (n_train, 4, 2, 32, 32)),
        "X_test": rng.uniform(-1, 1, (n_test, 4, 2, 32, 32)),
        "Y_test": rng.uniform(-1, 1, (n_test, 4, 2, 32, 32)),
    }
    (root / "taxibj").mkdir()
    np.savez(root / "taxibj" / "dataset.npz", **arrays)
    return arrays


def test_reads_and_maps_to_unit_range(tmp_path):
    arrays = _write(tmp_path)
    splits = load_dataset("taxibj", data_dir=tmp_path, batch_size=4, seed=0)
    assert splits.num_examples == {"train": 6, "val": 3, "test": 3}
    assert splits.frame_shape == (32, 32, 2)
    x, y = splits.arrays("test")
    expected = (np.moveaxis(arrays["Y_test"], 2, -1) + 1) / 2
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(
        x[1], (np.moveaxis(arrays["X_test"][1], 1, -1) + 1) / 2, rtol=1e-6, atol=1e-6
    )
    bx, by = next(iter(splits[0]))
    assert bx.shape == (4, 4, 32, 32, 2)
    assert (
        splits.info.metrics == ("frame_mse", "frame_mae", "ssim", "psnr")
        and not splits.info.spatial_norm
    )


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="taxibj/dataset.npz.*X_train"):
        load_dataset("taxibj", data_dir=tmp_path, batch_size=4)
    with pytest.raises(FileNotFoundError, match="Data folder not found"):
        load_dataset("taxibj", data_dir=tmp_path / "nope", batch_size=4)
    with pytest.raises(ValueError, match="Valid names"):
        load_dataset("taxi", data_dir=tmp_path, batch_size=4)
