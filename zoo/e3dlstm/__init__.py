"""E3D-LSTM (eidetic 3D LSTM)."""

from zoo.e3dlstm.e3dlstm_backbone import E3DLSTMBackbone
from zoo.e3dlstm.e3dlstm_stack import E3DLSTMStack
from zoo.e3dlstm.eidetic_3d_lstm_cell import Eidetic3DLSTMCell
from zoo.e3dlstm.window_conv3d import WindowConv3D
