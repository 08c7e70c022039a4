import keras
import numpy as np
import pytest

from keras_svq.optimizers import FusedAdam
from keras_svq.optimizers import FusedAdamW
from keras_svq.testing import two_cpu_mirrored_strategy
from keras_svq.testing.backends import run_on_backend
from keras_svq.training.config import TrainingConfig
from keras_svq.training.optimizers import get_optimizer

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the fused update is TensorFlow's; other backends: see the last test",
)

RNG = np.random.default_rng(0)
X = RNG.standard_normal((16, 6, 6, 3)).astype("float32")
Y = RNG.standard_normal((16, 6, 6, 2)).astype("float32")


def _model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)  # variables that are not trained
    return keras.Model(inputs, keras.layers.Dense(2)(x))


def _train(optimizer, epochs=3):
    model = _model()
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(X, Y, batch_size=4, epochs=epochs, verbose=0, shuffle=False)
    return model.get_weights(), [np.asarray(v) for v in model.optimizer.variables]


def _assert_same_training(expected, actual):
    (weights_a, state_a), (weights_b, state_b) = expected, actual
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    assert len(state_a) == len(state_b)
    for a, b in zip(state_a, state_b):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def _schedule():
    return keras.optimizers.schedules.CosineDecay(1e-2, decay_steps=12)


# (Keras' optimizer, ours): the same arguments, including the features that
# run around the update step (schedules, clipping, weight decay, EMA,
# gradient accumulation, loss scaling).
CASES = {
    "adam": lambda cls: cls(1e-2),
    "schedule_and_clipnorm": lambda cls: cls(_schedule(), global_clipnorm=0.5),
    "ema_and_accumulation": lambda cls: cls(
        1e-2, use_ema=True, ema_overwrite_frequency=3, gradient_accumulation_steps=2
    ),
    "loss_scaling": lambda cls: keras.optimizers.LossScaleOptimizer(cls(1e-2)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_trains_like_keras_adam(case):
    expected = _train(CASES[case](keras.optimizers.Adam))
    _assert_same_training(expected, _train(CASES[case](FusedAdam)))


def test_adamw_trains_like_keras_adamw():
    expected = _train(keras.optimizers.AdamW(1e-2, weight_decay=0.05))
    _assert_same_training(expected, _train(FusedAdamW(1e-2, weight_decay=0.05)))


def test_trains_like_keras_adam_under_mirrored_strategy():
    def train(cls):
        with two_cpu_mirrored_strategy().scope():
            return _train(cls(1e-2), epochs=2)

    _assert_same_training(train(keras.optimizers.Adam), train(FusedAdam))


def _update_graph_op_types(optimizer):
    import tensorflow as tf

    model = _model()
    model.compile(optimizer=optimizer, loss="mse")
    optimizer.build(model.trainable_variables)
    step = tf.function(lambda x, y: model.train_step((x, y)))
    graph = step.get_concrete_function(tf.constant(X[:4]), tf.constant(Y[:4])).graph
    return [op.type for op in graph.get_operations()], len(model.trainable_variables)


def test_one_fused_op_per_variable_and_a_smaller_graph():
    fused, n_variables = _update_graph_op_types(FusedAdam(1e-2))
    plain, _ = _update_graph_op_types(keras.optimizers.Adam(1e-2))
    assert fused.count("ResourceApplyAdam") == n_variables == 6
    assert "ResourceApplyAdam" not in plain
    # Keras' update: ~25 ops per variable; the fused one: the op and the
    # step's shared scalars.
    assert len(plain) - len(fused) >= 15 * n_variables


def test_amsgrad_takes_keras_update():
    op_types, _ = _update_graph_op_types(FusedAdam(1e-2, amsgrad=True))
    assert "ResourceApplyAdam" not in op_types
    expected = _train(keras.optimizers.Adam(1e-2, amsgrad=True))
    _assert_same_training(expected, _train(FusedAdam(1e-2, amsgrad=True)))


def test_saved_model_file_restores_the_optimizer(tmp_path):
    model = _model()
    model.compile(optimizer=FusedAdam(1e-2, beta_2=0.99), loss="mse")
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    assert type(loaded.optimizer) is FusedAdam
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        assert a.path == b.path
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a))


def test_checkpoint_of_keras_adam_resumes_in_fused_adam(tmp_path):
    """Same optimizer variables: a run trained with Keras' Adam resumes."""
    model = _model()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    model.save_weights(tmp_path / "adam.weights.h5")
    resumed = _model()
    resumed.compile(optimizer=FusedAdam(1e-2), loss="mse")
    resumed.optimizer.build(resumed.trainable_variables)
    resumed.load_weights(tmp_path / "adam.weights.h5")
    for a, b in zip(model.optimizer.variables, resumed.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(b), np.asarray(a))


_LOAD_SCRIPT = """
import keras_svq, keras
model = keras.saving.load_model({path!r})
print(type(model.optimizer).__name__, int(model.optimizer.iterations))
"""


def test_keras_file_loads_after_import_keras_svq_alone(tmp_path):
    model = _model()
    model.compile(optimizer=FusedAdam(1e-2), loss="mse")
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    script = _LOAD_SCRIPT.format(path=path)
    assert run_on_backend("tensorflow", script) == "FusedAdam 4"


@pytest.mark.parametrize(
    "name,cls",
    [("adam", FusedAdam), ("adamw", FusedAdamW), ("sgd", keras.optimizers.SGD)],
)
def test_registry_uses_the_fused_classes(name, cls):
    assert type(get_optimizer(TrainingConfig(optimizer=name), 1e-3)) is cls


_OTHER_BACKEND_SCRIPT = """
import numpy as np, keras
from keras_svq.optimizers import FusedAdam

def train(cls):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    model = keras.Model(inputs, keras.layers.Dense(3)(inputs))
    model.compile(optimizer=cls(1e-2), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 6)).astype("float32")
    y = rng.standard_normal((8, 3)).astype("float32")
    model.fit(x, y, batch_size=4, epochs=3, verbose=0)
    return model.get_weights()

print(max(float(np.abs(a - b).max())
          for a, b in zip(train(keras.optimizers.Adam), train(FusedAdam))))
"""


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_other_backends_train_like_keras_adam(backend):
    assert float(run_on_backend(backend, _OTHER_BACKEND_SCRIPT)) < 1e-6
