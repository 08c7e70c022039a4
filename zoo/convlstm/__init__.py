"""ConvLSTM (the SVQ paper's and OpenSTL-Lightning's cell)."""

from zoo.convlstm.convlstm_backbone import ConvLSTMBackbone
from zoo.convlstm.convlstm_cell import ConvLSTMCell
from zoo.convlstm.convlstm_stack import ConvLSTMStack
