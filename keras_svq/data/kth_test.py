"""KTH from small frame folders in the layout of OpenSTL's `kth_action.zip`."""

import numpy as np
import pytest
from PIL import Image

from keras_svq.data import load_dataset
from keras_svq.data.kth import kth_windows


def _clip(root, action, person, frames, size=16, seed=0):
    folder = root / "kth" / action / f"person{person}_{action}_d1_uncomp"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (frames, size, size), dtype="uint8")
    for i, image in enumerate(images, start=1):
        Image.fromarray(np.stack([image, image // 2, image // 3], -1)).save(
            folder / f"image_{i:04d}.png"
        )
    return images


def test_reference_strides():
    # One clip of 12 frames, window 4: slow actions jump a whole window, fast ones 2.
    clips, numbers = [1] * 12, list(range(1, 13))
    slow = kth_windows(clips, numbers, [None] * 12, 4)
    fast = kth_windows(clips, numbers, [2] * 12, 4)
    np.testing.assert_array_equal(slow, [8, 4, 0])
    np.testing.assert_array_equal(fast, [8, 5, 2])


def test_load_kth_layout(tmp_path):
    train = _clip(tmp_path, "boxing", "01", 9, seed=1)
    _clip(tmp_path, "running", "02", 9, seed=2)
    test = _clip(tmp_path, "walking", "17", 7, seed=3)
    splits = load_dataset(
        "kth",
        data_dir=tmp_path,
        batch_size=2,
        seed=0,
        input_length=2,
        output_length=2,
        image_size=16,
    )
    # boxing: 9 frames, window 4 -> starts 5, 1; running (stride 2): 5, 2; walking: 3
    assert splits.num_examples == {"train": 4, "val": 1, "test": 1}
    x, y = splits.arrays("test")
    assert x.shape == (1, 2, 16, 16, 1)
    np.testing.assert_allclose(x[0, :, :, :, 0], test[3:5] / 255.0, rtol=1e-6)
    np.testing.assert_allclose(y[0, :, :, :, 0], test[5:7] / 255.0, rtol=1e-6)
    xt, _ = splits.arrays("train")
    # backward scan: running (starts 5, 2), then boxing (5, 1)
    np.testing.assert_allclose(xt[2, :, :, :, 0], train[5:7] / 255.0, rtol=1e-6)
    bx, by = next(iter(splits[0]))
    assert bx.shape == (2, 2, 16, 16, 1) and by.shape == (2, 2, 16, 16, 1)


def test_missing_kth(tmp_path):
    with pytest.raises(FileNotFoundError, match="action folders.*boxing"):
        load_dataset("kth", data_dir=tmp_path, batch_size=2)
