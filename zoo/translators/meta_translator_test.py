import numpy as np
import pytest

from keras_svq.testing import TestCase
from zoo.translators import MetaTranslator
from zoo.translators import stochastic_depth_schedule
from zoo.translators.meta_translator import channels_to_frames
from zoo.translators.meta_translator import frames_to_channels


class TestMetaTranslator(TestCase):
    @pytest.mark.integration
    def test_battery(self):
        self.run_layer_test(
            MetaTranslator,
            {"block": "gsta", "hidden_dim": 16, "num_layers": 3, "mlp_ratio": 2.0},
            input_shape=(2, 3, 4, 4, 4),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_reductions_only_where_widths_differ(self):
        layer = MetaTranslator("tau", hidden_dim=16, num_layers=3)
        layer(np.zeros((1, 2, 4, 4, 4), "float32"))  # T*C = 8 != 16
        assert tuple(layer.reductions[0].kernel.shape) == (8, 16)
        assert layer.reductions[1] is None
        assert tuple(layer.reductions[2].kernel.shape) == (16, 8)
        same = MetaTranslator("gsta", hidden_dim=16, num_layers=2)
        same(np.zeros((1, 2, 4, 4, 8), "float32"))
        assert same.reductions == [None, None]

    def test_stochastic_depth_schedule(self):
        np.testing.assert_allclose(
            stochastic_depth_schedule(0.1, 4), [0.01, 0.04, 0.07, 0.1], rtol=1e-6
        )
        # With drop_path=0 the reference still gives the first block 0.01.
        np.testing.assert_allclose(
            stochastic_depth_schedule(0.0, 3), [0.01, 0.005, 0.0], rtol=1e-6
        )

    def test_frame_stacking_order(self):
        x = np.arange(2 * 3 * 2 * 2 * 4, dtype="float32").reshape(2, 3, 2, 2, 4)
        stacked = np.asarray(frames_to_channels(x))
        # channel t*C + c holds frame t, channel c (OpenSTL's reshape order).
        np.testing.assert_array_equal(stacked[:, :, :, 1 * 4 + 2], x[:, 1, :, :, 2])
        np.testing.assert_array_equal(np.asarray(channels_to_frames(stacked, 3)), x)

    def test_errors(self):
        with pytest.raises(ValueError, match="Received: num_layers=1"):
            MetaTranslator("gsta", 8, 1)
        with pytest.raises(ValueError, match="Valid names"):
            MetaTranslator("nope", 8, 2)
