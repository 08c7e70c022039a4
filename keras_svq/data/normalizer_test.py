"""`Normalizer`: z-score / min-max per channel, round trip and config."""

import numpy as np
import pytest

from keras_svq.data import Normalizer


def test_fit_round_trip_and_config():
    rng = np.random.default_rng(0)
    frames = rng.standard_normal((20, 4, 5, 3)).astype("float32") * [1.0, 5.0, 0.1] + [
        0.0,
        100.0,
        -3.0,
    ]
    normalizer = Normalizer.fit(frames)
    np.testing.assert_allclose(
        normalizer.mean, frames.mean(axis=(0, 1, 2)), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(normalizer.std, frames.std(axis=(0, 1, 2)), rtol=1e-5)
    z = normalizer.normalize(frames)
    np.testing.assert_allclose(z.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(normalizer.denormalize(z), frames, rtol=1e-5, atol=1e-4)
    clone = Normalizer.from_config(normalizer.get_config())
    np.testing.assert_array_equal(clone.mean, normalizer.mean)


def test_minmax_moments_and_constant_channel():
    frames = np.stack([np.linspace(2, 6, 50), np.full(50, 7.0)], -1).reshape(
        50, 1, 1, 2
    )
    minmax = Normalizer.fit(frames, kind="minmax")
    np.testing.assert_allclose(minmax.normalize(frames)[..., 0].min(), 0.0)
    np.testing.assert_allclose(minmax.normalize(frames)[..., 0].max(), 1.0)
    assert minmax.std[1] == 1.0  # a constant channel is not divided by zero
    flat = frames.reshape(-1, 2)
    moments = Normalizer.from_moments(len(flat), flat.sum(0), (flat**2).sum(0))
    np.testing.assert_allclose(moments.mean, flat.mean(0), rtol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="non-zero"):
        Normalizer([0.0], [0.0])
    with pytest.raises(ValueError, match="Unknown normalisation kind"):
        Normalizer.fit(np.zeros((2, 2, 2, 1)), kind="robust")
