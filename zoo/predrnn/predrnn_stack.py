"""A stack of ST-LSTM cells with PredRNN's zigzag memory flow."""

import keras

from zoo.predrnn.spatiotemporal_lstm_cell import SpatioTemporalLSTMCell
from zoo.recurrent.recurrent_stack import RecurrentStack


@keras.saving.register_keras_serializable(package="keras_svq")
class PredRNNStack(RecurrentStack):
    """One time step of stacked `SpatioTemporalLSTMCell`s and the readout.

    The spatio-temporal memory flows up the layers within a step and from the
    top layer to the bottom one at the next step (handled by `RecurrentStack`
    for cells with a shared state). Arguments as `RecurrentStack`.
    """

    shared_memory = True

    def make_cell(self, index):
        return SpatioTemporalLSTMCell(**self.cell_kwargs(index))
