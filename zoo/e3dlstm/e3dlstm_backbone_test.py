import pytest

from keras_svq.testing import TestCase
from zoo.e3dlstm.e3dlstm_backbone import E3DLSTMBackbone
from zoo.recurrent.testing import T2M
from zoo.recurrent.testing import TINY
from zoo.recurrent.testing import TINY_SHAPE
from zoo.recurrent.testing import check_preset_param_counts
from zoo.recurrent.testing import symbolic_param_count
from zoo.recurrent.testing import t2m_reference

LIGHT = dict(
    run_fit=False,
    run_saved_model=False,
    run_distribution=False,
    run_mixed_precision=False,
    run_jit=False,
)


class TestE3DLSTMBackbone(TestCase):
    def test_call_config_and_saving(self):
        self.run_backbone_test(E3DLSTMBackbone, TINY, TINY_SHAPE, **LIGHT)

    @pytest.mark.slow
    def test_full_battery(self):
        self.run_backbone_test(E3DLSTMBackbone, TINY, TINY_SHAPE)

    def test_t2m_param_count(self):
        reference = t2m_reference("E3DLSTM")
        count = symbolic_param_count(
            E3DLSTMBackbone,
            **T2M,
            hidden_dims=[128] * 4,
            kernel_size=5,
            patch_size=reference["model_kwargs"]["patch_size"],
        )
        assert count == reference["total_params"] == 51_085_312

    def test_preset_param_counts(self):
        check_preset_param_counts(E3DLSTMBackbone, ["taxibj/e3dlstm"])
        model = E3DLSTMBackbone.from_preset("taxibj/e3dlstm", output_length=2)
        assert model.output_length == 2
        with pytest.raises(ValueError, match="not a E3DLSTMBackbone one"):
            E3DLSTMBackbone.from_preset("taxibj/simvp_gsta")
        with pytest.raises(ValueError, match="Unknown preset"):
            E3DLSTMBackbone.from_preset("taxibj/nope")

    @pytest.mark.slow
    def test_all_preset_param_counts(self):
        check_preset_param_counts(E3DLSTMBackbone)
