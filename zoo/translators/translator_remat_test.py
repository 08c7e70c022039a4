"""Every MetaFormer translator trains under `training.remat_layers: [attn, mlp]`."""

import keras
import numpy as np
import pytest

from keras_svq.layers.remat import check_remat_layers
from keras_svq.layers.remat import remat_scope
from keras_svq.testing.gradients import traced_gradients
from zoo import tiny_backbones

TRANSLATORS = ["gsta", "tau", "vit", "swin", "uniformer", "moganet", "convnext"]


def _gradients(translator, layer_names):
    factory, _ = tiny_backbones()[f"simvp_{translator}"]
    keras.utils.set_random_seed(0)
    with remat_scope(layer_names):
        model = factory()
    present = {layer.name for layer in model._flatten_layers(include_self=False)}
    names = [name for name in layer_names or [] if name in present]
    check_remat_layers(model, names)
    x = np.random.default_rng(0).standard_normal((2,) + tuple(model.input_shape[1:]))
    gradients, op_types = traced_gradients(model, x)
    return gradients, len(op_types)


@pytest.mark.parametrize("translator", TRANSLATORS)
def test_translator_recomputes_attn_and_mlp_to_the_same_gradients(translator):
    plain, plain_ops = _gradients(translator, None)
    remat, remat_ops = _gradients(translator, ["attn", "mlp"])
    assert len(plain) == len(remat)
    for a, b in zip(plain, remat):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)
    assert remat_ops > plain_ops  # the recomputation is in the graph
