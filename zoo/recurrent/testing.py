"""Helpers shared by the recurrent backbones' tests."""

import json

import keras
import numpy as np

from keras_svq.testing import reference_path
from zoo.param_count import count_torch_params

TINY = {
    "input_length": 4,
    "output_length": 4,
    "height": 16,
    "width": 16,
    "channels": 1,
    "hidden_dims": [8, 8],
    "kernel_size": 3,
    "patch_size": 2,
}
TINY_SHAPE = (2, 4, 16, 16, 1)
# MAU never patches its frames (it downsamples instead); PhyDNet's last
# ConvLSTM width must be 64.
TINY_MAU = {
    **{k: v for k, v in TINY.items() if k != "patch_size"},
    "attention_length": 2,
}
TINY_PHYDNET = {
    **{k: v for k, v in TINY.items() if k not in ("kernel_size", "patch_size")},
    "hidden_dims": [16, 64],
}


def t2m_reference(model_name):
    """The official code's `weather_t2m_5_625/<model_name>` entry of param_counts.json."""
    with open(reference_path("param_counts.json")) as f:
        return json.load(f)[f"weather_t2m_5_625/{model_name}"]


def symbolic_param_count(cls, **kwargs):
    """Builds the backbone (the functional graph is traced symbolically, no data)."""
    model = cls(**kwargs)
    count = count_torch_params(model)
    keras.backend.clear_session()
    return count


def load_fixture(name):
    """`(state_dict, data, meta)` of a recurrent fixture; arrays in torch layouts."""
    data = np.load(reference_path(name))
    meta = json.loads(str(data["meta:json"]))
    state_dict = {k: data[k] for k in meta["state_keys"]}
    return state_dict, data, meta


def nchw_to_nhwc(x):
    return np.asarray(x).transpose(0, 1, 3, 4, 2)


def check_preset_param_counts(cls, names=None):
    """Builds presets of `cls` and checks their counts against the reference.

    The expected count is the `total_params` of the preset's `reference` entry
    in `param_counts.json` (the official model's count).
    """
    with open(reference_path("param_counts.json")) as f:
        reference = json.load(f)
    names = names or cls.list_presets()
    assert names
    for name in names:
        preset = cls.get_preset(name)
        count = symbolic_param_count(cls, **preset["model"])
        expected = reference[preset["reference"]]["total_params"]
        assert count == expected, (name, count, expected)
