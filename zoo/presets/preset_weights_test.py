"""Presets with trained weights: `from_preset(load_weights=...)`, `save_to_preset`."""

import hashlib
import json
import shutil

import h5py
import keras
import numpy as np
import pytest

from keras_svq import preset_catalog
from keras_svq.io_utils import UserError
from keras_svq.testing import tiny_simvp_config
from keras_svq.training import config as config_lib
from zoo import Backbone
from zoo import SimVPBackbone
from zoo import presets

# The acceptance preset: its published test metrics are reproduced below.
SHIPPED = "era5_uk/simvp_gsta_svq_frozen"
TINY = tiny_simvp_config(svq=True, temporal_hidden_dim=32, mlp_ratio=4.0)


def _digests(arrays):
    """Sorted (shape, SHA-256) of arrays: equal sets of values, whatever the order."""
    return sorted(
        (a.shape, hashlib.sha256(np.ascontiguousarray(a, "float32")).hexdigest())
        for a in arrays
    )


def _h5_arrays(path):
    arrays = []
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: (
                arrays.append(obj[()]) if isinstance(obj, h5py.Dataset) else None
            )
        )
    return arrays


def _inputs(model, batch=2):
    shape = (batch, model.input_length, model.height, model.width, model.channels)
    return np.random.default_rng(0).normal(size=shape).astype("float32")


def test_sample_presets_ship_weights():
    shipped = presets.list_presets(with_weights=True)
    assert SHIPPED in shipped
    assert set(shipped) <= set(SimVPBackbone.list_presets())
    assert SimVPBackbone.list_presets(with_weights=True) == shipped
    for name in shipped:
        metadata = presets.load_metadata(name)
        assert metadata["backbone"] == "SimVPBackbone"
        assert {"mean", "std"} <= set(metadata["normalizer"])
        assert metadata["metrics"]["test"]["mse"] > 0
        assert metadata["provenance"]["seed"] == 0
        weights = presets.weights_path(name)
        assert weights.with_name(weights.name + ".sha256").is_file()
        assert weights.stat().st_size < 8e6  # a few MB at most
    assert presets.weights_path("taxibj/simvp_gsta") is None
    assert presets.load_metadata("taxibj/simvp_gsta") is None


def test_from_preset_loads_shipped_weights_by_default():
    model = SimVPBackbone.from_preset(SHIPPED)
    fresh = SimVPBackbone.from_preset(SHIPPED, load_weights=False)
    trained = [np.asarray(w) for w in model.weights]
    # Every value of the file is in the model, read independently of Keras.
    assert _digests(trained) == _digests(_h5_arrays(presets.weights_path(SHIPPED)))
    differs = [
        not np.array_equal(a, np.asarray(b))
        for a, b in zip(trained, fresh.weights, strict=True)
    ]
    assert sum(differs) > len(differs) // 2  # trained, not a fresh initialisation
    # `Backbone.from_preset` builds the class the preset names.
    generic = Backbone.from_preset(SHIPPED)
    assert type(generic) is SimVPBackbone
    np.testing.assert_array_equal(
        generic.predict(_inputs(model), verbose=0),
        model.predict(_inputs(model), verbose=0),
    )


def test_load_weights_true_without_weights_names_presets_with_weights():
    with pytest.raises(
        UserError, match=r"'taxibj/simvp_gsta' ships no weights.*load_weights=False"
    ) as error:
        SimVPBackbone.from_preset("taxibj/simvp_gsta", load_weights=True)
    assert SHIPPED in str(error.value)
    # Without weights, the default is a freshly initialised model.
    model = SimVPBackbone.from_preset("nyc_taxi/simvp_gsta", load_weights=False)
    assert model.output_shape == (None, 4, 16, 12, 2)


def test_unknown_argument_lists_the_valid_ones():
    with pytest.raises(
        UserError,
        match=r"Unknown argument\(s\) foo_bar for SimVPBackbone.from_preset.*"
        r"Valid arguments: load_weights, input_length, .*spatial_hidden_dim",
    ):
        SimVPBackbone.from_preset("taxibj/simvp_gsta", foo_bar=1)
    with pytest.raises(UserError, match="Did you mean spatial_hidden_dim"):
        SimVPBackbone.from_preset(SHIPPED, spatial_hiden_dim=8)
    with pytest.raises(UserError, match="Received: load_weights='yes'"):
        SimVPBackbone.from_preset(SHIPPED, load_weights="yes")


def test_overrides_that_change_the_trained_model_are_refused():
    with pytest.raises(
        UserError,
        match=r"trained with temporal_hidden_dim=64.*load_weights=False.*"
        r"Received: temporal_hidden_dim=32",
    ):
        SimVPBackbone.from_preset(SHIPPED, temporal_hidden_dim=32)
    # Same shapes, another function: refused too.
    with pytest.raises(UserError, match="trained with residual=False"):
        SimVPBackbone.from_preset(SHIPPED, residual=True)
    model = SimVPBackbone.from_preset(
        SHIPPED, load_weights=False, temporal_hidden_dim=32
    )
    assert model.temporal_hidden_dim == 32
    # Unchanged values and Keras-level arguments keep the weights.
    named = SimVPBackbone.from_preset(SHIPPED, name="forecaster", height=32)
    trained = SimVPBackbone.from_preset(SHIPPED)
    assert named.name == "forecaster"
    for a, b in zip(named.weights, trained.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def _save(tmp_path, **kwargs):
    model = SimVPBackbone(**TINY)
    folder = tmp_path / "preset"
    model.save_to_preset(folder, **kwargs)
    return model, folder


def test_save_to_preset_round_trip(tmp_path):
    data = {"sample": "era5_t2m_uk", "input_length": 4, "output_length": 4}
    training = {"epochs": 1, "learning_rate": 0.005}
    normalizer = {"mean": np.array([280.5]), "std": [2.25], "kind": "zscore"}
    metrics = {"test": {"mse": np.float32(0.5), "mae": 0.25}}
    provenance = {"seed": 0, "epochs": 1}
    model, folder = _save(
        tmp_path,
        normalizer=normalizer,
        metrics=metrics,
        provenance=provenance,
        data=data,
        training=training,
    )
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.yaml",
        "metadata.json",
        "model.weights.h5",
        "model.weights.h5.sha256",
    ]
    config = config_lib.load_yaml(folder / "config.yaml")
    config_lib.validate(config)  # a valid experiment: `keras-svq train --config`
    assert config["model"] == json.loads(json.dumps(model.get_config()))
    assert (config["data"], config["training"]) == (data, training)

    restored = SimVPBackbone.from_preset(str(folder))
    x = _inputs(model)
    np.testing.assert_array_equal(
        restored.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    assert type(Backbone.from_preset(folder)) is SimVPBackbone
    metadata = SimVPBackbone.get_preset_metadata(folder)
    assert metadata["backbone"] == "SimVPBackbone"
    assert metadata["keras_svq_version"]
    assert metadata["normalizer"] == {"mean": [280.5], "std": [2.25], "kind": "zscore"}
    assert metadata["metrics"] == {"test": {"mse": 0.5, "mae": 0.25}}
    assert metadata["provenance"] == provenance
    # load_weights=False gives the architecture only.
    fresh = SimVPBackbone.from_preset(folder, load_weights=False)
    assert not np.array_equal(fresh.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_to_preset_refuses_to_overwrite(tmp_path):
    model, folder = _save(tmp_path)
    with pytest.raises(UserError, match="already holds a preset; pass overwrite=True"):
        model.save_to_preset(folder)
    model.save_to_preset(folder, overwrite=True)
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(UserError, match=r"not a preset's \(notes.txt\)"):
        model.save_to_preset(folder, overwrite=True)
    with pytest.raises(UserError, match="normalizer must be"):
        model.save_to_preset(tmp_path / "other", normalizer=[0.0, 1.0])
    with pytest.raises(UserError, match="Preset folder not found"):
        SimVPBackbone.from_preset(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not a preset folder"):
        SimVPBackbone.from_preset(str(tmp_path / "empty"))


def test_checksum_detects_bit_rot(tmp_path):
    _, folder = _save(tmp_path)
    weights = folder / "model.weights.h5"
    damaged = bytearray(weights.read_bytes())
    damaged[len(damaged) // 2] ^= 0x01
    weights.write_bytes(bytes(damaged))
    with pytest.raises(UserError, match="is corrupt: its SHA-256 differs"):
        SimVPBackbone.from_preset(folder)
    # A missing sidecar is refused too: integrity cannot be checked.
    _, folder = _save(tmp_path / "b")
    (folder / "model.weights.h5.sha256").unlink()
    with pytest.raises(UserError, match="have no model.weights.h5.sha256 checksum"):
        SimVPBackbone.from_preset(folder)


def test_shipped_weights_bit_rot(tmp_path, monkeypatch):
    """A damaged shipped file is refused, not loaded (on a copy of the presets)."""
    dataset = SHIPPED.split("/")[0]
    copy = tmp_path / "presets"
    shutil.copytree(presets.PRESET_DIR / dataset, copy / dataset)
    # The catalogue behind `zoo.presets` reads its folder from here.
    monkeypatch.setattr(preset_catalog, "PRESET_DIR", copy)
    weights = presets.weights_path(SHIPPED)
    assert weights.parent.parent == copy
    damaged = bytearray(weights.read_bytes())
    damaged[-100] ^= 0x01
    weights.write_bytes(bytes(damaged))
    with pytest.raises(UserError, match="is corrupt"):
        SimVPBackbone.from_preset(SHIPPED)


def test_from_preset_of_another_backbone_folder(tmp_path):
    from zoo import ConvLSTMBackbone

    _, folder = _save(tmp_path)
    with pytest.raises(
        UserError, match="holds a SimVPBackbone, not a ConvLSTMBackbone"
    ):
        ConvLSTMBackbone.from_preset(folder)


@pytest.mark.integration
def test_shipped_preset_reproduces_its_published_test_metrics():
    """The acceptance check: the published figures, from `from_preset` alone.

    Scored as `keras-svq evaluate` scores (`run_commands._Scores`, physical
    units, the test split of the preset's data at the training seed).
    """
    from keras_svq.training import trainer
    from keras_svq.training.run_commands import _Scores

    keras.config.set_dtype_policy("float32")
    model = SimVPBackbone.from_preset(SHIPPED)
    metadata = SimVPBackbone.get_preset_metadata(SHIPPED)
    config = SimVPBackbone.get_preset(SHIPPED)
    bundle = trainer.build_data(
        {"data": config["data"], "training": {"seed": metadata["provenance"]["seed"]}}
    )
    assert bundle.normalizer.get_config() == metadata["normalizer"]
    scores = _Scores(bundle.output_length, bundle.coords.get("lat"), {})
    seen = 0
    for x, y in bundle.test:
        x, y = np.asarray(x), np.asarray(y)
        pred = np.asarray(model.predict_on_batch(x), "float32")
        scores.add(bundle.normalizer, x, y, pred, np.arange(seen, seen + len(x)))
        seen += len(x)
    physical = scores.results()["physical"]
    published = metadata["metrics"]["test"]
    assert seen == published["num_test_examples"]
    for key in ("mse", "mae"):
        np.testing.assert_allclose(physical[key], published[key], rtol=1e-4)


def test_presets_command_marks_weights_and_prints_test_metrics(capsys):
    from keras_svq.cli import main

    assert main(["presets", "--with-weights"]) == 0
    lines = capsys.readouterr().out.splitlines()
    shipped = presets.list_presets(with_weights=True)
    for name in shipped:
        test = presets.load_metadata(name)["metrics"]["test"]
        line = next(line for line in lines if line.split()[:1] == [name])
        assert f"[weights] test MSE {test['mse']:.4g} MAE {test['mae']:.4g}" in line
    assert f"{len(shipped)} of " in lines[-1]
    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    assert "taxibj/simvp_gsta\n" in out


def test_readme_publishes_the_shipped_metrics():
    import pathlib

    readme = pathlib.Path(__file__).resolve().parents[2] / "README.md"
    if not readme.is_file():  # an installed package has no README beside it
        pytest.skip("README.md not found")
    text = readme.read_text()
    for name in presets.list_presets(with_weights=True):
        test = presets.load_metadata(name)["metrics"]["test"]
        row = next((line for line in text.splitlines() if f"| `{name}` |" in line), "")
        # `python tools/train_preset_weights.py --table` writes the rows.
        assert f"| {test['mse']:.4g} | {test['mae']:.4g} |" in row, name
