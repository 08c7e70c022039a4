import numpy as np

from keras_svq.layers import LayerScale
from keras_svq.testing import TestCase


class TestLayerScale(TestCase):
    def test_battery(self):
        self.run_layer_test(
            LayerScale,
            {"init_value": 0.5},
            input_shape=(2, 3, 3, 4),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_scales_last_axis(self):
        layer = LayerScale(0.01)
        x = np.ones((1, 2, 2, 3), "float32")
        layer(x)
        layer.scale.assign(np.array([1.0, 2.0, 3.0], "float32"))
        np.testing.assert_allclose(np.asarray(layer(x))[0, 0, 0], [1.0, 2.0, 3.0])
