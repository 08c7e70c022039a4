import keras
import numpy as np

from keras_svq.quantizers import SparseVectorQuantizer
from zoo import count_torch_params


def _model(freeze):
    inputs = keras.Input((4, 4, 3))
    x = keras.layers.Conv2D(8, 3)(inputs)  # 3*3*3*8 + 8 = 224
    x = keras.layers.BatchNormalization()(x)  # gamma + beta = 16; 16 buffers
    x = SparseVectorQuantizer(codebook_size=10, hidden_dim=4, freeze_codebook=freeze)(x)
    # SVQ: 8*4 + 4 + 4*10 + 10 + codebook 10*8 = 166
    return keras.Model(inputs, x)


def test_counts_like_torch():
    model = _model(freeze=False)
    assert count_torch_params(model) == 224 + 16 + 166
    assert model.count_params() == 224 + 16 + 166 + 16  # BN moving statistics


def test_frozen_codebook_is_a_parameter_but_not_trainable():
    model = _model(freeze=True)
    assert count_torch_params(model) == 224 + 16 + 166
    assert count_torch_params(model, trainable_only=True) == 224 + 16 + 166 - 80


def test_declared_buffers_are_excluded():
    layer = keras.layers.Dense(2)
    layer.build((None, 3))
    layer.torch_buffer_variables = [layer.bias]
    assert count_torch_params(layer) == 6
    assert np.isfinite(count_torch_params(layer, trainable_only=True))
