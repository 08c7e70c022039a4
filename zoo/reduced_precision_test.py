"""Every zoo backbone serves in reduced precision: a bfloat16 copy, int8 weights.

`keras_svq.export.precision.with_compute_dtype` rebuilds a backbone with
`dtype="bfloat16"`; a block that did not receive the policy (as the
MetaFormer blocks once did not) would silently stay float32. Keras'
post-training `model.quantize("int8")` turns Dense kernels into integers and
scales; a layer that reads a kernel itself (as `MixMLP`'s fused GELU once
did) would compute garbage, and a never-built layer (E3D-LSTM's once
replaced readout) stopped it.
"""

import warnings

import keras
import numpy as np
import pytest

from keras_svq.export.precision import with_compute_dtype
from keras_svq.testing import relative_rms
from zoo import tiny_backbones

CASES = tiny_backbones()


@pytest.mark.parametrize("name", sorted(CASES))
def test_bfloat16_copy_computes_in_bfloat16(name):
    factory, _ = CASES[name]
    keras.utils.set_random_seed(0)
    model = factory()
    copy = with_compute_dtype(model, "bfloat16")
    stale = sorted(
        f"{type(layer).__name__} {layer.name!r}: {layer.compute_dtype}"
        for layer in copy._flatten_layers(include_self=False)
        if layer.weights and layer.compute_dtype != "bfloat16"
    )
    assert not stale, stale
    x = np.random.default_rng(0).standard_normal((2,) + tuple(model.input_shape[1:]))
    y = copy(x.astype("float32"), training=False)
    assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
    y32 = model(x.astype("float32"), training=False)
    assert 0 < relative_rms(y, y32) < 0.05


@pytest.mark.parametrize("name", sorted(CASES))
def test_int8_quantization_keeps_the_function(name):
    factory, _ = CASES[name]
    keras.utils.set_random_seed(0)
    model = factory()
    x = np.random.default_rng(0).standard_normal((2,) + tuple(model.input_shape[1:]))
    x = x.astype("float32")
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    with warnings.catch_warnings():  # layers without a `quantize` method
        warnings.simplefilter("ignore", UserWarning)
        model.quantize("int8")
    assert relative_rms(model(x, training=False), expected) < 0.05
