"""UniFormer's convolutional and self-attention blocks as SimVP translator blocks."""

import keras

from keras_svq.initializers import TorchUniform
from keras_svq.layers import MLP
from keras_svq.layers import DropPath
from keras_svq.layers.mix_mlp import conv_fan_out_normal
from zoo.translators.translator_registry import register_meta_block
from zoo.translators.vit_block import ViTBlock


def _position_embedding(kernel_initializer, bias_initializer, dtype):
    """UniFormer's conditional position encoding: a 3x3 depthwise conv."""
    return keras.layers.DepthwiseConv2D(
        3,
        padding="same",
        depthwise_initializer=kernel_initializer,
        bias_initializer=bias_initializer,
        dtype=dtype,
        name="pos_embed",
    )


@keras.saving.register_keras_serializable(package="keras_svq")
class UniformerConvBlock(keras.layers.Layer):
    """UniFormer's local (convolutional) block (`CBlock`).

    ```
    x = x + dwconv3x3(x)                                  # position encoding
    x = x + drop_path(1x1(dwconv5x5(1x1(BN(x)))))         # local token mixing
    x = x + drop_path(mlp(BN(x)))                         # 1x1-conv MLP
    ```

    BatchNorm uses PyTorch's epsilon 1e-5 and momentum 0.1. All convs start
    from `N(0, sqrt(2 / fan_out))` with zero biases, as in the reference.

    Args:
        mlp_ratio: float. Hidden width of the MLP as a multiple of C.
            Defaults to 4.0.
        drop_rate: float. Dropout in the MLP. Defaults to 0.0.
        drop_path_rate: float. Stochastic depth rate. Defaults to 0.0.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    y = UniformerConvBlock(mlp_ratio=8.0)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Li et al., "UniFormer: Unifying Convolution and Self-attention for
        Visual Recognition", https://arxiv.org/abs/2201.09450
    """

    def __init__(self, mlp_ratio=4.0, drop_rate=0.0, drop_path_rate=0.0, **kwargs):
        super().__init__(**kwargs)
        if mlp_ratio <= 0:
            raise ValueError(
                f"`mlp_ratio` must be positive. Received: mlp_ratio={mlp_ratio}"
            )
        self.mlp_ratio = mlp_ratio
        self.drop_rate = drop_rate
        self.drop_path_rate = drop_path_rate
        self.drop_path = DropPath(
            drop_path_rate, dtype=self.dtype_policy, name="drop_path"
        )

    def build(self, input_shape):
        dim = input_shape[-1]
        init = conv_fan_out_normal()
        common = dict(dtype=self.dtype_policy)
        self.pos_embed = _position_embedding(init, "zeros", self.dtype_policy)
        self.norm1 = keras.layers.BatchNormalization(
            epsilon=1e-5, momentum=0.9, name="norm1", **common
        )
        self.conv1 = keras.layers.Dense(
            dim, kernel_initializer=init, name="conv1", **common
        )
        self.attn = keras.layers.DepthwiseConv2D(
            5, padding="same", depthwise_initializer=init, name="attn", **common
        )
        self.conv2 = keras.layers.Dense(
            dim, kernel_initializer=init, name="conv2", **common
        )
        self.norm2 = keras.layers.BatchNormalization(
            epsilon=1e-5, momentum=0.9, name="norm2", **common
        )
        self.mlp = MLP(
            int(dim * self.mlp_ratio),
            dropout_rate=self.drop_rate,
            kernel_initializer=init,
            name="mlp",
            **common,
        )
        for layer in (
            self.pos_embed,
            self.norm1,
            self.conv1,
            self.attn,
            self.conv2,
            self.norm2,
            self.mlp,
        ):
            layer.build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        x = inputs + self.pos_embed(inputs)
        branch = self.conv2(self.attn(self.conv1(self.norm1(x, training=training))))
        x = x + self.drop_path(branch, training=training)
        branch = self.mlp(self.norm2(x, training=training), training=training)
        return x + self.drop_path(branch, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "mlp_ratio": self.mlp_ratio,
            "drop_rate": self.drop_rate,
            "drop_path_rate": self.drop_path_rate,
        }


@keras.saving.register_keras_serializable(package="keras_svq")
class UniformerAttentionBlock(ViTBlock):
    """UniFormer's global (self-attention) block (`SABlock`).

    A depthwise 3x3 position encoding `x = x + dwconv(x)` followed by a
    `ViTBlock` with layer scales (initial value 1e-6). The position conv keeps
    PyTorch's default init (`U(±1/sqrt(9))`), because the reference block's
    init only touches its linears and norms.

    Args:
        num_heads: int. Defaults to 8.
        mlp_ratio: float. Defaults to 4.0.
        drop_rate: float. Defaults to 0.0.
        drop_path_rate: float. Defaults to 0.0.
        layer_scale_init_value: float. Defaults to 1e-6.
        epsilon: float. LayerNorm epsilon. Defaults to 1e-5.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    y = UniformerAttentionBlock(mlp_ratio=8.0)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Li et al., "UniFormer: Unifying Convolution and Self-attention for
        Visual Recognition", https://arxiv.org/abs/2201.09450
    """

    def __init__(
        self, num_heads=8, drop_path_rate=0.0, layer_scale_init_value=1e-6, **kwargs
    ):
        super().__init__(
            num_heads=num_heads,
            drop_path_rate=drop_path_rate,
            layer_scale_init_value=layer_scale_init_value,
            **kwargs,
        )

    def build(self, input_shape):
        torch_default = TorchUniform(fan_in=9)
        self.pos_embed = _position_embedding(
            torch_default, torch_default, self.dtype_policy
        )
        self.pos_embed.build(input_shape)
        super().build(input_shape)

    def call(self, inputs, training=None):
        return super().call(inputs + self.pos_embed(inputs), training=training)


def _uniformer_factory(
    *,
    mlp_ratio,
    drop_rate,
    drop_path_rate,
    layer_index,
    input_dim,
    output_dim,
    name,
    dtype=None,
    **unused,
):
    # OpenSTL's MetaBlock: self-attention where the width is kept, except
    # in the first block; convolution in the blocks that change the width.
    if input_dim == output_dim and layer_index > 0:
        return UniformerAttentionBlock(
            num_heads=8,
            mlp_ratio=mlp_ratio,
            drop_rate=drop_rate,
            drop_path_rate=drop_path_rate,
            name=name,
            dtype=dtype,
        )
    return UniformerConvBlock(
        mlp_ratio=mlp_ratio,
        drop_rate=drop_rate,
        drop_path_rate=drop_path_rate,
        name=name,
        dtype=dtype,
    )


register_meta_block("uniformer", _uniformer_factory)
