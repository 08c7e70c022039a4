import numpy as np
import pytest

from keras_svq.testing import TestCase
from zoo.predrnn.predrnn_backbone import PredRNNBackbone
from zoo.predrnnv2.predrnnv2_backbone import PredRNNv2Backbone
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


class TestPredRNNv2Backbone(TestCase):
    def test_call_config_and_saving(self):
        self.run_backbone_test(PredRNNv2Backbone, TINY, TINY_SHAPE, **LIGHT)

    @pytest.mark.slow
    def test_full_battery(self):
        self.run_backbone_test(PredRNNv2Backbone, TINY, TINY_SHAPE)

    def test_t2m_param_count(self):
        reference = t2m_reference("PredRNNv2")
        kwargs = reference["model_kwargs"]
        count = symbolic_param_count(
            PredRNNv2Backbone,
            **T2M,
            hidden_dims=[128] * 4,
            kernel_size=kwargs["filter_size"],
            patch_size=kwargs["patch_size"],
        )
        assert count == reference["total_params"] == 23_584_768

    def test_preset_param_counts(self):
        check_preset_param_counts(PredRNNv2Backbone, ["taxibj/predrnnv2"])
        model = PredRNNv2Backbone.from_preset("taxibj/predrnnv2", output_length=2)
        assert model.output_length == 2
        with pytest.raises(ValueError, match="not a PredRNNv2Backbone one"):
            PredRNNv2Backbone.from_preset("taxibj/simvp_gsta")
        with pytest.raises(ValueError, match="Unknown preset"):
            PredRNNv2Backbone.from_preset("taxibj/nope")

    @pytest.mark.slow
    def test_all_preset_param_counts(self):
        check_preset_param_counts(PredRNNv2Backbone)

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

    def test_errors(self):
        with pytest.raises(ValueError, match="decoupling_weight"):
            PredRNNv2Backbone(**TINY, decoupling_weight=-1.0)
