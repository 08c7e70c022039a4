"""The gate convolution every recurrent cell of the zoo is made of."""

import keras

from keras_svq.initializers import TorchUniform


@keras.saving.register_keras_serializable(package="keras_svq")
class GateConv(keras.layers.Layer):
    """A 'same' convolution producing stacked gates, optionally layer-normalised.

    This is the reference's `nn.Sequential(nn.Conv2d(...), nn.LayerNorm([C, H, W]))`
    (the norm only with `layer_norm=True`): the LayerNorm normalises over the
    whole `(H, W, C)` map with one affine weight per position and channel, so
    it needs static frame sizes. Weights start from torch's default
    distribution (`TorchUniform`).

    Args:
        filters: int. Output channels (number of gates times hidden channels).
        kernel_size: int. Odd kernel size; padding `kernel_size // 2`.
        stride: int. Only 1 is supported (the states keep the frame size).
            Defaults to 1.
        use_bias: bool. Defaults to False (the PredRNN family has no biases).
        layer_norm: bool. Defaults to False.
        kernel_initializer: a Keras initializer. Defaults to None (torch's
            default, `TorchUniform`).

    Input shape: `(B, H, W, C_in)`. Output shape: `(B, H, W, filters)`.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        stride=1,
        use_bias=False,
        layer_norm=False,
        kernel_initializer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(
                f"`filters` must be a positive integer. Received: filters={filters}"
            )
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                "`kernel_size` must be a positive odd integer (padding kernel_size // 2 "
                f"keeps the frame size). Received: kernel_size={kernel_size}"
            )
        if stride != 1:
            raise ValueError(
                "Only `stride=1` is supported: the recurrent states keep the frame "
                f"size. Received: stride={stride}"
            )
        self.filters = filters
        self.kernel_size = kernel_size
        self.stride = stride
        self.use_bias = use_bias
        self.layer_norm = bool(layer_norm)
        self.kernel_initializer = (
            keras.initializers.get(kernel_initializer) if kernel_initializer else None
        )
        self.conv = None
        self.norm = None

    def build(self, input_shape):
        fan_in = input_shape[-1] * self.kernel_size * self.kernel_size
        self.conv = keras.layers.Conv2D(
            self.filters,
            self.kernel_size,
            padding="same",
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer or TorchUniform(),
            bias_initializer=TorchUniform(fan_in=fan_in),
            dtype=self.dtype_policy,
            trainable=self.trainable,
            name="conv",
        )
        self.conv.build(input_shape)
        if self.layer_norm:
            self.norm = keras.layers.LayerNormalization(
                axis=(-3, -2, -1),
                epsilon=1e-5,
                dtype=self.dtype_policy,
                trainable=self.trainable,
                name="norm",
            )
            self.norm.build(tuple(input_shape[:-1]) + (self.filters,))

    def call(self, inputs):
        x = self.conv(inputs)
        return self.norm(x) if self.norm is not None else x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "use_bias": self.use_bias,
            "layer_norm": self.layer_norm,
            "kernel_initializer": (
                keras.initializers.serialize(self.kernel_initializer)
                if self.kernel_initializer
                else None
            ),
        }
