import numpy as np

from keras_svq.testing import TestCase
from zoo.translators import GSTABlock
from zoo.translators.gsta_block import large_kernel_sizes


class TestGSTABlock(TestCase):
    def test_battery(self):
        self.run_layer_test(
            GSTABlock,
            {"mlp_ratio": 2.0, "drop_rate": 0.1, "drop_path_rate": 0.1},
            input_shape=(2, 6, 6, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_kernel_decomposition(self):
        # 21 = 5x5 depthwise + 7x7 depthwise with dilation 3, as in VAN / OpenSTL.
        assert large_kernel_sizes(21, 3) == (5, 7)
        block = GSTABlock()
        block(np.zeros((1, 8, 8, 4), "float32"))
        assert tuple(block.attn.conv1.kernel.shape) == (4, 8)  # f and g halves
        assert tuple(block.mlp.fc1.kernel.shape) == (4, 16)
        np.testing.assert_allclose(np.asarray(block.layer_scale_1.scale), 1e-2)
        assert block.norm1.epsilon == 1e-5
