import numpy as np

from keras_svq.testing import TestCase
from zoo.predrnn.predrnn_backbone import PredRNNBackbone
from zoo.predrnnv2.predrnnv2_backbone import PredRNNv2Backbone
from zoo.recurrent.testing import TINY
from zoo.recurrent.testing import TINY_SHAPE


class TestPredRNNv2Backbone(TestCase):
    def test_decoupling_loss_only_in_training(self):
        model = PredRNNv2Backbone(**TINY, decoupling_weight=0.5)
        x = np.random.default_rng(0).standard_normal(TINY_SHAPE).astype("float32")
        model(x, training=False)
        assert not model.losses
        model(x, training=True)
        steps = TINY["input_length"] + TINY["output_length"] - 1
        assert len(model.losses) == steps * len(TINY["hidden_dims"])
        total = float(sum(np.asarray(loss) for loss in model.losses))
        # 0.5 * mean |cos| lies in (0, 0.5].
        assert 0.0 < total <= 0.5

    def test_same_network_as_predrnn_at_inference(self):
        v1 = PredRNNBackbone(**TINY)
        v2 = PredRNNv2Backbone(**TINY)
        for source, target in zip(v1.weights, v2.weights):
            target.assign(source)
        x = np.random.default_rng(1).standard_normal(TINY_SHAPE).astype("float32")
        self.assertAllClose(v2(x), v1(x))
