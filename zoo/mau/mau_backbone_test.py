import pytest

from keras_svq.testing import TestCase
from zoo.mau.mau_backbone import MAUBackbone
from zoo.recurrent.testing import T2M
from zoo.recurrent.testing import TINY_SHAPE
from zoo.recurrent.testing import check_preset_param_counts
from zoo.recurrent.testing import symbolic_param_count
from zoo.recurrent.testing import t2m_reference

TINY_MAU = {
    "input_length": 4,
    "output_length": 4,
    "height": 16,
    "width": 16,
    "channels": 1,
    "hidden_dims": [8, 8],
    "kernel_size": 3,
    "attention_length": 2,
}
LIGHT = dict(
    run_fit=False,
    run_saved_model=False,
    run_distribution=False,
    run_mixed_precision=False,
    run_jit=False,
)


class TestMAUBackbone(TestCase):
    def test_call_config_and_saving(self):
        self.run_backbone_test(
            MAUBackbone,
            {**TINY_MAU, "cell_mode": "residual", "decoder_mode": "recall"},
            TINY_SHAPE,
            **LIGHT,
        )

    @pytest.mark.slow
    def test_full_battery(self):
        self.run_backbone_test(MAUBackbone, TINY_MAU, TINY_SHAPE)

    def test_t2m_param_count(self):
        reference = t2m_reference("MAU")
        kwargs = reference["model_kwargs"]
        count = symbolic_param_count(
            MAUBackbone,
            **T2M,
            hidden_dims=[64] * 4,
            kernel_size=kwargs["filter_size"],
            patch_size=kwargs["patch_size"],
            downsample_factor=kwargs["sr_size"],
            attention_length=kwargs["tau"],
            cell_mode=kwargs["cell_mode"],
            decoder_mode=kwargs["model_mode"],
        )
        assert count == reference["total_params"] == 5_458_308

    def test_preset_param_counts(self):
        check_preset_param_counts(MAUBackbone, ["taxibj/mau"])
        model = MAUBackbone.from_preset("taxibj/mau", output_length=2)
        assert model.output_length == 2
        with pytest.raises(ValueError, match="not a MAUBackbone one"):
            MAUBackbone.from_preset("taxibj/simvp_gsta")
        with pytest.raises(ValueError, match="Unknown preset"):
            MAUBackbone.from_preset("taxibj/nope")

    @pytest.mark.slow
    def test_all_preset_param_counts(self):
        check_preset_param_counts(MAUBackbone)

    def test_errors(self):
        with pytest.raises(ValueError, match="power of 2"):
            MAUBackbone(**TINY_MAU, downsample_factor=3)
        with pytest.raises(ValueError, match="decoder_mode"):
            MAUBackbone(**TINY_MAU, decoder_mode="skip")
        with pytest.raises(ValueError, match="cell_mode"):
            MAUBackbone(**TINY_MAU, cell_mode="other")
