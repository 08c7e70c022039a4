"""The 3D gate convolution of E3D-LSTM."""

import keras
from keras import ops

from keras_svq.initializers import TorchUniform


@keras.saving.register_keras_serializable(package="keras_svq")
class WindowConv3D(keras.layers.Layer):
    """A 3D conv over a short time window that keeps the window's length.

    The reference's `tf_Conv3d`: a `Conv3d` with padding `(0, kh//2, kw//2)`
    (valid in time, 'same' in space) and stride `strides` on every axis,
    followed by nearest-neighbour resampling back to the input's `(D, H, W)`
    (torch's `F.interpolate(mode="nearest")`), so a 2-frame window convolved
    by a 2-deep kernel gives one map, repeated twice. Optionally followed by a
    LayerNorm over `(D, H, W, C)`.

    Args:
        filters: int.
        kernel_size: tuple of 3 ints `(kd, kh, kw)`, `kh` and `kw` odd.
        strides: int. Defaults to 1.
        use_bias: bool. Defaults to False.
        layer_norm: bool. Defaults to False.

    Input shape: `(B, D, H, W, C_in)`. Output shape: `(B, D, H, W, filters)`.
    """

    def __init__(
        self,
        filters,
        kernel_size,
        strides=1,
        use_bias=False,
        layer_norm=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        kernel_size = tuple(kernel_size)
        if len(kernel_size) != 3 or kernel_size[1] % 2 == 0 or kernel_size[2] % 2 == 0:
            raise ValueError(
                "`kernel_size` must be 3 ints with odd spatial sizes. "
                f"Received: kernel_size={kernel_size}"
            )
        if not isinstance(strides, int) or strides < 1:
            raise ValueError(
                f"`strides` must be a positive integer. Received: strides={strides!r}"
            )
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.use_bias = use_bias
        self.layer_norm = bool(layer_norm)
        self.conv = None
        self.norm = None

    def build(self, input_shape):
        fan_in = (
            input_shape[-1]
            * self.kernel_size[0]
            * self.kernel_size[1]
            * self.kernel_size[2]
        )
        self.conv = keras.layers.Conv3D(
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
        _, depth, height, width, channels = input_shape
        ph, pw = self.kernel_size[1] // 2, self.kernel_size[2] // 2
        self.conv.build((None, depth, height + 2 * ph, width + 2 * pw, channels))
        if self.layer_norm:
            self.norm = keras.layers.LayerNormalization(
                axis=(-4, -3, -2, -1),
                epsilon=1e-5,
                dtype=self.dtype_policy,
                trainable=self.trainable,
                name="norm",
            )
            self.norm.build((None, depth, height, width, self.filters))

    def call(self, inputs):
        ph, pw = self.kernel_size[1] // 2, self.kernel_size[2] // 2
        x = ops.pad(inputs, ((0, 0), (0, 0), (ph, ph), (pw, pw), (0, 0)))
        x = self.conv(x)
        for axis in (1, 2, 3):
            size, target = x.shape[axis], inputs.shape[axis]
            if size != target:
                # F.interpolate(mode="nearest"): source index floor(i * size / target).
                index = [i * size // target for i in range(target)]
                x = ops.take(x, index, axis=axis)
        return self.norm(x) if self.norm is not None else x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.filters,)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "use_bias": self.use_bias,
            "layer_norm": self.layer_norm,
        }
