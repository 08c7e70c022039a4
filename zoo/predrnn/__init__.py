"""PredRNN."""

from zoo.predrnn.predrnn_backbone import PredRNNBackbone
from zoo.predrnn.predrnn_stack import PredRNNStack
from zoo.predrnn.spatiotemporal_lstm_cell import SpatioTemporalLSTMCell
