"""Recurrent baselines (the PredRNN family, MAU, PhyDNet) and their shared machinery.

Every backbone maps `(B, T_in, H, W, C) -> (B, T_out, H, W, C)`: a
`RecurrentPredictor` unrolls a `RecurrentStack` (one time step of the cells,
each following the Keras cell contract) over `T_in + T_out - 1` steps on
patched frames. `ScheduledSamplingModel` trains any of them with (reverse)
scheduled sampling inside `fit`; `load_recurrent_state_dict` loads official
OpenSTL checkpoints.

The backbones live in their own folders (`zoo/convlstm`, `zoo/predrnn`, ...),
which import the machinery of this package; they are exported here lazily so
that importing the machinery does not import every model.
"""

import importlib

from zoo.recurrent.gate_conv import GateConv
from zoo.recurrent.patch_reshape import reshape_patch
from zoo.recurrent.patch_reshape import reshape_patch_back
from zoo.recurrent.recurrent_backbone import RecurrentBackbone
from zoo.recurrent.recurrent_cell import RecurrentCell
from zoo.recurrent.recurrent_predictor import RecurrentPredictor
from zoo.recurrent.recurrent_stack import RecurrentStack
from zoo.recurrent.recurrent_state_dict import load_recurrent_state_dict
from zoo.recurrent.scheduled_sampling_model import ScheduledSamplingModel
from zoo.recurrent.torch_conv2d import TorchConv2D
from zoo.recurrent.torch_conv_transpose2d import TorchConvTranspose2D

_BACKBONES = {
    "ConvLSTMBackbone": "zoo.convlstm.convlstm_backbone",
    "PredRNNBackbone": "zoo.predrnn.predrnn_backbone",
    "PredRNNppBackbone": "zoo.predrnnpp.predrnnpp_backbone",
    "PredRNNv2Backbone": "zoo.predrnnv2.predrnnv2_backbone",
    "MIMBackbone": "zoo.mim.mim_backbone",
    "MAUBackbone": "zoo.mau.mau_backbone",
    "E3DLSTMBackbone": "zoo.e3dlstm.e3dlstm_backbone",
    "PhyDNetBackbone": "zoo.phydnet.phydnet_backbone",
}

__all__ = [
    "GateConv",
    "RecurrentBackbone",
    "RecurrentCell",
    "RecurrentPredictor",
    "RecurrentStack",
    "ScheduledSamplingModel",
    "TorchConv2D",
    "TorchConvTranspose2D",
    "load_recurrent_state_dict",
    "recurrent_backbones",
    "reshape_patch",
    "reshape_patch_back",
    *_BACKBONES,
]


def recurrent_backbones():
    """The backbone classes whose checkpoints `load_recurrent_state_dict` reads."""
    return tuple(__getattr__(name) for name in _BACKBONES)


def __getattr__(name):
    if name in _BACKBONES:
        return getattr(importlib.import_module(_BACKBONES[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_BACKBONES))
