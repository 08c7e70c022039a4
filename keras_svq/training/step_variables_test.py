import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_svq.metrics import ForecastMSE
from keras_svq.optimizers import FusedAdam
from keras_svq.testing import two_cpu_mirrored_strategy
from keras_svq.training.step_variables import build_step_variables

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="TensorFlow's tracing"
)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((8, 3, 6, 6, 1)).astype("float32")
Y = RNG.standard_normal((8, 3, 6, 6, 1)).astype("float32")


class CountingModel(keras.Model):
    """Counts the traces of its training step (Python runs only when tracing)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.traces = 0

    def train_step(self, data):
        self.traces += 1
        return super().train_step(data)


def _compiled_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3, 6, 6, 1))
    outputs = keras.layers.Conv3D(1, 3, padding="same")(inputs)
    model = CountingModel(inputs, outputs)
    model.compile(optimizer=FusedAdam(1e-2), loss="mse", metrics=[ForecastMSE()])
    return model


def _dataset():
    return tf.data.Dataset.from_tensor_slices((X, Y)).batch(4)


def _all_variables(model):
    return [
        *model.variables,
        *model.optimizer.variables,
        *model.metrics_variables,
    ]


def _fit(model):
    history = model.fit(_dataset(), epochs=2, verbose=0)
    return history.history, model.get_weights()


def test_fit_traces_its_step_once_and_creates_no_variable():
    model = _compiled_model()
    build_step_variables(model, _dataset())
    before = {id(v) for v in _all_variables(model)}
    _fit(model)
    assert model.traces == 1
    assert {id(v) for v in _all_variables(model)} == before


def test_without_it_keras_traces_the_step_twice():
    """What the function avoids (Keras 3.15 on TensorFlow, no strategy)."""
    model = _compiled_model()
    _fit(model)
    assert model.traces == 2


def test_training_is_unchanged():
    """Slots at their initial values, metrics reset, no weight touched."""
    expected_history, expected_weights = _fit(_compiled_model())
    model = _compiled_model()
    build_step_variables(model, _dataset())
    assert int(model.optimizer.iterations) == 0
    history, weights = _fit(model)
    for key, values in expected_history.items():
        np.testing.assert_allclose(history[key], values, rtol=1e-6)
    for a, b in zip(expected_weights, weights):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


def test_leaves_a_distribution_strategy_to_keras():
    strategy = two_cpu_mirrored_strategy()
    with strategy.scope():
        model = _compiled_model()
    build_step_variables(model, _dataset(), strategy)
    assert not model.optimizer.built  # Keras builds it when `fit` starts
    history, _ = _fit(model)
    assert model.optimizer.built and np.isfinite(history["loss"]).all()
