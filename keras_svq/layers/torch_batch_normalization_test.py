import numpy as np

from keras_svq.layers import TorchBatchNormalization
from keras_svq.testing import TestCase


class TestTorchBatchNormalization(TestCase):
    def test_battery(self):
        # The distributed check asserts identical moving statistics on both replicas.
        self.run_layer_test(
            TorchBatchNormalization,
            {},
            input_shape=(2, 4, 4, 3),
            run_saved_model=False,
        )

    def test_torch_defaults(self):
        layer = TorchBatchNormalization()
        layer(np.zeros((1, 2, 2, 3), "float32"))
        assert layer.epsilon == 1e-5 and layer.momentum == 0.9
        assert layer.moving_mean.aggregation == "mean"
