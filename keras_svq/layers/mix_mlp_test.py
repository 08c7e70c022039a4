from keras_svq.layers import MixMLP
from keras_svq.testing import TestCase


class TestMixMLP(TestCase):
    def test_battery(self):
        self.run_layer_test(
            MixMLP,
            {"hidden_dim": 8, "dropout_rate": 0.1},
            input_shape=(2, 4, 4, 3),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_output_dim(self):
        layer = MixMLP(8, output_dim=5)
        y = layer(__import__("numpy").zeros((1, 4, 4, 3), "float32"))
        assert tuple(y.shape) == (1, 4, 4, 5)
        assert tuple(layer.dwconv.kernel.shape) == (3, 3, 8, 1)
