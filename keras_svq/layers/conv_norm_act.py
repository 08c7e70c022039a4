"""Convolution, group normalisation and activation: SimVP's basic block."""

import keras

from keras_svq.layers.grouped_conv2d import GroupedConv2D
from keras_svq.layers.pixel_shuffle import PixelShuffle


def _get_activation(identifier, dtype=None):
    """A string, a serialised layer or a layer instance -> a callable.

    A layer is re-created from its config with the owner's `dtype` policy,
    so that it follows mixed precision like the owner's other sublayers.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        identifier = keras.saving.deserialize_keras_object(identifier)
    if isinstance(identifier, keras.layers.Layer):
        if dtype is None:
            return identifier
        config = {**identifier.get_config(), "dtype": dtype}
        return identifier.__class__.from_config(config)
    return keras.activations.get(identifier)


def _serialize_activation(activation):
    """Inverse of `_get_activation`: a JSON-able identifier."""
    if activation is None:
        return None
    if isinstance(activation, keras.layers.Layer):
        return keras.saving.serialize_keras_object(activation)
    return keras.activations.serialize(activation)


@keras.saving.register_keras_serializable(package="keras_svq")
class ConvNormAct(keras.layers.Layer):
    """`Conv2D -> [PixelShuffle] -> GroupNormalization -> activation`.

    The convolution pads symmetrically as PyTorch does: stride 1 uses `same`
    padding (odd kernels), stride 2 pads `(kernel_size - strides + 1) // 2`
    pixels on every side and then convolves without padding. (Keras' `same`
    with stride 2 pads only the bottom and right on even sizes, which shifts
    the sampling grid.) With `upsample_factor=r > 1` the convolution emits
    `filters·r²` channels that a PyTorch-ordered `PixelShuffle` folds into an
    `r`-times larger map. This covers SimVP's `ConvSC` (SiLU, 2 groups) and
    IncepU's `GroupConv2d` (grouped conv, LeakyReLU(0.2)).

    Args:
        filters: int. Output channels.
        kernel_size: int. Odd square kernel size. Defaults to 3.
        strides: int. 1 or a downsampling stride. Defaults to 1.
        dilation_rate: int. Defaults to 1.
        groups: int. Convolution groups. Defaults to 1.
        norm_groups: int. Groups of the GroupNormalization, or None for no
            normalisation. Defaults to 2.
        activation: str, `keras.layers.Layer` or its serialised dict, or
            None. Defaults to `"silu"`.
        upsample_factor: int. Pixel-shuffle factor, 1 for none. Defaults to 1.
        epsilon: float. GroupNormalization epsilon (PyTorch's 1e-5).
            Defaults to 1e-5.
        kernel_initializer: initializer of the convolution kernel. Defaults
            to `TruncatedNormal(stddev=0.02)` (OpenSTL's `BasicConv2d`).
        bias_initializer: Defaults to `"zeros"`.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.

    Example:

    ```python
    down = ConvNormAct(16, strides=2)           # (B, 32, 32, 1) -> (B, 16, 16, 16)
    up = ConvNormAct(16, upsample_factor=2)     # (B, 16, 16, 16) -> (B, 32, 32, 16)
    ```

    Reference:
        Tan et al., "SimVP: Towards Simple yet Powerful Spatiotemporal
        Predictive Learning", https://arxiv.org/abs/2211.12509
    """

    def __init__(
        self,
        filters,
        kernel_size=3,
        strides=1,
        dilation_rate=1,
        groups=1,
        norm_groups=2,
        activation="silu",
        upsample_factor=1,
        epsilon=1e-5,
        kernel_initializer=None,
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if kernel_size % 2 != 1:
            raise ValueError(
                f"`kernel_size` must be odd. Received: kernel_size={kernel_size}"
            )
        if strides > 1 and upsample_factor > 1:
            raise ValueError(
                "A block cannot both downsample and upsample. Received: "
                f"strides={strides}, upsample_factor={upsample_factor}"
            )
        if norm_groups is not None and filters % norm_groups:
            raise ValueError(
                "`filters` must be divisible by `norm_groups`. Received: "
                f"filters={filters}, norm_groups={norm_groups}"
            )
        self.filters = filters
        self.kernel_size = kernel_size
        self.strides = strides
        self.dilation_rate = dilation_rate
        self.groups = groups
        self.norm_groups = norm_groups
        self.activation = _get_activation(activation, self.dtype_policy)
        self.upsample_factor = upsample_factor
        self.epsilon = epsilon
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.TruncatedNormal(stddev=0.02)
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)

        if strides > 1:
            self.pad = keras.layers.ZeroPadding2D(
                (kernel_size - strides + 1) // 2,
                dtype=self.dtype_policy,
                name="pad",
            )
        else:
            self.pad = None
        # Grouped convs (IncepU) as one conv per group on TensorFlow, whose
        # grouped-conv gradient is slow on CPUs (see GroupedConv2D).
        conv_class = GroupedConv2D if groups > 1 else keras.layers.Conv2D
        self.conv = conv_class(
            filters * upsample_factor**2,
            kernel_size,
            strides=strides,
            padding="valid" if strides > 1 else "same",
            dilation_rate=dilation_rate,
            groups=groups,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name="conv",
        )
        self.shuffle = (
            PixelShuffle(upsample_factor, dtype=self.dtype_policy, name="shuffle")
            if upsample_factor > 1
            else None
        )
        self.norm = (
            keras.layers.GroupNormalization(
                norm_groups, epsilon=epsilon, dtype=self.dtype_policy, name="norm"
            )
            if norm_groups is not None
            else None
        )

    def build(self, input_shape):
        shape = tuple(input_shape)
        if self.pad is not None:
            self.pad.build(shape)
            shape = self.pad.compute_output_shape(shape)
        self.conv.build(shape)
        shape = self.conv.compute_output_shape(shape)
        if self.shuffle is not None:
            self.shuffle.build(shape)
            shape = self.shuffle.compute_output_shape(shape)
        if self.norm is not None:
            self.norm.build(shape)
        self.built = True

    def call(self, inputs):
        x = inputs
        if self.pad is not None:
            x = self.pad(x)
        x = self.conv(x)
        if self.shuffle is not None:
            x = self.shuffle(x)
        if self.norm is not None:
            x = self.norm(x)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.pad is not None:
            shape = self.pad.compute_output_shape(shape)
        shape = self.conv.compute_output_shape(shape)
        if self.shuffle is not None:
            shape = self.shuffle.compute_output_shape(shape)
        return shape

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "dilation_rate": self.dilation_rate,
            "groups": self.groups,
            "norm_groups": self.norm_groups,
            "activation": _serialize_activation(self.activation),
            "upsample_factor": self.upsample_factor,
            "epsilon": self.epsilon,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
