"""Human3.6M from small JPEG frames and clip lists in OpenSTL's layout."""

import numpy as np
import pytest
from PIL import Image

from keras_svq.data import load_dataset


def _frames(root, prefix, numbers, size=32):
    rng = np.random.default_rng(0)
    (root / "human" / "images").mkdir(parents=True, exist_ok=True)
    images = {}
    for j in numbers:
        # Smooth images survive JPEG well enough to compare.
        image = np.full((size, size, 3), rng.integers(0, 256, 3), dtype="uint8")
        Image.fromarray(image).save(
            root / "human" / f"{prefix}{j:06d}.jpg", quality=100
        )
        images[j] = image
    return images


def test_load_human_layout(tmp_path):
    images = _frames(tmp_path, "images/S1_Walking.1_", range(10, 60, 5))
    (tmp_path / "human" / "train.txt").write_text(
        "images/S1_Walking.1_,10,50\nimages/S1_Walking.1_,15,55\n"
    )
    (tmp_path / "human" / "test.txt").write_text("images/S1_Walking.1_,10,50\n")
    splits = load_dataset(
        "human",
        data_dir=tmp_path,
        batch_size=2,
        seed=0,
        input_length=4,
        output_length=4,
        image_size=32,
    )
    assert splits.num_examples == {"train": 2, "val": 1, "test": 1}
    x, y = splits.arrays("test")
    assert x.shape == (1, 4, 32, 32, 3)
    np.testing.assert_allclose(x[0, 1], images[15] / 255.0, atol=2 / 255)
    np.testing.assert_allclose(y[0, 3], images[45] / 255.0, atol=2 / 255)
    bgr = load_dataset(
        "human", data_dir=tmp_path, batch_size=2, image_size=32, channel_order="bgr"
    )
    np.testing.assert_allclose(
        bgr.arrays("test")[0][0, 1], images[15][..., ::-1] / 255.0, atol=2 / 255
    )


def test_missing_lists(tmp_path):
    with pytest.raises(FileNotFoundError, match="train.txt"):
        load_dataset("human", data_dir=tmp_path, batch_size=2)
