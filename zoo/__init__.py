"""The keras-svq model zoo: forecasting backbones, translators and presets."""

# Imported eagerly so that `keras.saving.load_model` finds every backbone
# class once `zoo` is imported, and `get_backbone_class` every registered name.
from zoo.backbone import Backbone
from zoo.convlstm.convlstm_backbone import ConvLSTMBackbone
from zoo.e3dlstm.e3dlstm_backbone import E3DLSTMBackbone
from zoo.mau.mau_backbone import MAUBackbone
from zoo.mim.mim_backbone import MIMBackbone
from zoo.openstl_state_dict import load_openstl_state_dict
from zoo.param_count import count_torch_params
from zoo.phydnet.phydnet_backbone import PhyDNetBackbone
from zoo.predrnn.predrnn_backbone import PredRNNBackbone
from zoo.predrnnpp.predrnnpp_backbone import PredRNNppBackbone
from zoo.predrnnv2.predrnnv2_backbone import PredRNNv2Backbone
from zoo.recurrent import ScheduledSamplingModel
from zoo.recurrent import load_recurrent_state_dict
from zoo.recurrent import recurrent_backbones
from zoo.registry import available_backbones
from zoo.registry import get_backbone_class
from zoo.registry import register_backbone
from zoo.simvp.simvp_backbone import SimVPBackbone
from zoo.tiny_backbones import tiny_backbones
from zoo.translators import available_translators
from zoo.translators import get_translator
from zoo.translators import register_meta_block
from zoo.translators import register_translator

__all__ = [
    "Backbone",
    "ConvLSTMBackbone",
    "E3DLSTMBackbone",
    "MAUBackbone",
    "MIMBackbone",
    "PhyDNetBackbone",
    "PredRNNBackbone",
    "PredRNNppBackbone",
    "PredRNNv2Backbone",
    "ScheduledSamplingModel",
    "SimVPBackbone",
    "available_backbones",
    "available_translators",
    "count_torch_params",
    "get_backbone_class",
    "get_translator",
    "load_openstl_state_dict",
    "load_recurrent_state_dict",
    "recurrent_backbones",
    "register_backbone",
    "register_meta_block",
    "register_translator",
    "tiny_backbones",
]
