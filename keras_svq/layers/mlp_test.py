import numpy as np

from keras_svq.layers import MLP
from keras_svq.testing import TestCase


class TestMLP(TestCase):
    def test_battery(self):
        self.run_layer_test(
            MLP,
            {"hidden_dim": 8, "dropout_rate": 0.1},
            input_shape=(2, 5, 4),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_output_dim_and_math(self):
        layer = MLP(6, output_dim=3)
        x = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
        y = np.asarray(layer(x))
        assert y.shape == (2, 3)
        from scipy.special import erf

        h = x @ np.asarray(layer.fc1.kernel) + np.asarray(layer.fc1.bias)
        h = 0.5 * h * (1 + erf(h / np.sqrt(2)))  # exact GELU
        expected = h @ np.asarray(layer.fc2.kernel) + np.asarray(layer.fc2.bias)
        np.testing.assert_allclose(y, expected, atol=1e-5)
