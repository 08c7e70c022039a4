"""PredRNN++'s stack: causal LSTM cells with a gradient highway."""

import keras

from zoo.predrnnpp.causal_lstm_cell import CausalLSTMCell
from zoo.predrnnpp.gradient_highway_unit import GradientHighwayUnit
from zoo.recurrent.recurrent_stack import RecurrentStack


@keras.saving.register_keras_serializable(package="keras_svq")
class PredRNNppStack(RecurrentStack):
    """One time step of PredRNN++: causal LSTMs, a GHU between layers 0 and 1.

    Layer 1 reads the gradient highway's state `z`, updated from layer 0's
    hidden state; the other layers chain as usual, and the spatial memory
    zigzags as in PredRNN. The flat states are the layers' `[h, c]`, the
    memory `m`, then `z`. Needs at least two layers. Arguments as
    `RecurrentStack`.
    """

    shared_memory = True

    def __init__(
        self,
        hidden_dims,
        frame_channels,
        kernel_size=5,
        stride=1,
        layer_norm=False,
        **kwargs,
    ):
        super().__init__(
            hidden_dims, frame_channels, kernel_size, stride, layer_norm, **kwargs
        )
        if self.num_layers < 2:
            raise ValueError(
                "PredRNN++ needs at least 2 layers (the gradient highway sits between "
                f"the first two). Received: hidden_dims={self.hidden_dims}"
            )
        self.gradient_highway = GradientHighwayUnit(
            **{**self.cell_kwargs(0), "name": "gradient_highway"}
        )

    def make_cell(self, index):
        return CausalLSTMCell(**self.cell_kwargs(index))

    def build(self, input_shape):
        super().build(input_shape)
        self.gradient_highway.build(tuple(input_shape[:-1]) + (self.hidden_dims[0],))

    @property
    def state_size(self):
        return super().state_size + [self.hidden_dims[0]]

    def call(self, inputs, states, training=None):
        *states, z = states
        *layer_states, m = states
        x, new_states = inputs, []
        for index, cell in enumerate(self.cells):
            h, c = layer_states[2 * index : 2 * index + 2]
            x, (h, c, m) = cell(x, [h, c, m], training=training)
            new_states += [h, c]
            if index == 0:
                z, _ = self.gradient_highway(x, [z], training=training)
                x = z
        return self.readout(x), new_states + [m, z]

    def torch_modules(self):
        return [
            ("gradient_highway", self.gradient_highway, "module")
        ] + super().torch_modules()
