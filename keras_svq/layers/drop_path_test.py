import numpy as np
import pytest

from keras_svq.layers import DropPath
from keras_svq.testing import TestCase


class TestDropPath(TestCase):
    def test_battery(self):
        self.run_layer_test(
            DropPath,
            {"rate": 0.2, "seed": 1},
            input_shape=(2, 4, 4, 3),
            run_fit=False,
            run_saved_model=False,
            run_distribution=False,
        )

    def test_identity_in_inference(self):
        x = np.random.rand(8, 3, 3, 2).astype("float32")
        np.testing.assert_array_equal(np.asarray(DropPath(0.5)(x, training=False)), x)

    def test_drops_whole_samples_and_rescales(self):
        x = np.ones((2000, 2, 2, 3), "float32")
        y = np.asarray(DropPath(0.25, seed=3)(x, training=True))
        per_sample = y.reshape(2000, -1)
        # Each sample is either all zeros or all 1 / (1 - rate).
        np.testing.assert_allclose(np.unique(per_sample), [0.0, 1 / 0.75], rtol=1e-6)
        assert np.all(per_sample.min(1) == per_sample.max(1))
        assert abs((per_sample[:, 0] == 0).mean() - 0.25) < 0.05

    def test_invalid_rate(self):
        with pytest.raises(ValueError, match="Received: rate=1.0"):
            DropPath(1.0)
