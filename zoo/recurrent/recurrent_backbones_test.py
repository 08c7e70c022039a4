"""What every recurrent backbone of the zoo must do, one table for all eight.

Each model has a row: its class, tiny constructor arguments and the official
parameter count at the WeatherBench-S t2m setting (the issue's figures). The
per-model test files keep only what is particular to a model (fixtures,
losses, its own errors).
"""

import inspect

import numpy as np
import pytest

from keras_svq.testing import TestCase
from zoo.convlstm.convlstm_backbone import ConvLSTMBackbone
from zoo.e3dlstm.e3dlstm_backbone import E3DLSTMBackbone
from zoo.mau.mau_backbone import MAUBackbone
from zoo.mim.mim_backbone import MIMBackbone
from zoo.phydnet.phydnet_backbone import PhyDNetBackbone
from zoo.predrnn.predrnn_backbone import PredRNNBackbone
from zoo.predrnnpp.predrnnpp_backbone import PredRNNppBackbone
from zoo.predrnnv2.predrnnv2_backbone import PredRNNv2Backbone
from zoo.recurrent.testing import TINY
from zoo.recurrent.testing import TINY_MAU
from zoo.recurrent.testing import TINY_PHYDNET
from zoo.recurrent.testing import TINY_SHAPE
from zoo.recurrent.testing import check_preset_param_counts
from zoo.recurrent.testing import t2m_reference

# preset name -> (class, tiny kwargs, official t2m total, param_counts.json name)
MODELS = {
    "convlstm": (ConvLSTMBackbone, TINY, 14_928_384, "ConvLSTM"),
    "predrnn": (PredRNNBackbone, TINY, 23_568_384, "PredRNN"),
    "predrnnpp": (PredRNNppBackbone, TINY, 38_313_984, "PredRNNpp"),
    "predrnnv2": (PredRNNv2Backbone, TINY, 23_584_768, "PredRNNv2"),
    "mim": (MIMBackbone, {**TINY, "hidden_dims": [8, 8, 8]}, 37_748_736, "MIM"),
    "mau": (MAUBackbone, TINY_MAU, 5_458_308, "MAU"),
    "e3dlstm": (E3DLSTMBackbone, TINY, 51_085_312, "E3DLSTM"),
    "phydnet": (PhyDNetBackbone, TINY_PHYDNET, 3_091_732, "PhyDNet"),
}
# These run the whole battery by default (SavedModel in a fresh process,
# MirroredStrategy): the paper's baseline and the family most models extend.
DEFAULT_FULL_BATTERY = ("convlstm", "predrnn")
LIGHT = dict(
    run_fit=False,
    run_saved_model=False,
    run_distribution=False,
    run_mixed_precision=False,
    run_jit=False,
)

# (model, constructor overrides, what the error must say)
BAD_ARGUMENTS = [
    ("convlstm", {"cell": "peephole"}, "`cell` must be one of"),
    ("convlstm", {"height": 15}, "multiple of `patch_size`"),
    ("convlstm", {"kernel_size": 4}, "kernel_size"),
    ("convlstm", {"hidden_dims": []}, "hidden_dims"),
    ("convlstm", {"stride": 2}, "stride"),
    ("convlstm", {"input_length": 0}, "`input_length` must be a positive integer"),
    ("predrnn", {"hidden_dims": [8, 16]}, "same width"),
    ("predrnnpp", {"hidden_dims": [8]}, "at least 2 layers"),
    ("predrnnv2", {"decoupling_weight": -1.0}, "decoupling_weight"),
    ("mau", {"downsample_factor": 3}, "power of 2"),
    ("mau", {"decoder_mode": "skip"}, "decoder_mode"),
    ("mau", {"cell_mode": "other"}, "`cell_mode` must be one of"),
    ("phydnet", {"downsample_factor": 3}, "2 or 4"),
    ("phydnet", {"hidden_dims": [16, 32]}, "must be 64"),
]


def _params(names, **marks):
    return [pytest.param(name, id=name, **marks) for name in names]


class TestRecurrentBackbones(TestCase):
    @pytest.mark.integration
    @pytest.mark.parametrize("name", _params(DEFAULT_FULL_BATTERY))
    def test_battery(self, name):
        cls, kwargs, _, _ = MODELS[name]
        self.run_backbone_test(
            cls, kwargs, TINY_SHAPE, run_mixed_precision=False, run_jit=False
        )

    @pytest.mark.parametrize(
        "name", _params([n for n in MODELS if n not in DEFAULT_FULL_BATTERY])
    )
    def test_call_config_and_saving(self, name):
        cls, kwargs, _, _ = MODELS[name]
        self.run_backbone_test(cls, kwargs, TINY_SHAPE, **LIGHT)

    @pytest.mark.slow
    @pytest.mark.parametrize("name", _params(MODELS))
    def test_full_battery(self, name):
        cls, kwargs, _, _ = MODELS[name]
        self.run_backbone_test(cls, kwargs, TINY_SHAPE)

    @pytest.mark.parametrize("name", _params(MODELS))
    def test_t2m_param_count(self, name):
        cls, _, expected, reference_name = MODELS[name]
        assert t2m_reference(reference_name)["total_params"] == expected
        preset = cls.get_preset(f"weather_t2m/{name}")
        assert preset["reference"] == f"weather_t2m_5_625/{reference_name}"
        check_preset_param_counts(cls, [f"weather_t2m/{name}"])

    @pytest.mark.parametrize("name", _params(MODELS))
    def test_presets(self, name):
        cls = MODELS[name][0]
        check_preset_param_counts(cls, [f"taxibj/{name}"])
        assert f"weather_t2m/{name}" in cls.list_presets()
        model = cls.from_preset(f"taxibj/{name}", output_length=2)
        assert model.output_length == 2
        with pytest.raises(ValueError, match=f"not a {cls.__name__} one"):
            cls.from_preset("taxibj/simvp_gsta")
        with pytest.raises(ValueError, match="Unknown preset"):
            cls.from_preset(f"taxibj/{name}_nope")

    @pytest.mark.slow
    @pytest.mark.parametrize("name", _params(MODELS))
    def test_all_preset_param_counts(self, name):
        check_preset_param_counts(MODELS[name][0])

    @pytest.mark.parametrize(
        "name, overrides, message",
        [
            pytest.param(name, overrides, message, id=f"{name}-{next(iter(overrides))}")
            for name, overrides, message in BAD_ARGUMENTS
        ],
    )
    def test_bad_arguments(self, name, overrides, message):
        cls, kwargs, _, _ = MODELS[name]
        with pytest.raises(ValueError, match=message):
            cls(**{**kwargs, **overrides})


class TestRecurrentOutputConstraint(TestCase):
    @pytest.mark.parametrize("name", _params(MODELS))
    def test_every_backbone_takes_the_output_bounds(self, name):
        cls, kwargs, _, _ = MODELS[name]
        # Named in the signature, so experiment configs may set them.
        parameters = inspect.signature(cls.__init__).parameters
        assert parameters["output_constraint"].default is None
        assert parameters["clip"].default is None
        model = cls(**kwargs, output_constraint="nonnegative", clip=[None, 5])
        assert model.layers[-1].name == "output_constraint"
        config = model.get_config()
        assert config["output_constraint"] == "nonnegative"
        assert config["clip"] == [None, 5.0]
        assert cls.from_config(config).get_config() == config

    def test_convlstm_clip_bounds_the_forecast(self):
        # Physical [0, 1] with mean 0.5 and std 4 is z in [-0.125, 0.125].
        mean, std = 0.5, 4.0
        model = ConvLSTMBackbone(**TINY, clip=[0, 1])
        model.set_output_normalization([mean], [std])
        plain = ConvLSTMBackbone(**TINY)
        assert "output_constraint" not in [layer.name for layer in plain.layers]
        plain.predictor.set_weights(model.predictor.get_weights())
        rng = np.random.default_rng(0)
        x = (100.0 * rng.standard_normal(TINY_SHAPE)).astype("float32")
        y = np.asarray(model(x, training=False))
        expected = np.clip(np.asarray(plain(x, training=False)), -0.125, 0.125)
        np.testing.assert_array_equal(y, expected)
        physical = y * std + mean
        assert physical.min() >= 0.0 and physical.max() <= 1.0
        assert np.any(np.abs(y) == 0.125), "the forecast never reached a bound"
