import numpy as np
import pytest

from keras_svq.testing import TestCase
from zoo import load_openstl_state_dict
from zoo.convlstm.convlstm_backbone import ConvLSTMBackbone
from zoo.recurrent.recurrent_state_dict import load_recurrent_state_dict
from zoo.recurrent.testing import T2M
from zoo.recurrent.testing import TINY
from zoo.recurrent.testing import TINY_SHAPE
from zoo.recurrent.testing import check_preset_param_counts
from zoo.recurrent.testing import load_fixture
from zoo.recurrent.testing import nchw_to_nhwc
from zoo.recurrent.testing import symbolic_param_count
from zoo.recurrent.testing import t2m_reference


class TestConvLSTMBackbone(TestCase):
    def test_battery(self):
        self.run_backbone_test(
            ConvLSTMBackbone, TINY, TINY_SHAPE, run_mixed_precision=False, run_jit=False
        )

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

    def test_t2m_param_count(self):
        reference = t2m_reference("ConvLSTM")
        kwargs = reference["model_kwargs"]
        count = symbolic_param_count(
            ConvLSTMBackbone,
            **T2M,
            hidden_dims=[128] * 4,
            kernel_size=kwargs["filter_size"],
            patch_size=kwargs["patch_size"],
        )
        assert count == reference["total_params"] == 14_928_384

    def test_preset_param_counts(self):
        check_preset_param_counts(ConvLSTMBackbone, ["taxibj/convlstm"])
        model = ConvLSTMBackbone.from_preset("taxibj/convlstm", output_length=2)
        assert model.output_length == 2
        with pytest.raises(ValueError, match="not a ConvLSTMBackbone one"):
            ConvLSTMBackbone.from_preset("taxibj/simvp_gsta")
        with pytest.raises(ValueError, match="Unknown preset"):
            ConvLSTMBackbone.from_preset("taxibj/nope")

    @pytest.mark.slow
    def test_all_preset_param_counts(self):
        check_preset_param_counts(ConvLSTMBackbone)

    def test_errors(self):
        with pytest.raises(ValueError, match="cell"):
            ConvLSTMBackbone(**{**TINY, "cell": "peephole"})
        with pytest.raises(ValueError, match="multiple of `patch_size`"):
            ConvLSTMBackbone(**{**TINY, "height": 15})
        with pytest.raises(ValueError, match="kernel_size"):
            ConvLSTMBackbone(**{**TINY, "kernel_size": 4})
        with pytest.raises(ValueError, match="hidden_dims"):
            ConvLSTMBackbone(**{**TINY, "hidden_dims": []})
        with pytest.raises(ValueError, match="stride"):
            ConvLSTMBackbone(**{**TINY, "stride": 2})

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
