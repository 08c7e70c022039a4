"""PredRNN++ (causal LSTM, gradient highway)."""

from zoo.predrnnpp.causal_lstm_cell import CausalLSTMCell
from zoo.predrnnpp.gradient_highway_unit import GradientHighwayUnit
from zoo.predrnnpp.predrnnpp_backbone import PredRNNppBackbone
from zoo.predrnnpp.predrnnpp_stack import PredRNNppStack
