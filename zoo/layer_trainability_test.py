"""Sub-layers' `trainable` flags survive a `.keras` round trip of a backbone."""

import warnings

import keras
import numpy as np
import pytest

from keras_svq.testing import tiny_simvp
from zoo import ConvLSTMBackbone
from zoo import SimVPBackbone
from zoo import layer_trainability


def _simvp():
    return tiny_simvp(svq=True)


def _flags(model):
    return {layer.name: layer.trainable for layer in model.layers}


def test_untouched_backbones_keep_their_config():
    model = _simvp()
    assert layer_trainability.CONFIG_KEY not in model.get_config()
    # A layer frozen by its constructor (ConvLSTM's output convolutions) is
    # the default, not a change.
    convlstm = ConvLSTMBackbone.from_preset(ConvLSTMBackbone.list_presets()[0])
    assert layer_trainability.CONFIG_KEY not in convlstm.get_config()


@pytest.mark.integration
def test_frozen_sublayer_survives_save_and_load_with_its_optimizer(tmp_path):
    model = _simvp()
    model.get_layer("encoder").trainable = False
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).standard_normal((2, 4, 16, 16, 1)).astype("float32")
    model.fit(x, x, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Skipping variable loading for optimizer"
        again = keras.saving.load_model(tmp_path / "m.keras")
    assert _flags(again) == _flags(model) and not again.get_layer("encoder").trainable
    assert len(again.trainable_weights) == len(model.trainable_weights)
    assert len(again.optimizer.variables) == len(model.optimizer.variables)
    for a, b in zip(again.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_child_unfrozen_under_a_frozen_parent_is_restored():
    model = _simvp()
    translator = model.get_layer("translator")
    translator.trainable = False
    translator._layers[0].trainable = True  # fine-tune the first block only
    config = model.get_config()
    again = SimVPBackbone.from_config(config)
    blocks = again.get_layer("translator")._layers
    assert not again.get_layer("translator").trainable
    assert blocks[0].trainable and not blocks[1].trainable
    assert len(again.trainable_weights) == len(model.trainable_weights)


def test_flags_for_another_architecture_are_refused():
    model = _simvp()
    model.get_layer("decoder").trainable = False
    config = model.get_config()
    config[layer_trainability.CONFIG_KEY]["99:Nothing"] = False
    with pytest.raises(ValueError, match="does not have"):
        SimVPBackbone.from_config(config)
