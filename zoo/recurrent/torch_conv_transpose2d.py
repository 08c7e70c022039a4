"""A 2D transposed convolution cropped as PyTorch crops it."""

import keras

from keras_svq.initializers import TorchUniform


@keras.saving.register_keras_serializable(package="keras_svq")
class TorchConvTranspose2D(keras.layers.Layer):
    """`nn.ConvTranspose2d(kernel_size, stride, padding, output_padding)`.

    The full ('valid') transposed convolution has `(H - 1)·stride + kernel`
    rows; torch drops `padding` rows at the start and `padding -
    output_padding` at the end (Keras' 'same' drops them at the end only).
    Weights start from torch's default (fans from the output channels).

    Args:
        filters: int.
        kernel_size: int.
        strides: int. Defaults to 1.
        padding: int. Defaults to 0.
        output_padding: int. Defaults to 0.
        use_bias: bool. Defaults to True.

    Input shape: `(B, H, W, C)`. Output shape:
    `(B, (H - 1)·s - 2·padding + kernel + output_padding, ..., filters)`.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        padding=0,
        output_padding=0,
        use_bias=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not 0 <= output_padding <= padding:
            raise ValueError(
                "`output_padding` must be in [0, padding]. "
                f"Received: padding={padding}, output_padding={output_padding}"
            )
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.output_padding = output_padding
        self.use_bias = use_bias
        self.conv = None

    def build(self, input_shape):
        fan_in = self.filters * self.kernel_size**2
        self.conv = keras.layers.Conv2DTranspose(
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
        self.conv.build(input_shape)

    def call(self, inputs):
        x = self.conv(inputs)
        start = self.padding
        stop = self.padding - self.output_padding
        height, width = x.shape[1], x.shape[2]
        return x[:, start : height - stop, start : width - stop, :]

    def compute_output_shape(self, input_shape):
        def size(n):
            if n is None:
                return None
            return (
                (n - 1) * self.strides
                - 2 * self.padding
                + self.kernel_size
                + self.output_padding
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
            "output_padding": self.output_padding,
            "use_bias": self.use_bias,
        }
