"""Swin's window attention: self-attention with a learned relative position bias."""

import keras
import numpy as np
from keras import ops

from keras_svq.layers.multi_head_self_attention import MultiHeadSelfAttention


def relative_position_index(window_size):
    """`(N, N)` indices into the `((2·wh - 1)·(2·ww - 1), heads)` bias table.

    For tokens `i`, `j` of a `wh × ww` window (row-major, `N = wh·ww`), the
    index encodes the offset `(row_i - row_j, col_i - col_j)`, shifted to be
    non-negative. A constant, so it is not a weight (torch keeps it as a
    buffer, which parameter counts exclude).
    """
    height, width = window_size
    rows, cols = np.meshgrid(np.arange(height), np.arange(width), indexing="ij")
    coords = np.stack([rows.ravel(), cols.ravel()])  # (2, N)
    offsets = coords[:, :, None] - coords[:, None, :]  # (2, N, N)
    offsets[0] += height - 1
    offsets[1] += width - 1
    return (offsets[0] * (2 * width - 1) + offsets[1]).astype("int32")


@keras.saving.register_keras_serializable(package="keras_svq")
class WindowAttention(MultiHeadSelfAttention):
    """Multi-head self-attention inside a window, plus a relative position bias.

    The tokens of one `wh × ww` window (row-major) attend to each other; a
    learned table of `(2·wh - 1)·(2·ww - 1)` entries per head, indexed by the
    offset between two tokens, is added to the logits. Windows are the batch
    axis: partition the map first (see `zoo.translators.swin_block`).

    Args:
        window_size: int or tuple of 2 ints. The window `(wh, ww)`.
        num_heads: int. Defaults to 8.
        use_qkv_bias: bool. Defaults to True.
        attention_dropout_rate: float. Defaults to 0.0.
        dropout_rate: float. Dropout after the projection. Defaults to 0.0.
        kernel_initializer: Defaults to `TruncatedNormal(stddev=0.02)`.
        bias_initializer: Defaults to `"zeros"`.
        table_initializer: initializer of the bias table. Defaults to
            `TruncatedNormal(stddev=0.02)`, as the reference.

    Call arguments:
        inputs: a tensor `(B·windows, wh·ww, C)`.
        training: bool.

    Example:

    ```python
    y = WindowAttention(4, num_heads=2)(np.zeros((6, 16, 8)))  # (6, 16, 8)
    ```

    Reference:
        Liu et al., "Swin Transformer: Hierarchical Vision Transformer using
        Shifted Windows", https://arxiv.org/abs/2103.14030
    """

    def __init__(self, window_size, num_heads=8, table_initializer=None, **kwargs):
        super().__init__(num_heads=num_heads, **kwargs)
        if isinstance(window_size, int):
            window_size = (window_size, window_size)
        window_size = tuple(window_size)
        if len(window_size) != 2 or any(
            isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in window_size
        ):
            raise ValueError(
                "`window_size` must be a positive int or a pair of them. "
                f"Received: window_size={window_size!r}"
            )
        self.window_size = window_size
        self.table_initializer = keras.initializers.get(
            table_initializer or keras.initializers.TruncatedNormal(stddev=0.02)
        )

    def build(self, input_shape):
        tokens = self.window_size[0] * self.window_size[1]
        if input_shape[-2] is not None and input_shape[-2] != tokens:
            raise ValueError(
                "WindowAttention expects `wh·ww` tokens per window. Received: "
                f"{input_shape[-2]} tokens for window_size={self.window_size}"
            )
        super().build(input_shape)
        height, width = self.window_size
        self.relative_position_bias_table = self.add_weight(
            name="relative_position_bias_table",
            shape=((2 * height - 1) * (2 * width - 1), self.num_heads),
            initializer=self.table_initializer,
        )
        self._index = relative_position_index(self.window_size).reshape(-1)

    def attention_bias(self):
        tokens = self.window_size[0] * self.window_size[1]
        bias = ops.take(self.relative_position_bias_table, self._index, axis=0)
        bias = ops.reshape(bias, (tokens, tokens, self.num_heads))
        return ops.transpose(bias, (2, 0, 1))[None]

    def get_config(self):
        return {
            **super().get_config(),
            "window_size": list(self.window_size),
            "table_initializer": keras.initializers.serialize(self.table_initializer),
        }
