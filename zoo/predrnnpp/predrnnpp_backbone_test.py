import pytest

from keras_svq.testing import TestCase
from zoo.predrnnpp.predrnnpp_backbone import PredRNNppBackbone
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


class TestPredRNNppBackbone(TestCase):
    def test_call_config_and_saving(self):
        self.run_backbone_test(PredRNNppBackbone, TINY, TINY_SHAPE, **LIGHT)

    @pytest.mark.slow
    def test_full_battery(self):
        self.run_backbone_test(PredRNNppBackbone, TINY, TINY_SHAPE)

    def test_t2m_param_count(self):
        reference = t2m_reference("PredRNNpp")
        kwargs = reference["model_kwargs"]
        count = symbolic_param_count(
            PredRNNppBackbone,
            **T2M,
            hidden_dims=[128] * 4,
            kernel_size=kwargs["filter_size"],
            patch_size=kwargs["patch_size"],
        )
        assert count == reference["total_params"] == 38_313_984

    def test_preset_param_counts(self):
        check_preset_param_counts(PredRNNppBackbone, ["taxibj/predrnnpp"])
        model = PredRNNppBackbone.from_preset("taxibj/predrnnpp", output_length=2)
        assert model.output_length == 2
        with pytest.raises(ValueError, match="not a PredRNNppBackbone one"):
            PredRNNppBackbone.from_preset("taxibj/simvp_gsta")
        with pytest.raises(ValueError, match="Unknown preset"):
            PredRNNppBackbone.from_preset("taxibj/nope")

    @pytest.mark.slow
    def test_all_preset_param_counts(self):
        check_preset_param_counts(PredRNNppBackbone)

    def test_needs_two_layers(self):
        with pytest.raises(ValueError, match="at least 2 layers"):
            PredRNNppBackbone(**{**TINY, "hidden_dims": [8]})
