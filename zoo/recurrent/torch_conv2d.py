"""A 2D convolution padded as PyTorch pads it."""

import keras
from keras import ops

from keras_svq.initializers import TorchUniform


@keras.saving.register_keras_serializable(package="keras_svq")
class TorchConv2D(keras.layers.Layer):
    """`nn.Conv2d(kernel_size, stride, padding)`: symmetric zero padding, then 'valid'.

    Keras' `padding="same"` pads only bottom/right when the stride does not
    divide the padding evenly, which gives other numbers than torch for a
    strided conv; this layer pads `padding` on every side as torch does.

    Args:
        filters: int.
        kernel_size: int.
        strides: int. Defaults to 1.
        padding: int. Defaults to 0.
        use_bias: bool. Defaults to True.

    Input shape: `(B, H, W, C)`. Output shape: `(B, H', W', filters)`.
    """

    def __init__(
        self, filters, kernel_size, strides=1, padding=0, use_bias=True, **kwargs
    ):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.use_bias = use_bias
        self.conv = None

    def build(self, input_shape):
        fan_in = input_shape[-1] * self.kernel_size**2
        self.conv = keras.layers.Conv2D(
            self.filters,
            self.kernel_size,
            strides=self.strides,
            padding="valid",
            use_bias=self.use_bias,
            kernel_initializer=TorchUniform(),
            bias_initializer=TorchUniform(fan_in=fan_in),
            dtype=self.dtype_policy,
            trainable=self.trainable,
            name="conv",
        )
        pad = 2 * self.padding
        height = None if input_shape[1] is None else input_shape[1] + pad
        width = None if input_shape[2] is None else input_shape[2] + pad
        self.conv.build((input_shape[0], height, width, input_shape[-1]))

    def call(self, inputs):
        p = self.padding
        if p:
            inputs = ops.pad(inputs, ((0, 0), (p, p), (p, p), (0, 0)))
        return self.conv(inputs)

    def compute_output_shape(self, input_shape):
        def size(n):
            return (
                None
                if n is None
                else (n + 2 * self.padding - self.kernel_size) // self.strides + 1
            )

        return (
            input_shape[0],
            size(input_shape[1]),
            size(input_shape[2]),
            self.filters,
        )

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "use_bias": self.use_bias,
        }
