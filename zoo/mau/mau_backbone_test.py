from keras_svq.testing import TestCase
from zoo.mau.mau_backbone import MAUBackbone
from zoo.recurrent.testing import TINY_MAU
from zoo.recurrent.testing import TINY_SHAPE

# The shared battery, counts and argument checks: zoo/recurrent/recurrent_backbones_test.py.


class TestMAUBackbone(TestCase):
    def test_residual_cell_and_recall_decoder(self):
        self.run_backbone_test(
            MAUBackbone,
            {**TINY_MAU, "cell_mode": "residual", "decoder_mode": "recall"},
            TINY_SHAPE,
            run_fit=False,
            run_saved_model=False,
            run_distribution=False,
            run_mixed_precision=False,
            run_jit=False,
        )
