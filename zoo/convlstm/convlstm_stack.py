"""A stack of ConvLSTM cells."""

import keras

from zoo.convlstm.convlstm_cell import ConvLSTMCell
from zoo.recurrent.recurrent_stack import RecurrentStack


@keras.saving.register_keras_serializable(package="keras_svq")
class ConvLSTMStack(RecurrentStack):
    """One time step of stacked `ConvLSTMCell`s and the readout.

    Args:
        hidden_dims, frame_channels, kernel_size, stride, layer_norm: see
            `RecurrentStack`.
        cell: str. The `ConvLSTMCell` variant, `"svq"` or `"lightning"`.
            Defaults to `"svq"`.
    """

    def __init__(
        self,
        hidden_dims,
        frame_channels,
        kernel_size=5,
        stride=1,
        layer_norm=False,
        cell="svq",
        **kwargs,
    ):
        self.cell = cell
        super().__init__(
            hidden_dims, frame_channels, kernel_size, stride, layer_norm, **kwargs
        )

    def make_cell(self, index):
        return ConvLSTMCell(variant=self.cell, **self.cell_kwargs(index))

    def get_config(self):
        return {**super().get_config(), "cell": self.cell}
