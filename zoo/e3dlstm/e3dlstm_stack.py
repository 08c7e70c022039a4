"""E3D-LSTM's stack: eidetic 3D LSTMs over sliding 2-frame windows."""

import keras
from keras import ops

from keras_svq.initializers import TorchUniform
from zoo.e3dlstm.eidetic_3d_lstm_cell import Eidetic3DLSTMCell
from zoo.e3dlstm.eidetic_3d_lstm_cell import flatten_raw
from zoo.recurrent.recurrent_stack import RecurrentStack


@keras.saving.register_keras_serializable(package="keras_svq")
class E3DLSTMStack(RecurrentStack):
    """One time step of E3D-LSTM.

    The stack feeds its cells the window `[previous input, input]` (zeros
    before the first frame), keeps every layer's history of cell states for
    the eidetic attention (it grows by one map per step), and reads the next
    frame out with a `(window_length, 1, 1)` conv of stride `window_length`
    (`conv_last`, no bias). States: the previous input, each layer's
    `[h, c, history]`, then the global memory.

    The window is 2 frames with stride 1, as in the reference. Arguments as
    `RecurrentStack` (all `hidden_dims` equal).
    """

    shared_memory = True
    window_length = 2

    def make_readout(self):
        """A bias-free Conv3D over the window's frames (`conv_last`)."""
        window_length = self.window_length
        fan_in = self.hidden_dims[-1] * window_length
        return keras.layers.Conv3D(
            self.frame_channels,
            (window_length, 1, 1),
            strides=(window_length, 1, 1),
            use_bias=False,
            kernel_initializer=TorchUniform(),
            bias_initializer=TorchUniform(fan_in=fan_in),
            dtype=self.dtype_policy,
            name="conv_last",
        )

    def make_cell(self, index):
        return Eidetic3DLSTMCell(
            window_length=self.window_length, **self.cell_kwargs(index)
        )

    def window_shape(self, channels):
        return (None, self.window_length) + tuple(self.frame_size) + (channels,)

    def build(self, input_shape):
        self.frame_size = tuple(input_shape[1:3])
        shape = self.window_shape(input_shape[-1])
        for cell in self.cells:
            cell.build(shape)
            shape = self.window_shape(cell.hidden_dim)
        self.readout.build(shape)

    def get_initial_state(self, batch_size):
        height, width = self.frame_size
        dtype = self.compute_dtype

        def zeros(*shape):
            return ops.zeros((batch_size,) + shape, dtype=dtype)

        states = [zeros(height, width, self.frame_channels)]
        for dim in self.hidden_dims:
            window = (self.window_length, height, width, dim)
            states += [zeros(*window), zeros(*window), zeros(0, dim)]
        return states + [zeros(self.window_length, height, width, self.hidden_dims[0])]

    def call(self, inputs, states, training=None):
        previous, *layer_states, m = states
        x = ops.stack([previous, inputs], axis=1)
        new_states = [inputs]
        for index, cell in enumerate(self.cells):
            h, c, history = layer_states[3 * index : 3 * index + 3]
            history = ops.concatenate([history, flatten_raw(c)], axis=1)
            x, (h, c, m) = cell(x, [h, c, m, history], training=training)
            new_states += [h, c, history]
        frame = ops.squeeze(self.readout(x), axis=1)
        return frame, new_states + [m]

    def torch_modules(self):
        modules = [
            (f"cell_list.{i}", cell, "module") for i, cell in enumerate(self.cells)
        ]
        return modules + [("conv_last", self.readout, "conv3d")]
