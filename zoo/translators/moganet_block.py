"""The MogaNet block (multi-order gated aggregation) as a SimVP translator block."""

import keras
from keras import ops

from keras_svq.layers import MixMLP
from keras_svq.layers.mix_mlp import conv_fan_out_normal
from zoo.translators.metaformer_block import MetaFormerBlock
from zoo.translators.translator_registry import register_meta_block


def _feature_decompose(x, reference, sigma):
    """MogaNet's `x + sigma · (x - reference)`: re-weights what differs from `reference`."""
    return x + ops.cast(sigma, x.dtype) * (x - reference)


@keras.saving.register_keras_serializable(package="keras_svq")
class MultiOrderGatedAggregation(keras.layers.Layer):
    """MogaNet's spatial aggregation: a SiLU gate times multi-order depthwise convs.

    ```
    u = SiLU(decompose(1x1(x)))          # x + sigma · (x - mean_hw(x))
    v = 1x1(multi_order_dwconv(u))       # dilations 1, 2, 3 on channel splits
    out = 1x1(SiLU(1x1(u)) · SiLU(v)) + x
    ```

    The multi-order conv runs a 5x5 depthwise conv (dilation `dilations[0]`)
    on all channels, then a 5x5 (dilation `dilations[1]`) on the middle
    split and a 7x7 (dilation `dilations[2]`) on the last split of its
    output, the splits sized by `channel_split` (1:3:4 by default: C must be
    divisible by 8). Convs start from `N(0, sqrt(2 / fan_out))` with zero
    biases, `sigma` from 1e-5, as in the reference.

    Args:
        dilations: tuple of 3 ints in [1, 3]. Defaults to (1, 2, 3).
        channel_split: tuple of 3 ints. Defaults to (1, 3, 4).

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.

    Reference:
        Li et al., "MogaNet: Multi-order Gated Aggregation Network",
        https://arxiv.org/abs/2211.03295
    """

    def __init__(self, dilations=(1, 2, 3), channel_split=(1, 3, 4), **kwargs):
        super().__init__(**kwargs)
        dilations, channel_split = tuple(dilations), tuple(channel_split)
        if len(dilations) != 3 or not all(1 <= d <= 3 for d in dilations):
            raise ValueError(
                f"`dilations` must be 3 integers in [1, 3]. Received: dilations={dilations}"
            )
        if len(channel_split) != 3 or min(channel_split) < 1:
            raise ValueError(
                "`channel_split` must be 3 positive integers. "
                f"Received: channel_split={channel_split}"
            )
        self.dilations = dilations
        self.channel_split = channel_split

    def split_widths(self, dim):
        total = sum(self.channel_split)
        if dim % total:
            raise ValueError(
                f"The input width must be divisible by sum(channel_split) = {total}. "
                f"Received: width={dim}, channel_split={self.channel_split}"
            )
        middle = int(self.channel_split[1] / total * dim)
        last = int(self.channel_split[2] / total * dim)
        return dim - middle - last, middle, last

    def build(self, input_shape):
        dim = input_shape[-1]
        spatial = tuple(input_shape[:-1])
        _, middle, last = self.split_widths(dim)
        init = conv_fan_out_normal()
        common = dict(dtype=self.dtype_policy)

        def dense(name):
            return keras.layers.Dense(dim, kernel_initializer=init, name=name, **common)

        def depthwise(kernel, dilation, name):
            return keras.layers.DepthwiseConv2D(
                kernel,
                padding="same",
                dilation_rate=dilation,
                depthwise_initializer=init,
                name=name,
                **common,
            )

        self.proj_1 = dense("proj_1")
        self.gate = dense("gate")
        self.dw_conv0 = depthwise(5, self.dilations[0], "dw_conv0")
        self.dw_conv1 = depthwise(5, self.dilations[1], "dw_conv1")
        self.dw_conv2 = depthwise(7, self.dilations[2], "dw_conv2")
        self.pw_conv = dense("pw_conv")
        self.proj_2 = dense("proj_2")
        for layer in (self.proj_1, self.gate, self.dw_conv0, self.pw_conv, self.proj_2):
            layer.build(input_shape)
        self.dw_conv1.build(spatial + (middle,))
        self.dw_conv2.build(spatial + (last,))
        self.sigma = self.add_weight(
            name="sigma", shape=(dim,), initializer=keras.initializers.Constant(1e-5)
        )
        self.built = True

    def _multi_order(self, x):
        dim = x.shape[-1]
        first, middle, last = self.split_widths(dim)
        x0 = self.dw_conv0(x)
        x1 = self.dw_conv1(x0[..., first : first + middle])
        x2 = self.dw_conv2(x0[..., dim - last :])
        return self.pw_conv(ops.concatenate([x0[..., :first], x1, x2], axis=-1))

    def call(self, inputs):
        x = self.proj_1(inputs)
        x = ops.silu(
            _feature_decompose(x, ops.mean(x, axis=(1, 2), keepdims=True), self.sigma)
        )
        x = ops.silu(self.gate(x)) * ops.silu(self._multi_order(x))
        return self.proj_2(x) + inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "dilations": list(self.dilations),
            "channel_split": list(self.channel_split),
        }


@keras.saving.register_keras_serializable(package="keras_svq")
class ChannelAggregationFFN(MixMLP):
    """MogaNet's feed-forward network: `MixMLP` with channel aggregation.

    `1x1 -> 3x3 depthwise -> GELU -> Dropout -> aggregate -> 1x1 -> Dropout`,
    where `aggregate(h) = h + sigma · (h - GELU(1x1_to_1(h)))` re-weights each
    hidden channel against a learned one-channel summary (`sigma` starts at
    1e-5). Convs start from `N(0, sqrt(2 / fan_out))`.

    Args:
        hidden_dim: int. Hidden width.
        dropout_rate: float. Defaults to 0.0.
        depthwise_kernel_size: int. Defaults to 3.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Reference:
        Li et al., "MogaNet: Multi-order Gated Aggregation Network",
        https://arxiv.org/abs/2211.03295
    """

    def build(self, input_shape):
        super().build(input_shape)
        self.decompose = keras.layers.Dense(
            1,
            kernel_initializer=conv_fan_out_normal(),
            dtype=self.dtype_policy,
            name="decompose",
        )
        self.decompose.build(tuple(input_shape[:-1]) + (self.hidden_dim,))
        self.sigma = self.add_weight(
            name="sigma",
            shape=(self.hidden_dim,),
            initializer=keras.initializers.Constant(1e-5),
        )
        self.built = True

    def call(self, inputs, training=None):
        x = self.dwconv(self.fc1(inputs))
        x = self.dropout(self.activation(x), training=training)
        x = _feature_decompose(x, self.activation(self.decompose(x)), self.sigma)
        return self.dropout(self.fc2(x), training=training)


@keras.saving.register_keras_serializable(package="keras_svq")
class MogaNetBlock(MetaFormerBlock):
    """The MogaNet block (OpenSTL's `MogaSubBlock`).

    ```
    x = x + drop_path(ls1 · multi_order_gated_aggregation(BN(x)))
    x = x + drop_path(ls2 · channel_aggregation_ffn(BN(x)))
    ```

    BatchNorm uses PyTorch's epsilon 1e-5 and momentum 0.1; the layer scales
    start at 1e-5. C must be divisible by 8.

    Args:
        mlp_ratio: float. Hidden width of the FFN as a multiple of C.
            Defaults to 4.0.
        drop_rate: float. Dropout in the FFN. Defaults to 0.0.
        drop_path_rate: float. Stochastic depth rate. Defaults to 0.0.
        layer_scale_init_value: float. Defaults to 1e-5.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    y = MogaNetBlock(mlp_ratio=8.0)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Li et al., "MogaNet: Multi-order Gated Aggregation Network",
        https://arxiv.org/abs/2211.03295
    """

    def make_norm(self, name):
        return keras.layers.BatchNormalization(
            epsilon=1e-5, momentum=0.9, name=name, dtype=self.dtype_policy
        )

    def make_attention(self, input_shape):
        return MultiOrderGatedAggregation(name="attn", dtype=self.dtype_policy)

    def make_mlp(self, dim):
        return ChannelAggregationFFN(
            int(dim * self.mlp_ratio),
            dropout_rate=self.drop_rate,
            name="mlp",
            dtype=self.dtype_policy,
        )


def _moganet_factory(
    *, mlp_ratio, drop_rate, drop_path_rate, name, dtype=None, **unused
):
    return MogaNetBlock(
        mlp_ratio=mlp_ratio,
        drop_rate=drop_rate,
        drop_path_rate=drop_path_rate,
        name=name,
        dtype=dtype,
    )


register_meta_block("moganet", _moganet_factory)
