"""MIM's memory-in-memory block."""

import keras
from keras import ops

from zoo.mim.mimn_cell import MIMNCell
from zoo.recurrent.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="keras_svq")
class MIMBlock(RecurrentCell):
    """The MIM block: an ST-LSTM whose forget path is a stationary MIM cell.

    Gate order: `conv_x_cc(x)` gives `i, g, f, o`; `conv_t_cc(h)` gives
    `i, g, o`; `conv_s_cc(m)` gives `i, g, f, o`. The spatio-temporal memory
    is `m' = σ(f_x + f_s + 1)·m + σ(i_x + i_s)·tanh(g_x + g_s)`. The temporal
    memory replaces the forget gate by a `MIMNCell` (the reference's `MIMS`)
    that reads the difference features `d` from the MIM-N layer below, with
    state `(c, n)`: `c' = MIMS(d; c, n) + σ(i_x + i_t)·tanh(g_x + g_t)`, and
    `h' = σ(o_x + o_t + o_s)·tanh(conv_last([c', m']))`. As in the reference,
    the inner cell state `n` is carried without gradient between steps;
    unlike the reference, which keeps it on the module across batches, it
    starts from zero for every sequence.

    Args:
        hidden_dim, kernel_size, stride, layer_norm: see `RecurrentCell`.

    Call arguments:
        inputs: `[x, d]`, each `(B, H, W, hidden_dim)`.
        states: `[h, c, n, m]`.

    Returns:
        `(h', [h', c', n', m'])`.

    Reference:
        Wang et al., "Memory In Memory: A Predictive Neural Network for
        Learning Higher-Order Non-Stationarity from Spatiotemporal Dynamics",
        https://arxiv.org/abs/1811.07490
    """

    num_shared_states = 1

    def __init__(self, hidden_dim, kernel_size=5, stride=1, layer_norm=False, **kwargs):
        super().__init__(hidden_dim, kernel_size, stride, layer_norm, **kwargs)
        self.conv_t_cc = self.gate_conv("conv_t_cc", 3)
        self.conv_s_cc = self.gate_conv("conv_s_cc", 4)
        self.conv_x_cc = self.gate_conv("conv_x_cc", 4)
        self.conv_last = self.pointwise_conv("conv_last", hidden_dim)
        self.mims = MIMNCell(
            hidden_dim,
            kernel_size,
            stride,
            layer_norm,
            dtype=self.dtype_policy,
            name="mims",
        )

    @property
    def state_size(self):
        return [self.hidden_dim] * 4

    def build(self, input_shape, states_shape=None):
        if isinstance(input_shape, (list, tuple)) and isinstance(
            input_shape[0], (list, tuple)
        ):
            input_shape = input_shape[0]
        hidden = self.with_channels(input_shape, self.hidden_dim)
        self.conv_t_cc.build(hidden)
        self.conv_s_cc.build(hidden)
        self.conv_x_cc.build(input_shape)
        self.conv_last.build(self.with_channels(input_shape, 2 * self.hidden_dim))
        self.mims.build(hidden)

    def torch_modules(self):
        # MIMS' parameters sit directly on the block in the reference.
        return super().torch_modules() + self.mims.torch_modules()

    def call(self, inputs, states, training=None):
        x, difference = inputs
        h, c, n, m = states
        i_t, g_t, o_t = self.split_gates(self.conv_t_cc(h), 3)
        i_s, g_s, f_s, o_s = self.split_gates(self.conv_s_cc(m), 4)
        i_x, g_x, f_x, o_x = self.split_gates(self.conv_x_cc(x), 4)

        m_new = ops.sigmoid(f_x + f_s + 1.0) * m + ops.sigmoid(i_x + i_s) * ops.tanh(
            g_x + g_s
        )
        c_stationary, (_, n_new) = self.mims(
            difference, [c, ops.stop_gradient(n)], training=training
        )
        c_new = c_stationary + ops.sigmoid(i_x + i_t) * ops.tanh(g_x + g_t)
        o = ops.sigmoid(o_x + o_t + o_s)
        h_new = o * ops.tanh(self.conv_last(ops.concatenate([c_new, m_new], axis=-1)))
        return h_new, [h_new, c_new, n_new, m_new]

    def compute_output_shape(self, input_shape, states_shape=None):
        return self.with_channels(input_shape[0], self.hidden_dim)
