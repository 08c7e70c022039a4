import pytest

from keras_svq.io_utils import UserError
from keras_svq.training import config as config_lib


def _config():
    return {
        "backbone": "SimVPBackbone",
        "data": {
            "sample": "era5_t2m_uk",
            "input_length": 4,
            "output_length": 4,
            "batch_size": 2,
        },
        "model": {
            "input_length": 4,
            "output_length": 4,
            "height": 16,
            "width": 16,
            "channels": 1,
        },
        "training": {"epochs": 3},
    }


def test_precedence_defaults_file_set():
    resolved = config_lib.resolve(
        _config(), config_lib.parse_set(["training.learning_rate=0.01"])
    )
    training = resolved["training"]
    assert training["epochs"] == 3  # file
    assert training["learning_rate"] == 0.01  # --set
    assert training["schedule"] == "onecycle"  # TrainingConfig default
    # --set wins over the file.
    resolved = config_lib.resolve(
        _config(), config_lib.parse_set(["training.epochs=7"])
    )
    assert resolved["training"]["epochs"] == 7


def test_set_values_are_yaml():
    parsed = config_lib.parse_set(
        ["a.b=1", "a.c=true", "a.d=[1, 2]", "a.e=adamw", "a.f=1e-3"]
    )
    assert [v for _, v in parsed] == [1, True, [1, 2], "adamw", 1e-3]
    config = config_lib.apply_overrides(
        _config(), config_lib.parse_set(["model.quantizer={name: svq}"])
    )
    assert config["model"]["quantizer"] == {"name": "svq"}


@pytest.mark.parametrize(
    "overrides, message",
    [
        (["training.learning_rat=0.1"], "training.learning_rat"),
        (["model.hieght=16"], "model.hieght"),
        (["data.batchsize=3"], "data.batchsize"),
        (["trainig.epochs=3"], "trainig"),
        (["training.epochs=0"], "training.epochs"),
        (["training.epochs"], "key=value"),
        (["training.remat_layers=mlp"], "training.remat_layers"),
        (["training.remat_layers=[]"], "training.remat_layers"),
    ],
)
def test_unknown_or_bad_keys_are_named(overrides, message):
    with pytest.raises(UserError, match=message.replace(".", r"\.")):
        config_lib.resolve(_config(), config_lib.parse_set(overrides))


def test_missing_section_and_unknown_backbone():
    config = _config()
    del config["model"]
    with pytest.raises(UserError, match="'model'"):
        config_lib.resolve(config)
    config = _config()
    config["backbone"] = "SimVPBackbon"
    with pytest.raises(UserError, match="SimVPBackbone"):
        config_lib.resolve(config)


def test_data_section_needs_one_source():
    config = _config()
    config["data"]["dataset"] = "taxibj"
    with pytest.raises(UserError, match="exactly one"):
        config_lib.resolve(config)


def test_reference_is_the_only_top_level_extra():
    config = {**_config(), "reference": "weather_t2m_5_625/SimVP_gSTA"}
    assert config_lib.validate(config)["reference"] == "weather_t2m_5_625/SimVP_gSTA"
    with pytest.raises(UserError, match="reference must be a string"):
        config_lib.validate({**_config(), "reference": 3})
    with pytest.raises(UserError, match="Unknown config section 'notes'"):
        config_lib.validate({**_config(), "notes": "x"})


def test_unknown_backbone_lists_the_registered_ones():
    config = _config()
    config["backbone"] = "Backbone"  # the abstract base is not a choice
    with pytest.raises(UserError) as info:
        config_lib.resolve(config)
    message = str(info.value)
    assert message.startswith("Unknown backbone 'Backbone'.")
    assert "Known backbones: ConvLSTMBackbone, " in message
    assert "SimVPBackbone" in message


def test_yaml_helpers_are_the_io_utils_ones():
    from keras_svq import io_utils

    # Kept importable from here for older code.
    assert config_lib.yaml_load is io_utils.yaml_load
    assert config_lib.dump_yaml is io_utils.yaml_dump
    assert config_lib.yaml_load("lr: 1e-3") == {"lr": 1e-3}


def test_load_yaml_names_what_is_wrong(tmp_path):
    with pytest.raises(UserError, match="Config file not found: "):
        config_lib.load_yaml(tmp_path / "nope.yaml")
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(UserError, match="must hold a mapping with the sections"):
        config_lib.load_yaml(path)
    path.write_text("a: [1\n")
    with pytest.raises(UserError, match="is not valid YAML"):
        config_lib.load_yaml(path)
