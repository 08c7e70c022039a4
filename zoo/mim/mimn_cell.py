"""MIM's non-stationary (MIM-N) cell."""

import keras
from keras import ops

from zoo.recurrent.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="keras_svq")
class MIMNCell(RecurrentCell):
    """The memory-in-memory cell that models non-stationary differences.

    A ConvLSTM with peephole weights on the cell state: `conv_h_concat(h)`
    and `conv_x_concat(x)` give `i, g, f, o`; `[i_c, f_c] = [c, c]·ct_weight`,
    `c' = σ(f + f_c + 1)·c + σ(i + i_c)·tanh(g)` and
    `h' = σ(o + c'·oc_weight)·tanh(c')`. `ct_weight` `(H, W, 2·hidden)` and
    `oc_weight` `(H, W, hidden)` are per-position weights, initialised to 0.
    It is MIM's `MIMN` module and the `MIMS` part of `MIMBlock`.

    Args:
        hidden_dim, kernel_size, stride, layer_norm: see `RecurrentCell`.
        keep_unused_readout: bool. The reference's standalone `MIMN` module
            owns a 1x1 `conv_last` it never uses; keep it (frozen) for
            checkpoints and parameter counts. Defaults to False.

    Call arguments:
        inputs: `(B, H, W, C_in)`.
        states: `[h, c]`.

    Returns:
        `(h', [h', c'])`.

    Reference:
        Wang et al., "Memory In Memory", https://arxiv.org/abs/1811.07490
    """

    def __init__(
        self,
        hidden_dim,
        kernel_size=5,
        stride=1,
        layer_norm=False,
        keep_unused_readout=False,
        **kwargs,
    ):
        super().__init__(hidden_dim, kernel_size, stride, layer_norm, **kwargs)
        self.keep_unused_readout = bool(keep_unused_readout)
        self.conv_h_concat = self.gate_conv("conv_h_concat", 4)
        self.conv_x_concat = self.gate_conv("conv_x_concat", 4)
        self.conv_last = None
        if self.keep_unused_readout:
            self.conv_last = self.pointwise_conv("conv_last", hidden_dim)
            self.conv_last.trainable = False
        self._torch_names += [("ct_weight", "chw"), ("oc_weight", "chw")]

    @property
    def state_size(self):
        return [self.hidden_dim, self.hidden_dim]

    def build(self, input_shape, states_shape=None):
        height, width = input_shape[1:3]
        self.ct_weight = self.add_weight(
            shape=(height, width, 2 * self.hidden_dim),
            initializer="zeros",
            name="ct_weight",
        )
        self.oc_weight = self.add_weight(
            shape=(height, width, self.hidden_dim),
            initializer="zeros",
            name="oc_weight",
        )
        self.conv_h_concat.build(self.with_channels(input_shape, self.hidden_dim))
        self.conv_x_concat.build(input_shape)
        if self.conv_last is not None:
            self.conv_last.build(self.with_channels(input_shape, 2 * self.hidden_dim))

    def call(self, inputs, states, training=None):
        h, c = states
        i_h, g_h, f_h, o_h = self.split_gates(self.conv_h_concat(h), 4)
        i_x, g_x, f_x, o_x = self.split_gates(self.conv_x_concat(inputs), 4)
        ct_weight = ops.cast(self.ct_weight, c.dtype)
        i_c = c * ct_weight[..., : self.hidden_dim]
        f_c = c * ct_weight[..., self.hidden_dim :]
        i = ops.sigmoid(i_h + i_c + i_x)
        f = ops.sigmoid(f_h + f_c + f_x + 1.0)
        c_new = f * c + i * ops.tanh(g_h + g_x)
        o_c = c_new * ops.cast(self.oc_weight, c.dtype)
        h_new = ops.sigmoid(o_h + o_x + o_c) * ops.tanh(c_new)
        return h_new, [h_new, c_new]

    def get_config(self):
        return {**super().get_config(), "keep_unused_readout": self.keep_unused_readout}
