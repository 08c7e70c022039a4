import keras
import numpy as np
import pytest

from keras_svq.layers import MLP
from keras_svq.layers import MixMLP
from keras_svq.layers.remat import check_remat_layers
from keras_svq.layers.remat import remat_scope
from keras_svq.testing.backends import weight_difference_on_backend
from keras_svq.testing.gradients import traced_gradients

X = np.random.default_rng(0).standard_normal((2, 8, 8, 16)).astype("float32")


def _model(layer_names, layer_class=MixMLP, second=False, **kwargs):
    keras.utils.set_random_seed(0)
    with remat_scope(layer_names):
        inputs = keras.Input((8, 8, 16))
        hidden = layer_class(64, name="mlp", **kwargs)(inputs)
        if second:
            hidden = layer_class(64, name="other")(hidden)
        return keras.Model(inputs, keras.layers.Dense(4, name="head")(hidden))


def _gradients(model):
    gradients, op_types = traced_gradients(model, X)
    return gradients, sum(t in ("MatMul", "BatchMatMulV2") for t in op_types)


@pytest.mark.parametrize("layer_class", [MixMLP, MLP])
def test_rematerialised_layer_trains_to_the_same_gradients(layer_class):
    plain, plain_matmuls = _gradients(_model(None, layer_class))
    remat, remat_matmuls = _gradients(_model(["mlp"], layer_class))
    for a, b in zip(plain, remat):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # The recomputation is in the graph: fc1 and fc2 run again in the backward pass.
    assert remat_matmuls >= plain_matmuls + 2


def test_layer_outside_the_list_is_not_rematerialised():
    _, plain_matmuls = _gradients(_model(None, second=True))
    _, one_matmuls = _gradients(_model(["other"], second=True))
    _, both_matmuls = _gradients(_model(["mlp", "other"], second=True))
    # The recomputed MixMLP runs fc1 and fc2 again; the first one, when
    # listed too, adds its own (and the gradient to its input, which
    # tf.recompute_grad always computes).
    assert one_matmuls == plain_matmuls + 2
    assert both_matmuls >= one_matmuls + 2


def test_dropout_under_remat_is_refused():
    model = _model(["mlp"], dropout_rate=0.1)
    with pytest.raises(ValueError, match="dropout_rate=0.1: .*different dropout mask"):
        model(X, training=True)
    # Inference draws no mask: allowed.
    assert tuple(model(X, training=False).shape) == (2, 8, 8, 4)


def test_unknown_remat_layer_is_named():
    model = _model(None)
    check_remat_layers(model, ["mlp"])
    with pytest.raises(ValueError, match="'mpl'.*Layer names: dropout, dwconv, fc1"):
        check_remat_layers(model, ["mpl"])


def test_layer_tensorflow_cannot_recompute_is_refused_before_training():
    # Dense takes `training`: tf.recompute_grad would fail inside the step.
    with pytest.raises(ValueError, match="'head' \\(Dense\\) cannot be recomputed"):
        check_remat_layers(_model(None), ["mlp", "head"])


_BUILD_WITH_REMAT = """
from keras_svq.layers import MixMLP

def build(remat):
    names = ["mlp"] if remat else []
    with keras.RematScope(mode="list_of_layers" if remat else None, layer_names=names):
        inputs = keras.Input((8, 8, 16))
        outputs = keras.layers.Dense(4)(MixMLP(64, name="mlp")(inputs))
        return keras.Model(inputs, outputs)
"""


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_remat_trains_the_same_weights_on_other_backends(backend):
    assert weight_difference_on_backend(backend, _BUILD_WITH_REMAT) < 1e-5
