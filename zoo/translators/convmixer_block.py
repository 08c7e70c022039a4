"""The ConvMixer block as a SimVP translator block."""

import keras
from keras import ops

from keras_svq.layers.mix_mlp import conv_fan_out_normal
from zoo.translators.translator_registry import register_meta_block


@keras.saving.register_keras_serializable(package="keras_svq")
class ConvMixerBlock(keras.layers.Layer):
    """A ConvMixer block: depthwise spatial mixing, then pointwise channel mixing.

    ```
    x = x + BN(GELU(dwconv_k×k(x)))
    x = BN(GELU(1x1(x)))
    ```

    The channel mixing has no residual connection, as in ConvMixer. The
    block has no MLP ratio, dropout or stochastic depth. BatchNorm uses
    PyTorch's epsilon 1e-5 and momentum 0.1; convs start from
    `N(0, sqrt(2 / fan_out))` with zero biases (OpenSTL's `ConvMixerSubBlock`).

    Args:
        kernel_size: int. Odd kernel of the depthwise conv. Defaults to 9.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    y = ConvMixerBlock(kernel_size=11)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Trockman & Kolter, "Patches Are All You Need?",
        https://arxiv.org/abs/2201.09792
    """

    def __init__(self, kernel_size=9, **kwargs):
        super().__init__(**kwargs)
        if (
            isinstance(kernel_size, bool)
            or not isinstance(kernel_size, int)
            or (kernel_size < 1 or kernel_size % 2 == 0)
        ):
            raise ValueError(
                f"`kernel_size` must be a positive odd integer. Received: kernel_size={kernel_size!r}"
            )
        self.kernel_size = kernel_size

    def build(self, input_shape):
        dim = input_shape[-1]
        init = conv_fan_out_normal()
        common = dict(dtype=self.dtype_policy)
        self.conv_dw = keras.layers.DepthwiseConv2D(
            self.kernel_size,
            padding="same",
            depthwise_initializer=init,
            name="conv_dw",
            **common,
        )
        self.norm_1 = keras.layers.BatchNormalization(
            epsilon=1e-5, momentum=0.9, name="norm_1", **common
        )
        self.conv_pw = keras.layers.Dense(
            dim, kernel_initializer=init, name="conv_pw", **common
        )
        self.norm_2 = keras.layers.BatchNormalization(
            epsilon=1e-5, momentum=0.9, name="norm_2", **common
        )
        for layer in (self.conv_dw, self.norm_1, self.conv_pw, self.norm_2):
            layer.build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        branch = ops.gelu(self.conv_dw(inputs), approximate=False)
        x = inputs + self.norm_1(branch, training=training)
        x = ops.gelu(self.conv_pw(x), approximate=False)
        return self.norm_2(x, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}


def _convmixer_factory(*, name, dtype=None, **unused):
    # OpenSTL's MetaBlock builds ConvMixer with an 11x11 kernel and passes
    # neither the MLP ratio nor the drop rates.
    return ConvMixerBlock(kernel_size=11, name=name, dtype=dtype)


register_meta_block("convmixer", _convmixer_factory)
