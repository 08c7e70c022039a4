"""The ConvLSTM cell, in the SVQ paper's and in OpenSTL-Lightning's form."""

import keras
from keras import ops

from zoo.recurrent.recurrent_cell import RecurrentCell

CELL_VARIANTS = ("svq", "lightning")


@keras.saving.register_keras_serializable(package="keras_svq")
class ConvLSTMCell(RecurrentCell):
    """Convolutional LSTM cell.

    `[i, f, g, o] = conv_x(x) + conv_h(h)`; `c' = σ(f)·c + σ(i)·tanh(g)`. The
    hidden output depends on `variant`:

    * `"svq"` (default): `h' = σ(o)·tanh(g)`, the cell of the SVQ paper's code
      (OpenSTL v0.3.0); there is no forget bias.
    * `"lightning"`: `h' = σ(o)·tanh(c')`, the textbook cell of
      OpenSTL-Lightning.

    Like the reference, the cell also owns `conv_o` (3x3, 2·hidden -> hidden)
    and `conv_last` (1x1) that its step never uses: they are kept so that
    checkpoints load and parameter counts match the official code. They
    are non-trainable here (they never receive a gradient in either code).

    Args:
        hidden_dim, kernel_size, stride, layer_norm: see `RecurrentCell`.
        variant: str. `"svq"` or `"lightning"`. Defaults to `"svq"`.
        use_bias: bool. A gate bias (on `conv_x`). PhyDNet's ConvLSTM, a single
            biased conv over `[x, h]`, is this cell with `use_bias=True`,
            `variant="lightning"` and no unused convs. Defaults to False.
        include_unused_convs: bool. Create the reference's unused `conv_o`
            and `conv_last`. Defaults to True.

    Call arguments:
        inputs: `(B, H, W, C_in)`.
        states: `[h, c]`, each `(B, H, W, hidden_dim)`.

    Returns:
        `(h', [h', c'])`.

    Reference:
        Shi et al., "Convolutional LSTM Network", https://arxiv.org/abs/1506.04214
    """

    def __init__(
        self,
        hidden_dim,
        kernel_size=5,
        stride=1,
        layer_norm=False,
        variant="svq",
        use_bias=False,
        include_unused_convs=True,
        **kwargs,
    ):
        super().__init__(hidden_dim, kernel_size, stride, layer_norm, **kwargs)
        if variant not in CELL_VARIANTS:
            raise ValueError(
                f"`variant` must be one of {list(CELL_VARIANTS)}. Received: variant={variant!r}"
            )
        self.variant = variant
        self.use_bias = bool(use_bias)
        self.include_unused_convs = bool(include_unused_convs)
        self.conv_x = self.gate_conv("conv_x", 4, use_bias=self.use_bias)
        self.conv_h = self.gate_conv("conv_h", 4)
        self.conv_o = self.conv_last = None
        if self.include_unused_convs:
            # Never used by the step: frozen, so that optimizers do not warn
            # about missing gradients; still weights, as torch counts them.
            self.conv_o = self.gate_conv("conv_o", 1)
            self.conv_last = self.pointwise_conv("conv_last", hidden_dim)
            self.conv_o.trainable = False
            self.conv_last.trainable = False

    @property
    def state_size(self):
        return [self.hidden_dim, self.hidden_dim]

    def build(self, input_shape, states_shape=None):
        self.conv_x.build(input_shape)
        self.conv_h.build(self.with_channels(input_shape, self.hidden_dim))
        if self.include_unused_convs:
            self.conv_o.build(self.with_channels(input_shape, 2 * self.hidden_dim))
            self.conv_last.build(self.with_channels(input_shape, 2 * self.hidden_dim))

    def call(self, inputs, states, training=None):
        h, c = states
        i_x, f_x, g_x, o_x = self.split_gates(self.conv_x(inputs), 4)
        i_h, f_h, g_h, o_h = self.split_gates(self.conv_h(h), 4)
        i = ops.sigmoid(i_x + i_h)
        f = ops.sigmoid(f_x + f_h)
        g = ops.tanh(g_x + g_h)
        c_new = f * c + i * g
        o = ops.sigmoid(o_x + o_h)
        h_new = o * (g if self.variant == "svq" else ops.tanh(c_new))
        return h_new, [h_new, c_new]

    def get_config(self):
        return {
            **super().get_config(),
            "variant": self.variant,
            "use_bias": self.use_bias,
            "include_unused_convs": self.include_unused_convs,
        }
