"""PhyDNet's encoder and decoder block."""

import keras
from keras import ops

from zoo.recurrent.torch_conv2d import TorchConv2D
from zoo.recurrent.torch_conv_transpose2d import TorchConvTranspose2D


@keras.saving.register_keras_serializable(package="keras_svq")
class PhyDNetConvBlock(keras.layers.Layer):
    """3x3 conv (or transposed conv), GroupNorm(16), LeakyReLU(0.2).

    The reference's `dcgan_conv` (`transposed=False`, padding 1) and
    `dcgan_upconv` (`transposed=True`, padding 1, output padding 1 at
    stride 2), which upsamples by `strides`.

    Args:
        filters: int. A multiple of 16.
        strides: int. 1 or 2. Defaults to 1.
        transposed: bool. Defaults to False.

    Input shape: `(B, H, W, C)`. Output shape: `(B, H / s, W / s, filters)`,
    or `(B, H·s, W·s, filters)` when transposed.
    """

    def __init__(self, filters, strides=1, transposed=False, **kwargs):
        super().__init__(**kwargs)
        if filters % 16:
            raise ValueError(
                f"`filters` must be a multiple of 16. Received: filters={filters}"
            )
        if strides not in (1, 2):
            raise ValueError(f"`strides` must be 1 or 2. Received: strides={strides}")
        self.filters = filters
        self.strides = strides
        self.transposed = bool(transposed)
        if self.transposed:
            self.conv = TorchConvTranspose2D(
                filters,
                3,
                strides=strides,
                padding=1,
                output_padding=strides - 1,
                dtype=self.dtype_policy,
                name="conv",
            )
        else:
            self.conv = TorchConv2D(
                filters,
                3,
                strides=strides,
                padding=1,
                dtype=self.dtype_policy,
                name="conv",
            )
        self.norm = keras.layers.GroupNormalization(
            16, epsilon=1e-5, dtype=self.dtype_policy, name="norm"
        )

    def build(self, input_shape):
        self.conv.build(input_shape)
        self.norm.build(self.conv.compute_output_shape(input_shape))

    def call(self, inputs):
        return ops.leaky_relu(self.norm(self.conv(inputs)), 0.2)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def torch_modules(self):
        kind = "conv_transpose" if self.transposed else "conv"
        return [("main.0", self.conv, kind), ("main.1", self.norm, "group_norm")]

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "strides": self.strides,
            "transposed": self.transposed,
        }
