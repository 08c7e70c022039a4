import json

import keras
import numpy as np
import pytest

from keras_svq.layers import MixMLP
from keras_svq.testing import TestCase
from keras_svq.testing import relative_rms
from keras_svq.testing.backends import run_on_backend
from keras_svq.testing.backends import weight_difference_on_backend
from keras_svq.testing.gradients import traced_gradients


class TestMixMLP(TestCase):
    def test_battery(self):
        self.run_layer_test(
            MixMLP,
            {"hidden_dim": 8, "dropout_rate": 0.1},
            input_shape=(2, 4, 4, 3),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_battery_recomputing_the_hidden_tensors(self):
        # No dropout: training takes the recomputing path.
        self.run_layer_test(
            MixMLP,
            {"hidden_dim": 8},
            input_shape=(2, 4, 4, 3),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_output_dim(self):
        layer = MixMLP(8, output_dim=5)
        y = layer(np.zeros((1, 4, 4, 3), "float32"))
        assert tuple(y.shape) == (1, 4, 4, 5)
        assert tuple(layer.dwconv.kernel.shape) == (3, 3, 8, 1)


def test_int8_quantized_model_keeps_its_function():
    # Keras' post-training quantization turns fc1/fc2 into int8 kernels with
    # scales; the fused GELU + fc2 path must not read fc2's raw integers.
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 16))
    mlp = MixMLP(64)
    model = keras.Model(inputs, mlp(inputs))
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 16)).astype("float32")
    expected = keras.ops.convert_to_numpy(model(x))
    with pytest.warns(UserWarning, match="does not have a `quantize` method"):
        model.quantize("int8")
    assert mlp.fc2.quantization_mode == "int8"
    # int8 rounding (was 139 through the fused path)
    assert relative_rms(model(x), expected) < 0.05


def _model(recompute_hidden):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6, 6, 8))
    mlp = MixMLP(32, recompute_hidden=recompute_hidden)
    return keras.Model(inputs, inputs + mlp(inputs))


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="counts TensorFlow graph ops"
)
def test_recompute_hidden_gives_the_same_gradients_and_recomputes():
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 8)).astype("float32")
    kept, kept_ops = traced_gradients(_model(False), x)
    recomputed, recomputed_ops = traced_gradients(_model(True), x)
    for a, b in zip(kept, recomputed):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)
    # The depthwise conv runs again in the backward pass.
    count = "DepthwiseConv2dNative"
    assert recomputed_ops.count(count) == kept_ops.count(count) + 1


def test_recompute_hidden_round_trips_in_the_config():
    layer = MixMLP(8, recompute_hidden=False)
    assert layer.get_config()["recompute_hidden"] is False
    assert MixMLP.from_config(layer.get_config()).recompute_hidden is False
    assert MixMLP(8).recompute_hidden is True


_PEAK_SCRIPT = """
import os
os.environ["TF_CPU_ALLOCATOR_USE_BFC"] = "true"  # TensorFlow then counts live bytes
import json, keras, numpy as np, tensorflow as tf
from keras_svq.layers import MixMLP

def peak(recompute_hidden):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((16, 16, 64))
    x = inputs
    for _ in range(6):
        x = x + MixMLP(1024, recompute_hidden=recompute_hidden)(x)
    model = keras.Model(inputs, x)
    model.compile(optimizer="sgd", loss="mse")
    data = np.zeros((8, 16, 16, 64), "float32")
    model.train_on_batch(data, data)
    tf.config.experimental.reset_memory_stats("CPU:0")
    model.train_on_batch(data, data)
    return tf.config.experimental.get_memory_info("CPU:0")["peak"] / 2**20

print(json.dumps({"kept": peak(False), "recomputed": peak(True)}))
"""


def test_recompute_hidden_holds_fewer_tensors_in_training():
    """Six blocks, hidden tensors of 8 MiB: the depthwise conv's output (and
    a GELU-sized tensor TensorFlow held when only `gelu_dense` recomputed the
    GELU) no longer wait from the forward pass to the backward pass."""
    peaks = json.loads(run_on_backend("tensorflow", _PEAK_SCRIPT))
    assert peaks["recomputed"] < peaks["kept"] - 3 * 8, peaks


_BUILD_RECOMPUTING = """
from keras_svq.layers import MixMLP

def build(recompute_hidden):
    inputs = keras.Input((6, 6, 8))
    return keras.Model(inputs, MixMLP(32, recompute_hidden=recompute_hidden)(inputs))
"""


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_recompute_hidden_trains_the_same_weights_on_other_backends(backend):
    assert weight_difference_on_backend(backend, _BUILD_RECOMPUTING) < 1e-5
