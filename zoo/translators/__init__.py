"""SimVP translators, chosen by name through a registry."""

from zoo.translators.gsta_block import GatedSpatialAttention
from zoo.translators.gsta_block import GSTABlock
from zoo.translators.incepu_block import IncepUBlock
from zoo.translators.incepu_translator import IncepUTranslator
from zoo.translators.meta_translator import MetaTranslator
from zoo.translators.meta_translator import stochastic_depth_schedule
from zoo.translators.metaformer_block import MetaFormerBlock
from zoo.translators.tau_block import TAUBlock
from zoo.translators.tau_block import TemporalAttention
from zoo.translators.translator_registry import available_translators
from zoo.translators.translator_registry import get_translator
from zoo.translators.translator_registry import register_meta_block
from zoo.translators.translator_registry import register_translator

__all__ = [
    "GSTABlock",
    "GatedSpatialAttention",
    "IncepUBlock",
    "IncepUTranslator",
    "MetaFormerBlock",
    "MetaTranslator",
    "TAUBlock",
    "TemporalAttention",
    "available_translators",
    "get_translator",
    "register_meta_block",
    "register_translator",
    "stochastic_depth_schedule",
]
