import numpy as np

from keras_svq.testing import TestCase
from zoo.translators import TAUBlock


class TestTAUBlock(TestCase):
    def test_battery(self):
        self.run_layer_test(
            TAUBlock,
            {"mlp_ratio": 2.0},
            input_shape=(2, 6, 6, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_squeeze_width(self):
        # r = max(C // 16, 4): C = 32 -> r = 4 -> 8 hidden; C = 256 -> r = 16 -> 16.
        for channels, squeezed in ((32, 8), (256, 16)):
            block = TAUBlock()
            block(np.zeros((1, 4, 4, channels), "float32"))
            assert tuple(block.attn.fc1.kernel.shape) == (channels, squeezed)
            assert tuple(block.attn.conv1.kernel.shape) == (channels, channels)
