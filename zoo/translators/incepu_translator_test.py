from keras_svq.testing import TestCase
from zoo.translators import IncepUTranslator


class TestIncepUTranslator(TestCase):
    def test_battery(self):
        self.run_layer_test(
            IncepUTranslator,
            {"hidden_dim": 16, "num_layers": 3, "kernel_sizes": (3, 5)},
            input_shape=(2, 2, 4, 4, 4),
            run_saved_model=False,
            run_distribution=False,
        )
