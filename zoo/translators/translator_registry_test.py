import keras
import numpy as np
import pytest

from zoo.translators import IncepUTranslator
from zoo.translators import MetaTranslator
from zoo.translators import available_translators
from zoo.translators import get_translator
from zoo.translators import register_meta_block
from zoo.translators import translator_registry


def test_builtin_names():
    assert {"gsta", "incepu", "tau"} <= set(available_translators())


def test_get_translator_kinds():
    assert isinstance(
        get_translator("IncepU", hidden_dim=16, num_layers=2), IncepUTranslator
    )
    layer = get_translator("gSTA", hidden_dim=16, num_layers=2, drop_path_rate=0.1)
    assert isinstance(layer, MetaTranslator) and layer.block == "gsta"


def test_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match=r"Valid names: \[.*'gsta'.*'incepu'.*'tau'"):
        get_translator("convlstm", hidden_dim=8, num_layers=2)


def test_register_meta_block():
    def factory(*, input_dim, name, **unused):
        return keras.layers.Dense(input_dim, name=name)

    register_meta_block("test_dense", factory)
    try:
        layer = get_translator("test_dense", hidden_dim=8, num_layers=2)
        y = layer(np.zeros((1, 2, 3, 3, 4), "float32"))
        assert tuple(y.shape) == (1, 2, 3, 3, 4)
        with pytest.raises(ValueError, match="already registered"):
            register_meta_block("test_dense", factory)
    finally:
        translator_registry._META_BLOCKS.pop("test_dense")
