import json

import keras
import numpy as np
import pytest

from keras_svq import runtime
from keras_svq.data.normalizer import Normalizer
from keras_svq.export import export_saved_model
from keras_svq.export.precision import with_compute_dtype
from keras_svq.testing import relative_rms
from keras_svq.testing import tiny_simvp


def _frames(n=2, seed=0):
    return (
        np.random.default_rng(seed).standard_normal((n, 4, 16, 16, 1)).astype("float32")
    )


@pytest.fixture(scope="module")
def simvp_svq():
    keras.utils.set_random_seed(3)
    return tiny_simvp(svq=True)


def test_bfloat16_copy_of_a_backbone(simvp_svq):
    copy = with_compute_dtype(simvp_svq, "bfloat16")
    assert type(copy) is type(simvp_svq) and copy is not simvp_svq
    assert copy.dtype_policy.name == "bfloat16"
    layers = [
        layer for layer in copy._flatten_layers(include_self=False) if layer.weights
    ]
    assert layers and all(layer.compute_dtype == "bfloat16" for layer in layers), (
        sorted({(type(layer).__name__, layer.compute_dtype) for layer in layers})
    )
    # The weights, rounded once to bfloat16; the quantizer keeps float32 ones.
    for src, dst in zip(simvp_svq.weights, copy.weights):
        expected = keras.ops.convert_to_numpy(keras.ops.cast(src, dst.dtype))
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(dst), expected)
    assert {w.dtype for w in copy.quantizer.weights} == {"float32"}
    assert "bfloat16" in {w.dtype for w in copy.encoder.weights}
    x = _frames()
    y32 = keras.ops.convert_to_numpy(simvp_svq(x, training=False))
    y16 = keras.ops.convert_to_numpy(keras.ops.cast(copy(x, training=False), "float32"))
    # It really computes in bfloat16 (results differ), and stays close.
    assert not np.array_equal(y16, y32)
    assert relative_rms(y16, y32) < 0.03


def test_same_dtype_returns_the_model(simvp_svq):
    assert with_compute_dtype(simvp_svq, "float32") is simvp_svq


def test_functional_and_sequential_models():
    inputs = keras.Input((4, 4, 3))
    hidden = keras.layers.Conv2D(5, 3, padding="same")(inputs)
    functional = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    sequential = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4)])
    for model, x in (
        (functional, _frames()[:, 0, :4, :4].repeat(3, axis=-1)),
        (sequential, np.ones((2, 3), "float32")),
    ):
        copy = with_compute_dtype(model, "bfloat16")
        assert {layer.compute_dtype for layer in copy.layers[-1:]} == {"bfloat16"}
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(keras.ops.cast(copy(x), "float32")),
            keras.ops.convert_to_numpy(model(x)),
            rtol=0.05,
            atol=0.05,
        )


def test_refusals_name_the_fix(simvp_svq):
    with pytest.raises(ValueError, match="'float16'.*float32, bfloat16"):
        with_compute_dtype(simvp_svq, "float16")

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    model = Subclassed()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(TypeError, match="build it with dtype='bfloat16'"):
        with_compute_dtype(model, "bfloat16")


def test_compiled_predictor_in_bfloat16_returns_float32(simvp_svq):
    x = _frames()
    predict = runtime.compiled_predictor(simvp_svq, compute_dtype="bfloat16")
    y = predict(x)
    assert y.dtype == "float32"
    y32 = keras.ops.convert_to_numpy(simvp_svq(x, training=False))
    assert 0 < relative_rms(y.numpy(), y32) < 0.03


def test_saved_model_in_bfloat16(simvp_svq, tmp_path):
    import tensorflow as tf

    x = _frames(3, seed=1) * 5.0 + 280.0
    norm = Normalizer(280.0, 5.0)
    outputs = {}
    for dtype in ("float32", "bfloat16"):
        folder = tmp_path / dtype
        export_saved_model(simvp_svq, folder, normalizer=norm, compute_dtype=dtype)
        document = json.loads((folder / "signature.json").read_text())
        assert document["compute_dtype"] == dtype
        serve = tf.saved_model.load(str(folder)).signatures["serving_default"]
        outputs[dtype] = serve(inputs=tf.constant(x))["output_0"]
        assert outputs[dtype].dtype == tf.float32
    # Kelvin in and out; bfloat16 carries about 3 significant digits inside.
    difference = np.abs(outputs["bfloat16"].numpy() - outputs["float32"].numpy())
    assert 0 < difference.max() < 2.0 and difference.mean() < 0.2
    with pytest.raises(ValueError, match="choose one of float32, bfloat16"):
        export_saved_model(
            simvp_svq, tmp_path / "x", normalizer=norm, compute_dtype="int8"
        )
    assert not (tmp_path / "x").exists()
