"""Every SimVP preset builds the official model: same settings, same parameter counts."""

import json

import keras
import pytest

from keras_svq.quantizers import quantizer_config_from_reference
from keras_svq.testing import reference_path
from keras_svq.training.config import training_config
from keras_svq.training.losses import MaskedLoss
from keras_svq.training.losses import TAULoss
from keras_svq.training.optimizers import get_loss
from zoo import SimVPBackbone
from zoo import available_translators
from zoo import count_torch_params

_REFERENCE = json.loads(reference_path("param_counts.json").read_text())
_OFFICIAL = [
    name
    for name in SimVPBackbone.list_presets()
    if "reference" in SimVPBackbone.get_preset(name)
]
# The numbers the issue quotes; the rest of the buildable presets are checked
# the same way in the slow run.
_HEADLINE = {
    "weather_t2m/simvp_gsta": (12_758_305, 12_758_305),
    "weather_t2m/simvp_incepu": (14_666_017, 14_666_017),
    "weather_t2m/tau": (12_219_553, 12_219_553),
    "weather_t2m/simvp_gsta_svq_learnable": (14_372_529, 14_372_529),
    "weather_t2m/simvp_gsta_svq_frozen": (14_372_529, 14_052_529),
    "taxibj/simvp_gsta": (9_961_058, 9_961_058),
}


def _buildable(name):
    return SimVPBackbone.get_preset(name)["model"]["translator"] in (
        available_translators()
    )


def _check_counts(name):
    preset = SimVPBackbone.get_preset(name)
    model = SimVPBackbone.from_preset(name)
    reference = _REFERENCE[preset["reference"]]
    assert (
        count_torch_params(model, trainable_only=True) == reference["trainable_params"]
    )
    quantizer = preset["model"]["quantizer"]
    if quantizer is not None and quantizer["name"] != "svq":
        # The EMA codebooks of the VQ baselines are non-trainable weights here
        # and buffers in torch (see quantizer_family_test.py).
        keras.backend.clear_session()
        return model
    assert count_torch_params(model) == reference["total_params"]
    # Keras also counts BatchNorm moving statistics, which torch keeps as
    # buffers. (Other torch buffers, such as Swin's never-used attention
    # masks, have no Keras counterpart.)
    assert (
        model.count_params()
        == reference["total_params"] + reference["bn_running_stats_numel"]
    )
    keras.backend.clear_session()
    return model


@pytest.mark.parametrize("name", sorted(_HEADLINE))
def test_headline_parameter_counts(name):
    model = _check_counts(name)
    total, trainable = _HEADLINE[name]
    assert count_torch_params(model) == total
    assert count_torch_params(model, trainable_only=True) == trainable


@pytest.mark.slow
@pytest.mark.parametrize("name", [n for n in _OFFICIAL if n not in _HEADLINE])
def test_all_parameter_counts(name):
    if not _buildable(name):
        pytest.skip("translator not registered")
    _check_counts(name)


def test_presets_follow_the_official_configs():
    # Cheap: compares each preset's model section with the reference's kwargs.
    for name in _OFFICIAL:
        _check_preset_against_reference(name)


def _check_preset_against_reference(name):
    preset = SimVPBackbone.get_preset(name)
    reference = _REFERENCE[preset["reference"]]
    kwargs = reference["model_kwargs"]
    model = preset["model"]
    frames, channels, height, width = reference["in_shape"]
    assert (model["input_length"], model["output_length"]) == (
        reference["pre_seq_length"],
        reference["aft_seq_length"],
    ), name
    assert (model["height"], model["width"], model["channels"]) == (
        height,
        width,
        channels,
    ), name
    assert model["spatial_hidden_dim"] == kwargs["hid_S"], name
    assert model["temporal_hidden_dim"] == kwargs["hid_T"], name
    assert model["num_spatial_layers"] == kwargs["N_S"], name
    assert model["num_temporal_layers"] == kwargs["N_T"], name
    assert model["mlp_ratio"] == kwargs["mlp_ratio"], name
    assert model["drop_path_rate"] == kwargs["drop_path"], name
    assert model["noise_rate"] == (kwargs.get("noise") or 0.0), name
    if "vq_kwargs" in kwargs:
        quantizer = model["quantizer"]
        assert quantizer["name"] == kwargs.get("vq_type", "svq"), name
        if quantizer["name"] != "svq":
            assert quantizer == quantizer_config_from_reference(
                kwargs["vq_type"], kwargs["vq_kwargs"]
            ), name
        else:
            assert quantizer["codebook_size"] == kwargs["vq_kwargs"]["codebook_size"]
            assert (
                quantizer["freeze_codebook"] == kwargs["vq_kwargs"]["freeze_codebook"]
            ), name
        assert model["quantizer_position"] == (
            "post" if kwargs["post_vq"] else "pre"
        ), name
    else:
        assert model["quantizer"] is None, name


def test_required_experiments_are_present():
    names = set(SimVPBackbone.list_presets())
    for dataset in (
        "weather_t2m",
        "weather_r",
        "weather_uv10",
        "weather_tcc",
        "weather_mv",
        "weather_hmv",
        "taxibj",
        "kth",
        "kitticaltech",
        "human",
    ):
        in_dataset = [n for n in names if n.startswith(dataset + "/")]
        assert any("_svq_" not in n for n in in_dataset), dataset
        assert any(n.endswith("_svq_learnable") for n in in_dataset), dataset
        assert any(n.endswith("_svq_frozen") for n in in_dataset), dataset


def test_tau_presets_use_the_tau_loss():
    def loss(name):
        masked = get_loss(training_config(SimVPBackbone.get_preset(name)["training"]))
        assert isinstance(masked, MaskedLoss)  # missing targets are left out
        return masked.loss

    tau = loss("kth/tau")
    assert isinstance(tau, TAULoss) and tau.alpha == 0.1
    assert isinstance(
        loss("weather_t2m/simvp_gsta_svq_frozen"), keras.losses.MeanAbsoluteError
    )
    assert isinstance(loss("weather_t2m/simvp_gsta"), keras.losses.MeanSquaredError)


def test_rollout_preset_builds_symbolically():
    model = SimVPBackbone.from_preset("kth/simvp_incepu_svq_frozen")
    assert model.output_shape == (None, 20, 128, 128, 1)
    assert isinstance(model.layers[-1], keras.layers.Concatenate)


def test_only_simvp_presets():
    assert "weather_t2m/convlstm" not in SimVPBackbone.list_presets()
    with pytest.raises(ValueError, match="not a SimVPBackbone one"):
        SimVPBackbone.get_preset("weather_t2m/convlstm")
