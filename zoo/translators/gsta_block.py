"""SimVP v2's gated spatio-temporal attention (gSTA) block."""

import keras
from keras import ops

from keras_svq.layers import MixMLP
from keras_svq.layers import TorchBatchNormalization
from keras_svq.layers.mix_mlp import conv_fan_out_normal
from keras_svq.layers.mix_mlp import gelu_exact
from zoo.translators.metaformer_block import MetaFormerBlock
from zoo.translators.translator_registry import register_meta_block


def large_kernel_sizes(kernel_size, dilation):
    """Kernels of the decomposed large-kernel convolution (VAN's LKA).

    A `kernel_size` receptive field is split into a `(2·dilation - 1)`
    depthwise conv and a depthwise conv of odd size `~kernel_size / dilation`
    with the given dilation. Returns `(local_kernel, dilated_kernel)`.
    """
    dilated = kernel_size // dilation
    dilated += dilated % 2 - 1
    return 2 * dilation - 1, dilated


@keras.saving.register_keras_serializable(package="keras_svq")
class GatedSpatialAttention(keras.layers.Layer):
    """gSTA's attention: a large-kernel conv whose output gates itself.

    `x -> 1x1 -> GELU -> dw k×k -> dilated dw -> 1x1 (2C) -> sigmoid(g)·f ->
    1x1`, plus a shortcut from the input.

    Args:
        kernel_size: int. Receptive field of the decomposed large kernel.
            Defaults to 21.
        dilation: int. Dilation of the large depthwise conv. Defaults to 3.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
    """

    def __init__(self, kernel_size=21, dilation=3, **kwargs):
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.dilation = dilation

    def _gating_output_dim(self, dim):
        return 2 * dim

    def build(self, input_shape):
        dim = input_shape[-1]
        init = conv_fan_out_normal()
        local, dilated = large_kernel_sizes(self.kernel_size, self.dilation)
        common = dict(dtype=self.dtype_policy)
        self.proj_1 = keras.layers.Dense(
            dim, kernel_initializer=init, name="proj_1", **common
        )
        self.conv0 = keras.layers.DepthwiseConv2D(
            local,
            padding="same",
            depthwise_initializer=init,
            name="conv0",
            **common,
        )
        self.conv_spatial = keras.layers.DepthwiseConv2D(
            dilated,
            padding="same",
            dilation_rate=self.dilation,
            depthwise_initializer=init,
            name="conv_spatial",
            **common,
        )
        self.conv1 = keras.layers.Dense(
            self._gating_output_dim(dim),
            kernel_initializer=init,
            name="conv1",
            **common,
        )
        self.proj_2 = keras.layers.Dense(
            dim, kernel_initializer=init, name="proj_2", **common
        )
        for layer, width in (
            (self.proj_1, dim),
            (self.conv0, dim),
            (self.conv_spatial, dim),
            (self.conv1, dim),
        ):
            layer.build(tuple(input_shape[:-1]) + (width,))
        self.proj_2.build(tuple(input_shape[:-1]) + (dim,))
        self.built = True

    def _gate(self, u):
        attn = self.conv1(self.conv_spatial(self.conv0(u)))
        f, g = ops.split(attn, 2, axis=-1)
        return ops.sigmoid(g) * f

    def call(self, inputs):
        # gelu_exact: ops.gelu's values, keeping only its input for backprop.
        u = gelu_exact(self.proj_1(inputs))
        return self.proj_2(self._gate(u)) + inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "kernel_size": self.kernel_size,
            "dilation": self.dilation,
        }


@keras.saving.register_keras_serializable(package="keras_svq")
class GSTABlock(MetaFormerBlock):
    """The gSTA MetaFormer block of SimVP v2 (OpenSTL's `GASubBlock`).

    ```
    x = x + drop_path(ls1 · attention(BN(x)))
    x = x + drop_path(ls2 · mix_mlp(BN(x)))
    ```

    The attention's shortcut adds its own (normalised) input, as the
    reference does. BatchNorm uses PyTorch's epsilon 1e-5 and momentum 0.1
    (Keras momentum 0.9), and its moving statistics stay identical across
    replicas under `tf.distribute` (`TorchBatchNormalization`). Convs start
    from `N(0, sqrt(2 / fan_out))`, the layer scales from
    `layer_scale_init_value`, as in the reference.

    Args:
        kernel_size: int. Large-kernel receptive field. Defaults to 21.
        mlp_ratio: float. Hidden width of the MLP as a multiple of C.
            Defaults to 4.0.
        drop_rate: float. Dropout in the MLP. Defaults to 0.0.
        drop_path_rate: float. Stochastic depth rate. Defaults to 0.1.
        layer_scale_init_value: float. Defaults to 1e-2.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    y = GSTABlock(mlp_ratio=8.0)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Tan et al., "SimVP: Towards Simple yet Powerful Spatiotemporal
        Predictive Learning", https://arxiv.org/abs/2211.12509
    """

    attention_class = GatedSpatialAttention
    # gSTA creates its stochastic depth layer after its MLP: this keeps the
    # seeds (and so the seeded initial weights) of existing models.
    create_drop_path_in_build = True

    def __init__(
        self,
        kernel_size=21,
        mlp_ratio=4.0,
        drop_rate=0.0,
        drop_path_rate=0.1,
        layer_scale_init_value=1e-2,
        **kwargs,
    ):
        super().__init__(
            mlp_ratio=mlp_ratio,
            drop_rate=drop_rate,
            drop_path_rate=drop_path_rate,
            layer_scale_init_value=layer_scale_init_value,
            **kwargs,
        )
        self.kernel_size = kernel_size

    def make_norm(self, name):
        return TorchBatchNormalization(name=name, dtype=self.dtype_policy)

    def make_attention(self, input_shape):
        return self.attention_class(
            self.kernel_size, name="attn", dtype=self.dtype_policy
        )

    def make_mlp(self, dim):
        return MixMLP(
            int(dim * self.mlp_ratio),
            dropout_rate=self.drop_rate,
            name="mlp",
            dtype=self.dtype_policy,
        )

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}


def _gsta_factory(*, mlp_ratio, drop_rate, drop_path_rate, name, dtype=None, **unused):
    return GSTABlock(
        kernel_size=21,
        mlp_ratio=mlp_ratio,
        drop_rate=drop_rate,
        drop_path_rate=drop_path_rate,
        name=name,
        dtype=dtype,
    )


register_meta_block("gsta", _gsta_factory)
