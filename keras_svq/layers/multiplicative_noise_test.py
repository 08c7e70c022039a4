import numpy as np
import pytest

from keras_svq.layers import MultiplicativeNoise
from keras_svq.testing import TestCase


class TestMultiplicativeNoise(TestCase):
    def test_battery(self):
        self.run_layer_test(
            MultiplicativeNoise,
            {"rate": 0.3, "seed": 2},
            input_shape=(2, 3, 4, 4, 1),
            run_saved_model=False,
            run_distribution=False,
            run_fit=False,
        )

    def test_exact_fraction_in_training(self):
        x = np.ones((4, 5, 6, 7, 2), "float32")
        y = np.asarray(MultiplicativeNoise(0.3, seed=0)(x, training=True))
        changed = y != 1.0
        assert changed.sum() == int(x.size * 0.3)
        assert np.all(np.abs(y[changed]) <= 2.0)
        np.testing.assert_array_equal(
            np.asarray(MultiplicativeNoise(0.3)(x, training=False)), x
        )

    def test_invalid_rate(self):
        with pytest.raises(ValueError, match="Received: rate=1.5"):
            MultiplicativeNoise(1.5)
