"""The Swin Transformer block as a SimVP translator block."""

import keras
from keras import ops

from keras_svq.layers import WindowAttention
from zoo.translators.translator_registry import register_meta_block
from zoo.translators.vit_block import ViTBlock


def swin_window_size(height):
    """OpenSTL's window for a latent of `height` rows: 7 if it divides, else `max(4, H // 16)`, at most 8."""
    window = 7 if height % 7 == 0 else max(4, height // 16)
    return min(8, window)


def window_partition(x, window_size):
    """`(B, H, W, C) -> (B·(H/ws)·(W/ws), ws·ws, C)`, windows in row-major order."""
    _, height, width, dim = x.shape
    x = ops.reshape(
        x,
        (
            -1,
            height // window_size,
            window_size,
            width // window_size,
            window_size,
            dim,
        ),
    )
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, window_size * window_size, dim))


def window_reverse(windows, window_size, height, width):
    """Inverse of `window_partition`."""
    dim = windows.shape[-1]
    x = ops.reshape(
        windows,
        (
            -1,
            height // window_size,
            width // window_size,
            window_size,
            window_size,
            dim,
        ),
    )
    x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
    return ops.reshape(x, (-1, height, width, dim))


@keras.saving.register_keras_serializable(package="keras_svq")
class SwinBlock(ViTBlock):
    """A Swin Transformer block: attention inside (shifted) windows.

    A `ViTBlock` whose token mixer is `WindowAttention` over non-overlapping
    `window_size × window_size` windows. With `shift_size > 0` the map is
    rolled by `-shift_size` on both axes before the partition and rolled back
    after. As in OpenSTL's `SwinSubBlock`, the shifted windows are *not*
    masked: the rolled-in border pixels attend to the others like any token.
    As in the reference block, a map no larger than the window uses one
    window of its own size and no shift.

    Args:
        window_size: int. Window side; must divide H and W. Defaults to 7.
        shift_size: int. Cyclic shift, `0 <= shift_size < window_size`.
            Defaults to 0.
        num_heads: int. Defaults to 8.
        mlp_ratio: float. Defaults to 4.0.
        drop_rate: float. Defaults to 0.0.
        drop_path_rate: float. Defaults to 0.1.
        layer_scale_init_value: float or None. Defaults to None (none, as
            the reference).
        epsilon: float. LayerNorm epsilon. Defaults to 1e-5.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    y = SwinBlock(window_size=4, shift_size=2)(np.zeros((2, 8, 16, 32)))
    ```

    Reference:
        Liu et al., "Swin Transformer: Hierarchical Vision Transformer using
        Shifted Windows", https://arxiv.org/abs/2103.14030
    """

    def __init__(self, window_size=7, shift_size=0, num_heads=8, **kwargs):
        super().__init__(num_heads=num_heads, **kwargs)
        if (
            isinstance(window_size, bool)
            or not isinstance(window_size, int)
            or window_size < 1
        ):
            raise ValueError(
                f"`window_size` must be a positive integer. Received: window_size={window_size!r}"
            )
        if not 0 <= shift_size < window_size:
            raise ValueError(
                "`shift_size` must be in [0, window_size). Received: "
                f"shift_size={shift_size}, window_size={window_size}"
            )
        self.window_size = window_size
        self.shift_size = shift_size

    def _effective_window(self, height, width):
        # The reference block: a map that fits in one window is one window.
        if min(height, width) <= self.window_size:
            return min(height, width), 0
        return self.window_size, self.shift_size

    def make_attention(self, input_shape):
        _, height, width, _ = input_shape
        window, _ = self._effective_window(height, width)
        for name, size in (("height", height), ("width", width)):
            if size % window:
                raise ValueError(
                    f"The map {name} must be a multiple of the window size. "
                    f"Received: {name}={size}, window_size={window}"
                )
        return WindowAttention(
            window,
            num_heads=self.num_heads,
            dropout_rate=self.drop_rate,
            dtype=self.dtype_policy,
            name="attn",
        )

    def attention_input_shape(self, input_shape):
        _, height, width, dim = input_shape
        window, _ = self._effective_window(height, width)
        return (None, window * window, dim)

    def mix_tokens(self, x, training=None):
        _, height, width, _ = x.shape
        window, shift = self._effective_window(height, width)
        if shift:
            x = ops.roll(ops.roll(x, -shift, axis=1), -shift, axis=2)
        windows = self.attn(window_partition(x, window), training=training)
        x = window_reverse(windows, window, height, width)
        if shift:
            x = ops.roll(ops.roll(x, shift, axis=1), shift, axis=2)
        return x

    def get_config(self):
        return {
            **super().get_config(),
            "window_size": self.window_size,
            "shift_size": self.shift_size,
        }


def _swin_factory(
    *,
    mlp_ratio,
    drop_rate,
    drop_path_rate,
    layer_index,
    input_resolution,
    name,
    dtype=None,
    **unused,
):
    window = swin_window_size(input_resolution[0])
    return SwinBlock(
        window_size=window,
        shift_size=0 if layer_index % 2 == 0 else window // 2,
        num_heads=8,
        mlp_ratio=mlp_ratio,
        drop_rate=drop_rate,
        drop_path_rate=drop_path_rate,
        name=name,
        dtype=dtype,
    )


register_meta_block("swin", _swin_factory)
