"""Window index arithmetic and the two read paths (in-graph gather, per-batch reads)."""

import numpy as np
import pytest
import tensorflow as tf

from keras_svq.data import WindowSource
from keras_svq.data import window_starts
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.windows import contiguous_offsets


def test_window_starts():
    np.testing.assert_array_equal(window_starts(10, 4), np.arange(7))
    np.testing.assert_array_equal(window_starts(10, 4, stride=3), [0, 3, 6])
    assert len(window_starts(3, 4)) == 0
    with pytest.raises(ValueError, match="stride"):
        window_starts(10, 4, stride=0)


def test_in_memory_and_lazy_reads_agree(tmp_path):
    frames = np.random.default_rng(0).random((30, 3, 4, 2)).astype("float32")
    np.save(tmp_path / "f.npy", frames)
    lazy_frames = np.load(tmp_path / "f.npy", mmap_mode="r")
    normalizer = Normalizer([0.5, 0.2], [2.0, 4.0])
    args = (window_starts(30, 5, 2), *contiguous_offsets(2, 3))
    memory = WindowSource(frames, *args, normalizer=normalizer)
    lazy = WindowSource(lazy_frames, *args, normalizer=normalizer)
    assert memory.in_memory and not lazy.in_memory
    positions = tf.constant([3, 0, 5], tf.int64)
    for a, b in zip(memory.tf_read(positions), lazy.tf_read(positions)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)
    x, y = memory.numpy([3])
    np.testing.assert_allclose(x[0], normalizer.normalize(frames[6:8]), rtol=1e-6)
    np.testing.assert_allclose(y[0], normalizer.normalize(frames[8:11]), rtol=1e-6)


def test_out_of_range_windows_rejected():
    with pytest.raises(
        ValueError, match="Windows reach frames 0..10 but the series has 10"
    ):
        WindowSource(np.zeros((10, 2, 2, 1)), [0, 6], *contiguous_offsets(2, 3))
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        WindowSource(np.zeros((10, 2, 2)), [0], *contiguous_offsets(1, 1))
