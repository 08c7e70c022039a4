"""The ConvNeXt block as a SimVP translator block."""

import keras

from keras_svq.layers import MLP
from keras_svq.layers import DropPath
from keras_svq.layers import LayerScale
from keras_svq.layers.mix_mlp import conv_fan_out_normal
from zoo.translators.translator_registry import register_meta_block


@keras.saving.register_keras_serializable(package="keras_svq")
class ConvNeXtBlock(keras.layers.Layer):
    """A ConvNeXt block.

    ```
    x = x + drop_path(gamma · mlp(LN(dwconv_7×7(x))))
    ```

    LayerNorm over channels with epsilon 1e-6, a GELU MLP of 1x1 convs
    (`mlp_ratio`), a layer scale `gamma` starting at 1e-6 (OpenSTL's
    `ConvNeXtSubBlock`, a timm `ConvNeXtBlock` with `conv_mlp=True`). Convs
    start from `N(0, sqrt(2 / fan_out))` with zero biases. Like the
    reference, the block has no dropout.

    Args:
        kernel_size: int. Odd kernel of the depthwise conv. Defaults to 7.
        mlp_ratio: float. Hidden width of the MLP as a multiple of C.
            Defaults to 4.0.
        drop_path_rate: float. Stochastic depth rate. Defaults to 0.1.
        layer_scale_init_value: float. Defaults to 1e-6.
        epsilon: float. LayerNorm epsilon. Defaults to 1e-6.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    y = ConvNeXtBlock(mlp_ratio=8.0)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Liu et al., "A ConvNet for the 2020s", https://arxiv.org/abs/2201.03545
    """

    def __init__(
        self,
        kernel_size=7,
        mlp_ratio=4.0,
        drop_path_rate=0.1,
        layer_scale_init_value=1e-6,
        epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (
            isinstance(kernel_size, bool)
            or not isinstance(kernel_size, int)
            or (kernel_size < 1 or kernel_size % 2 == 0)
        ):
            raise ValueError(
                f"`kernel_size` must be a positive odd integer. Received: kernel_size={kernel_size!r}"
            )
        if mlp_ratio <= 0:
            raise ValueError(
                f"`mlp_ratio` must be positive. Received: mlp_ratio={mlp_ratio}"
            )
        self.kernel_size = kernel_size
        self.mlp_ratio = mlp_ratio
        self.drop_path_rate = drop_path_rate
        self.layer_scale_init_value = layer_scale_init_value
        self.epsilon = epsilon
        self.drop_path = DropPath(
            drop_path_rate, dtype=self.dtype_policy, name="drop_path"
        )

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
        self.norm = keras.layers.LayerNormalization(
            epsilon=self.epsilon, name="norm", **common
        )
        self.mlp = MLP(
            int(dim * self.mlp_ratio), kernel_initializer=init, name="mlp", **common
        )
        self.gamma = LayerScale(self.layer_scale_init_value, name="gamma", **common)
        for layer in (self.conv_dw, self.norm, self.mlp, self.gamma):
            layer.build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        branch = self.mlp(self.norm(self.conv_dw(inputs)), training=training)
        return inputs + self.drop_path(self.gamma(branch), training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "mlp_ratio": self.mlp_ratio,
            "drop_path_rate": self.drop_path_rate,
            "layer_scale_init_value": self.layer_scale_init_value,
            "epsilon": self.epsilon,
        }


def _convnext_factory(*, mlp_ratio, drop_path_rate, name, dtype=None, **unused):
    # The reference accepts `drop` but never uses it.
    return ConvNeXtBlock(
        mlp_ratio=mlp_ratio, drop_path_rate=drop_path_rate, name=name, dtype=dtype
    )


register_meta_block("convnext", _convnext_factory)
