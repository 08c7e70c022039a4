import numpy as np
import pytest

from keras_svq.testing import TestCase
from zoo import load_openstl_state_dict
from zoo.convlstm.convlstm_backbone import ConvLSTMBackbone
from zoo.recurrent.recurrent_state_dict import load_recurrent_state_dict
from zoo.recurrent.testing import TINY
from zoo.recurrent.testing import TINY_SHAPE
from zoo.recurrent.testing import load_fixture
from zoo.recurrent.testing import nchw_to_nhwc


class TestConvLSTMBackbone(TestCase):
    def test_mixed_precision_and_lightning_cell(self):
        self.check_mixed_precision(
            ConvLSTMBackbone, {**TINY, "cell": "lightning"}, TINY_SHAPE
        )

    @pytest.mark.parametrize(
        "cell, y_key, frames_key",
        [
            ("svq", "y", "out:next_frames"),
            ("lightning", "y_lightning_cell", "out:next_frames_lightning_cell"),
        ],
    )
    def test_matches_official_fixture(self, cell, y_key, frames_key):
        state_dict, data, _ = load_fixture("convlstm.npz")
        model = ConvLSTMBackbone(**TINY, cell=cell)
        load_openstl_state_dict(model, state_dict)
        y = model(nchw_to_nhwc(data["x"]), training=False)
        self.assertAllClose(y, nchw_to_nhwc(data[y_key]), atol=1e-4, rtol=0)
        frames = data["in:frames_patched"]
        self.assertAllClose(
            model.predictor.unroll(frames), data[frames_key], atol=1e-4, rtol=0
        )
        if cell == "svq":
            mixed = model.predictor.unroll(frames, mask=data["in:mask_true_random"])
            self.assertAllClose(
                mixed, data["out:next_frames_mask_random"], atol=1e-4, rtol=0
            )

    def test_state_dict_errors(self):
        state_dict, _, _ = load_fixture("convlstm.npz")
        model = ConvLSTMBackbone(**TINY)
        with pytest.raises(ValueError, match="does not use"):
            load_recurrent_state_dict(
                model, {**state_dict, "extra.weight": np.zeros(1)}
            )
        state_dict.pop("conv_last.weight")
        with pytest.raises(ValueError, match="no entry 'conv_last.weight'"):
            load_recurrent_state_dict(model, state_dict)
