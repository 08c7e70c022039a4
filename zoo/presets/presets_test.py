"""The YAML presets: valid configs, the official hyper-parameters and parameter counts."""

import inspect
import json

import keras
import pytest

from keras_svq.io_utils import UserError
from keras_svq.testing import reference_path
from keras_svq.training import config as config_lib
from zoo import count_torch_params
from zoo.presets import list_presets
from zoo.presets import load_preset
from zoo.presets import preset_path

_REFERENCE = json.loads(reference_path("param_counts.json").read_text())
_SAMPLES = ("era5_uk", "nyc_taxi", "mmnist_sample")
_RECURRENT = (
    "convlstm",
    "predrnn",
    "predrnnpp",
    "predrnnv2",
    "mim",
    "mau",
    "e3dlstm",
    "phydnet",
)


def _constructor_args(cls):
    return {
        name
        for name in inspect.signature(cls.__init__).parameters
        if name not in ("self", "kwargs", "dtype")
    }


def _official():
    return [name for name in list_presets() if "reference" in load_preset(name)]


def test_every_preset_is_a_valid_experiment():
    names = list_presets()
    assert len(names) > 200
    for name in names:
        config = load_preset(name)
        config_lib.validate(config)
        cls = config_lib.get_backbone_class(config["backbone"])
        if config["backbone"] == "SimVPBackbone":
            # The model section is exactly the backbone's constructor arguments.
            assert set(config["model"]) == _constructor_args(cls), name
        else:
            assert set(config["model"]) <= _constructor_args(cls), name


def test_official_presets_name_their_reference():
    references = {}
    for name in list_presets():
        config = load_preset(name)
        if name.split("/")[0] in _SAMPLES:
            assert "reference" not in config, name
            continue
        reference = config["reference"]
        assert reference in _REFERENCE, name
        assert reference not in references, (name, references.get(reference))
        references[reference] = name


def test_recurrent_presets_cover_every_dataset():
    for dataset in (
        "weather_t2m",
        "weather_r",
        "weather_uv10",
        "weather_tcc",
        "weather_mv",
        "taxibj",
        "kth",
        "kitticaltech",
        "human",
    ):
        for model in ("convlstm", "predrnn", "predrnnpp", "predrnnv2", "phydnet"):
            assert f"{dataset}/{model}" in list_presets(), (dataset, model)
    config = load_preset("weather_t2m/predrnnv2")
    assert config["backbone"] == "PredRNNv2Backbone"
    assert config["model"]["reverse_scheduled_sampling"] is True
    assert config["training"]["scheduled_sampling"]["reverse_sampling_start"] == 25000
    assert "scheduled_sampling" not in load_preset("weather_t2m/phydnet")["training"]


def test_hyper_parameters_equal_the_official_ones():
    config = load_preset("weather_t2m/simvp_gsta_svq_frozen")
    assert config["reference"] == "weather_t2m_5_625/SimVPVQ_gSTA_frozen"
    assert config["training"] == {
        "epochs": 50,
        "optimizer": "adam",
        "learning_rate": 0.005,
        "weight_decay": 0.0,
        "schedule": "cosine",
        "warmup_epochs": 5,
        "loss": "mae",
        "patience": 10,
    }
    assert config["data"] == {"dataset": "weather_t2m", "batch_size": 16}
    assert config["model"]["quantizer"]["codebook_size"] == 10000
    assert config["model"]["drop_path_rate"] == 0.1
    kth = load_preset("kth/simvp_incepu_svq_frozen")
    assert kth["training"]["schedule"] == "onecycle" and kth["data"]["batch_size"] == 4
    assert kth["model"]["quantizer"]["codebook_initializer"] == "kaiming"
    noise = load_preset("weather_t2m/simvp_gsta_svq_learnable_noise_0.3")
    assert noise["model"]["noise_rate"] == 0.3
    relu = load_preset("weather_t2m/simvp_gsta_svq_learnable_relu_true_false")
    assert relu["model"]["quantizer"]["hidden_activation"] == "relu"
    assert relu["model"]["quantizer"]["output_activation"] is None
    post = load_preset("weather_t2m/simvp_gsta_svq_learnable_post")
    assert post["model"]["quantizer_position"] == "post"
    assert load_preset("weather_t2m/simvp_gsta_rvq")["model"]["quantizer"]["name"] == (
        "rvq"
    )


def _check_counts(name):
    config = load_preset(name)
    reference = _REFERENCE[config["reference"]]
    model = config_lib.get_backbone_class(config["backbone"])(**config["model"])
    total = count_torch_params(model)
    trainable = count_torch_params(model, trainable_only=True)
    keras.backend.clear_session()
    if config["backbone"] != "SimVPBackbone":
        # Totals only: ConvLSTM's SVQ cell keeps a frozen codebook that the
        # official model counts as trainable.
        assert total == reference["total_params"], name
        return
    quantizer = config["model"]["quantizer"]
    expected_trainable = reference["trainable_params"]
    if quantizer and quantizer.get("freeze_projection"):
        # The reference counts before its trainer freezes the SVQ projection
        # (D -> hidden -> K, weights and biases); here it is frozen on build.
        dim, codes = config["model"]["spatial_hidden_dim"], quantizer["codebook_size"]
        hidden = min(quantizer["hidden_dim"], codes)
        expected_trainable -= dim * hidden + hidden + hidden * codes + codes
    assert trainable == expected_trainable, name
    if quantizer is None or quantizer["name"] == "svq":
        assert total == reference["total_params"], name
    # else: the EMA codebooks of the VQ baselines are non-trainable weights
    # here and buffers in torch (see quantizer_family_test.py).


@pytest.mark.parametrize(
    "name",
    [
        "weather_t2m/convlstm",
        "taxibj/phydnet",
        "taxibj/mau",
        "weather_t2m/simvp_gsta_vq",
        "weather_t2m/simvp_gsta_svq_learnable_post",
        "weather_t2m/simvp_gsta_svq_freeze_both",
        "weather_hmv/simvp_gsta_svq_frozen",
    ],
)
def test_parameter_counts_equal_the_reference(name):
    _check_counts(name)


@pytest.mark.slow
def test_all_parameter_counts_equal_the_reference():
    from zoo import available_translators

    for name in _official():
        model = load_preset(name)["model"]
        if model.get("translator", "gsta") not in available_translators():
            continue
        _check_counts(name)


def test_scheduled_sampling_is_validated_by_the_backbone():
    config = load_preset("weather_t2m/predrnn")
    config["training"]["scheduled_sampling"] = {"sampling_stop_iteration": 10}
    config_lib.validate(config)
    assert config_lib.training_config(config["training"]).scheduled_sampling == {
        "sampling_stop_iteration": 10
    }
    config["training"]["scheduled_sampling"] = {"sampling_stop": 10}
    with pytest.raises(
        UserError,
        match="training.scheduled_sampling.sampling_stop; did you mean .*"
        "sampling_stop_iteration",
    ):
        config_lib.validate(config)
    # A backbone that trains without scheduled sampling refuses the section.
    config = load_preset("weather_t2m/simvp_gsta")
    config["training"]["scheduled_sampling"] = {"sampling_stop_iteration": 10}
    with pytest.raises(UserError, match="SimVPBackbone has none: set it to null"):
        config_lib.validate(config)


def test_unknown_top_level_keys_stay_errors():
    config = load_preset("weather_t2m/simvp_gsta")
    config_lib.validate(config)
    with pytest.raises(UserError, match="Unknown config section 'referenc'"):
        config_lib.validate({**config, "referenc": "x"})


def test_unknown_preset_lists_close_matches():
    with pytest.raises(ValueError, match="weather_t2m/simvp_gsta"):
        preset_path("weather_t2m/simvp_gst")
