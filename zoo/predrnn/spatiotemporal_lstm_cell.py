"""PredRNN's spatio-temporal LSTM (ST-LSTM) cell."""

import keras
from keras import ops

from zoo.recurrent.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="keras_svq")
class SpatioTemporalLSTMCell(RecurrentCell):
    """ST-LSTM: a ConvLSTM with a second, spatio-temporal memory `m`.

    Gate order (channel splits): `conv_x(x)` gives `i, f, g, i', f', g', o`,
    `conv_h(h)` gives `i, f, g, o`, `conv_m(m)` gives `i', f', g'`. Both
    forget gates add a bias of 1. Then

    * `c' = σ(f_x + f_h + 1)·c + σ(i_x + i_h)·tanh(g_x + g_h)`,
    * `m' = σ(f'_x + f_m + 1)·m + σ(i'_x + i_m)·tanh(g'_x + g_m)`,
    * `h' = σ(o_x + o_h + conv_o([c', m']))·tanh(conv_last([c', m']))`.

    The memory `m` is the cell's shared state (`num_shared_states = 1`): a
    `RecurrentStack` passes it up the layers and back to the bottom layer.

    Args:
        hidden_dim, kernel_size, stride, layer_norm: see `RecurrentCell`.
        return_increments: bool. Also return the memory increments
            `Δc = σ(i)·tanh(g)` and `Δm = σ(i')·tanh(g')` that PredRNN v2's
            decoupling loss compares. Defaults to False.

    Call arguments:
        inputs: `(B, H, W, C_in)`.
        states: `[h, c, m]`, each `(B, H, W, hidden_dim)`.

    Returns:
        `(h', [h', c', m'])`, or `([h', Δc, Δm], [h', c', m'])` with
        `return_increments=True`.

    Reference:
        Wang et al., "PredRNN: Recurrent Neural Networks for Predictive
        Learning using Spatiotemporal LSTMs", NeurIPS 2017;
        https://arxiv.org/abs/2103.09504
    """

    num_shared_states = 1

    def __init__(
        self,
        hidden_dim,
        kernel_size=5,
        stride=1,
        layer_norm=False,
        return_increments=False,
        **kwargs,
    ):
        super().__init__(hidden_dim, kernel_size, stride, layer_norm, **kwargs)
        self.return_increments = bool(return_increments)
        self.conv_x = self.gate_conv("conv_x", 7)
        self.conv_h = self.gate_conv("conv_h", 4)
        self.conv_m = self.gate_conv("conv_m", 3)
        self.conv_o = self.gate_conv("conv_o", 1)
        self.conv_last = self.pointwise_conv("conv_last", hidden_dim)

    @property
    def state_size(self):
        return [self.hidden_dim] * 3

    def build(self, input_shape, states_shape=None):
        hidden = self.with_channels(input_shape, self.hidden_dim)
        memory = self.with_channels(input_shape, 2 * self.hidden_dim)
        self.conv_x.build(input_shape)
        self.conv_h.build(hidden)
        self.conv_m.build(hidden)
        self.conv_o.build(memory)
        self.conv_last.build(memory)

    def call(self, inputs, states, training=None):
        h, c, m = states
        i_x, f_x, g_x, i_xm, f_xm, g_xm, o_x = self.split_gates(self.conv_x(inputs), 7)
        i_h, f_h, g_h, o_h = self.split_gates(self.conv_h(h), 4)
        i_m, f_m, g_m = self.split_gates(self.conv_m(m), 3)

        delta_c = ops.sigmoid(i_x + i_h) * ops.tanh(g_x + g_h)
        c_new = ops.sigmoid(f_x + f_h + 1.0) * c + delta_c
        delta_m = ops.sigmoid(i_xm + i_m) * ops.tanh(g_xm + g_m)
        m_new = ops.sigmoid(f_xm + f_m + 1.0) * m + delta_m

        memory = ops.concatenate([c_new, m_new], axis=-1)
        o = ops.sigmoid(o_x + o_h + self.conv_o(memory))
        h_new = o * ops.tanh(self.conv_last(memory))
        output = [h_new, delta_c, delta_m] if self.return_increments else h_new
        return output, [h_new, c_new, m_new]

    def get_config(self):
        return {**super().get_config(), "return_increments": self.return_increments}
