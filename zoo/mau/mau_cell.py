"""MAU's motion-aware unit."""

import math

import keras
from keras import ops

from zoo.recurrent.recurrent_cell import RecurrentCell

CELL_MODES = ("normal", "residual")


@keras.saving.register_keras_serializable(package="keras_svq")
class MAUCell(RecurrentCell):
    """Motion-aware unit: attention over the last `attention_length` steps.

    The cell keeps its temporal state `T` and the histories of the last
    `attention_length` temporal states and spatial inputs. Attention weights
    `softmax_k(<S_k, conv_s_next(S)> / sqrt(hidden·H·W))` over the history
    give the motion trend `Σ_k w_k T_k`, fused with `T` by the gate
    `σ(conv_t_next(T))`; then `[t_g, t_t, t_s] = conv_t(T_fusion)`,
    `[s_g, s_t, s_s] = conv_s(S)` and
    `T' = σ(t_g)·t_t + (1 - σ(t_g))·s_t`, `S' = σ(s_g)·s_s + (1 - σ(s_g))·t_s`
    (`+ S` with `cell_mode="residual"`). Every conv has a bias and a
    LayerNorm over `(H, W, C)`.

    Args:
        hidden_dim, kernel_size, stride: see `RecurrentCell`.
        attention_length: int. `tau`. Defaults to 5.
        cell_mode: str. `"normal"` or `"residual"`. Defaults to `"normal"`.

    Call arguments:
        inputs: `S`, `(B, H, W, hidden_dim)`.
        states: `[T, T_1..T_tau, S_1..S_tau]` (oldest first).

    Returns:
        `(S', [T', T_2..T_tau, T', S_2..S_tau, S])`.

    Reference:
        Chang et al., "MAU: A Motion-Aware Unit for Video Prediction and
        Beyond", NeurIPS 2021, https://openreview.net/forum?id=qwtfY-3ibt7
    """

    def __init__(
        self,
        hidden_dim,
        kernel_size=5,
        stride=1,
        attention_length=5,
        cell_mode="normal",
        **kwargs,
    ):
        kwargs.pop("layer_norm", None)
        super().__init__(hidden_dim, kernel_size, stride, layer_norm=True, **kwargs)
        if not isinstance(attention_length, int) or attention_length < 1:
            raise ValueError(
                "`attention_length` must be a positive integer. "
                f"Received: attention_length={attention_length!r}"
            )
        if cell_mode not in CELL_MODES:
            raise ValueError(
                f"`cell_mode` must be one of {list(CELL_MODES)}. Received: cell_mode={cell_mode!r}"
            )
        self.attention_length = attention_length
        self.cell_mode = cell_mode
        self.conv_t = self.gate_conv("conv_t", 3, use_bias=True)
        self.conv_t_next = self.gate_conv("conv_t_next", 1, use_bias=True)
        self.conv_s = self.gate_conv("conv_s", 3, use_bias=True)
        self.conv_s_next = self.gate_conv("conv_s_next", 1, use_bias=True)

    @property
    def state_size(self):
        return [self.hidden_dim] * (1 + 2 * self.attention_length)

    def build(self, input_shape, states_shape=None):
        for conv in (self.conv_t, self.conv_t_next, self.conv_s, self.conv_s_next):
            conv.build(input_shape)
        self.scale = 1.0 / math.sqrt(self.hidden_dim * input_shape[1] * input_shape[2])

    def call(self, inputs, states, training=None):
        tau = self.attention_length
        temporal = states[0]
        temporal_history = list(states[1 : 1 + tau])
        spatial_history = list(states[1 + tau :])
        s_next = self.conv_s_next(inputs)
        t_next = self.conv_t_next(temporal)
        scores = (
            ops.sum(ops.stack(spatial_history) * s_next[None], axis=(2, 3, 4))
            * self.scale
        )
        weights = ops.softmax(scores, axis=0)[:, :, None, None, None]
        trend = ops.sum(ops.stack(temporal_history) * weights, axis=0)
        gate = ops.sigmoid(t_next)
        fusion = temporal * gate + (1.0 - gate) * trend
        t_g, t_t, t_s = self.split_gates(self.conv_t(fusion), 3)
        s_g, s_t, s_s = self.split_gates(self.conv_s(inputs), 3)
        t_gate, s_gate = ops.sigmoid(t_g), ops.sigmoid(s_g)
        temporal_new = t_gate * t_t + (1.0 - t_gate) * s_t
        spatial_new = s_gate * s_s + (1.0 - s_gate) * t_s
        if self.cell_mode == "residual":
            spatial_new = spatial_new + inputs
        new_states = (
            [temporal_new]
            + temporal_history[1:]
            + [temporal_new]
            + spatial_history[1:]
            + [inputs]
        )
        return spatial_new, new_states

    def get_config(self):
        config = super().get_config()
        config.pop("layer_norm")
        return {
            **config,
            "attention_length": self.attention_length,
            "cell_mode": self.cell_mode,
        }
