"""PredRNN v2 (memory decoupling, reverse scheduled sampling)."""

from zoo.predrnnv2.predrnnv2_backbone import PredRNNv2Backbone
from zoo.predrnnv2.predrnnv2_stack import PredRNNv2Stack
