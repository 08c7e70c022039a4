"""E3D-LSTM's eidetic 3D LSTM cell."""

import keras
from keras import ops

from zoo.e3dlstm.window_conv3d import WindowConv3D
from zoo.recurrent.recurrent_cell import RecurrentCell


def flatten_raw(x):
    """`(B, D, H, W, C)` -> `(B, D*H*W, C)` as torch's `.reshape(B, -1, C)` of NCDHW.

    The reference reshapes the channels-first tensor without transposing, so
    each row mixes channels; this reproduces that memory order exactly.
    """
    channels = x.shape[-1]
    return ops.reshape(
        ops.transpose(x, (0, 4, 1, 2, 3)), (ops.shape(x)[0], -1, channels)
    )


def unflatten_raw(x, shape):
    """Inverse of `flatten_raw` for a `(D, H, W, C)` per-sample `shape`."""
    depth, height, width, channels = shape
    x = ops.reshape(x, (ops.shape(x)[0], channels, depth, height, width))
    return ops.transpose(x, (0, 2, 3, 4, 1))


@keras.saving.register_keras_serializable(package="keras_svq")
class Eidetic3DLSTMCell(RecurrentCell):
    """Eidetic 3D LSTM: recall gates attend over all past cell states.

    On `(B, D, H, W, C)` windows (D = 2 frames), with `WindowConv3D` gates of
    kernel `(window_length, k, k)`: `conv_x(x)` gives `i, g, r, o, i', g', f'`,
    `conv_h(h)` gives `i, g, r, o`, `conv_gm(m)` gives `i', f', g', m_m`.
    `c' = LayerNorm(c + Attention(σ(r), history)) + σ(i)·tanh(g)`, where the
    attention's queries, keys and values are the raw row-major reshapes of
    the channels-first maps (as in the reference) and `history` holds every
    earlier cell state of the sequence, including the initial zeros. The
    global memory gives `m' = σ(f' + 1)·tanh(m_m) + σ(i')·tanh(g')`, and
    `h' = tanh(conv_last([c', m']))·σ(tanh(o_x + o_h + conv_new_cell(c') +
    conv_new_gm(m')))`. The official cell returns its *input* global memory,
    so the memory passed on never changes; this is reproduced.

    Args:
        hidden_dim, kernel_size, layer_norm: see `RecurrentCell`.
        stride: int. Stride of the gate convs, whose outputs are resampled
            back to the window's size (as the reference's `tf_Conv3d`; its KTH
            config uses 2). Defaults to 1.
        window_length: int. Frames per window. Defaults to 2.

    Call arguments:
        inputs: `(B, D, H, W, C_in)`.
        states: `[h, c, m, history]`; `history` is `(B, N, hidden_dim)`, the
            flattened earlier cell states, the current `c` included.

    Returns:
        `(h', [h', c', m])`.

    Reference:
        Wang et al., "Eidetic 3D LSTM: A Model for Video Prediction and
        Beyond", ICLR 2019, https://openreview.net/forum?id=B1lKS2AqtX
    """

    num_shared_states = 1

    def __init__(
        self,
        hidden_dim,
        kernel_size=5,
        stride=1,
        layer_norm=False,
        window_length=2,
        **kwargs,
    ):
        super().__init__(hidden_dim, kernel_size, stride, layer_norm, **kwargs)
        self.window_length = window_length
        kernel = (window_length, kernel_size, kernel_size)

        def conv(
            name,
            num_gates,
            kernel_size=kernel,
            layer_norm=self.layer_norm,
            kind="sequential3d",
            strides=stride,
        ):
            self._torch_names.append((name, kind))
            return WindowConv3D(
                num_gates * hidden_dim,
                kernel_size,
                strides=strides,
                layer_norm=layer_norm,
                dtype=self.dtype_policy,
                name=name,
            )

        self.conv_x = conv("conv_x", 7)
        self.conv_h = conv("conv_h", 4)
        self.conv_gm = conv("conv_gm", 4)
        self.conv_new_cell = conv("conv_new_cell", 1)
        self.conv_new_gm = conv("conv_new_gm", 1)
        self.conv_last = conv("conv_last", 1, (1, 1, 1), False, "tf_conv3d", 1)
        self.norm_cell = keras.layers.LayerNormalization(
            axis=(-4, -3, -2, -1),
            epsilon=1e-5,
            dtype=self.dtype_policy,
            name="norm_cell",
        )
        self._torch_names.append(("_norm_c_t", "layer_norm"))

    def torch_modules(self):
        modules = []
        for name, kind in self._torch_names:
            layer = self.norm_cell if name == "_norm_c_t" else getattr(self, name)
            modules.append((name, layer, kind))
        return modules

    @property
    def state_size(self):
        return [self.hidden_dim] * 3

    def build(self, input_shape, states_shape=None):
        hidden = self.with_channels(input_shape, self.hidden_dim)
        self.conv_x.build(input_shape)
        for conv in (self.conv_h, self.conv_gm, self.conv_new_cell, self.conv_new_gm):
            conv.build(hidden)
        self.conv_last.build(self.with_channels(input_shape, 2 * self.hidden_dim))
        self.norm_cell.build(hidden)

    def attention(self, query, history):
        keys = history
        scores = ops.matmul(flatten_raw(query), ops.transpose(keys, (0, 2, 1)))
        attended = ops.matmul(ops.softmax(scores, axis=-1), keys)
        return unflatten_raw(attended, tuple(query.shape[1:]))

    def call(self, inputs, states, training=None):
        h, c, m, history = states
        i_h, g_h, r_h, o_h = self.split_gates(self.conv_h(h), 4)
        i_x, g_x, r_x, o_x, i_xm, g_xm, f_xm = self.split_gates(self.conv_x(inputs), 7)
        i = ops.sigmoid(i_x + i_h)
        r = ops.sigmoid(r_x + r_h)
        g = ops.tanh(g_x + g_h)
        c_new = self.norm_cell(c + self.attention(r, history)) + i * g

        i_m, f_m, g_m, m_m = self.split_gates(self.conv_gm(m), 4)
        m_new = ops.sigmoid(f_xm + f_m + 1.0) * ops.tanh(m_m) + ops.sigmoid(
            i_xm + i_m
        ) * ops.tanh(g_xm + g_m)
        o = ops.tanh(o_x + o_h + self.conv_new_cell(c_new) + self.conv_new_gm(m_new))
        memory = self.conv_last(ops.concatenate([c_new, m_new], axis=-1))
        h_new = ops.tanh(memory) * ops.sigmoid(o)
        return h_new, [h_new, c_new, m]

    def get_config(self):
        return {**super().get_config(), "window_length": self.window_length}
