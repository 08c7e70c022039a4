"""PredRNN++'s causal LSTM cell."""

import keras
from keras import ops

from zoo.recurrent.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="keras_svq")
class CausalLSTMCell(RecurrentCell):
    """Causal LSTM: the temporal and spatial memories updated in cascade.

    Gate order: `conv_x(x)` gives `i, f, g, i', f', g', o`; `conv_h(h)` gives
    `i, f, g, o`; `conv_c` and `conv_m` (both read `m`, as in the official
    code) give `i, f, g` and `i', f', m_m`; `conv_c2m(c')` gives
    `i', g', f', o` (in that order). Then

    * `c' = σ(f_x + f_h + f_c + 1)·c + σ(i_x + i_h + i_c)·tanh(g_x + g_h + g_c)`,
    * `m' = σ(f'_x + f_m + f'_c + 1)·tanh(m_m) + σ(i'_x + i_m + i'_c)·tanh(g'_x + g'_c)`,
    * `h' = tanh(o_x + o_h + o_c + conv_om(m'))·tanh(conv_last([c', m']))`.

    `conv_o` exists in the reference but is never used; it is kept, frozen,
    for checkpoints and parameter counts. `m` is the stack's shared state.

    Args:
        hidden_dim, kernel_size, stride, layer_norm: see `RecurrentCell`.

    Call arguments:
        inputs: `(B, H, W, C_in)`.
        states: `[h, c, m]`.

    Returns:
        `(h', [h', c', m'])`.

    Reference:
        Wang et al., "PredRNN++: Towards A Resolution of the Deep-in-Time
        Dilemma in Spatiotemporal Predictive Learning",
        https://arxiv.org/abs/1804.06300
    """

    num_shared_states = 1

    def __init__(self, hidden_dim, kernel_size=5, stride=1, layer_norm=False, **kwargs):
        super().__init__(hidden_dim, kernel_size, stride, layer_norm, **kwargs)
        self.conv_x = self.gate_conv("conv_x", 7)
        self.conv_h = self.gate_conv("conv_h", 4)
        self.conv_c = self.gate_conv("conv_c", 3)
        self.conv_m = self.gate_conv("conv_m", 3)
        self.conv_o = self.gate_conv("conv_o", 1)
        self.conv_o.trainable = False
        self.conv_c2m = self.gate_conv("conv_c2m", 4)
        self.conv_om = self.gate_conv("conv_om", 1)
        self.conv_last = self.pointwise_conv("conv_last", hidden_dim)

    @property
    def state_size(self):
        return [self.hidden_dim] * 3

    def build(self, input_shape, states_shape=None):
        hidden = self.with_channels(input_shape, self.hidden_dim)
        memory = self.with_channels(input_shape, 2 * self.hidden_dim)
        self.conv_x.build(input_shape)
        for conv in (
            self.conv_h,
            self.conv_c,
            self.conv_m,
            self.conv_c2m,
            self.conv_om,
        ):
            conv.build(hidden)
        self.conv_o.build(memory)
        self.conv_last.build(memory)

    def call(self, inputs, states, training=None):
        h, c, m = states
        i_x, f_x, g_x, i_xm, f_xm, g_xm, o_x = self.split_gates(self.conv_x(inputs), 7)
        i_h, f_h, g_h, o_h = self.split_gates(self.conv_h(h), 4)
        i_c, f_c, g_c = self.split_gates(self.conv_c(m), 3)
        i_m, f_m, m_m = self.split_gates(self.conv_m(m), 3)

        i = ops.sigmoid(i_x + i_h + i_c)
        f = ops.sigmoid(f_x + f_h + f_c + 1.0)
        g = ops.tanh(g_x + g_h + g_c)
        c_new = f * c + i * g

        i_cm, g_cm, f_cm, o_c = self.split_gates(self.conv_c2m(c_new), 4)
        i_new = ops.sigmoid(i_xm + i_m + i_cm)
        f_new = ops.sigmoid(f_xm + f_m + f_cm + 1.0)
        g_new = ops.tanh(g_xm + g_cm)
        m_new = f_new * ops.tanh(m_m) + i_new * g_new

        o = ops.tanh(o_x + o_h + o_c + self.conv_om(m_new))
        memory = ops.concatenate([c_new, m_new], axis=-1)
        h_new = o * ops.tanh(self.conv_last(memory))
        return h_new, [h_new, c_new, m_new]
