"""The HorNet block (recursive gated convolution) as a SimVP translator block."""

import keras

from keras_svq.layers import MLP
from keras_svq.layers import DropPath
from keras_svq.layers import LayerScale
from keras_svq.layers.mix_mlp import conv_fan_out_normal
from zoo.translators.translator_registry import register_meta_block


@keras.saving.register_keras_serializable(package="keras_svq")
class RecursiveGatedConv(keras.layers.Layer):
    """HorNet's recursive gated convolution (`gnconv`) of order n.

    The widths `C/2^(n-1), ..., C/2, C` are gated in turn: a 1x1 conv makes
    `p0` (width `C/2^(n-1)`) and the features `q` (all widths together), a
    depthwise conv mixes `q` spatially and splits it into `q0, ..., q(n-1)`;
    then `p(k+1) = 1x1(pk) · qk+1` with `p0 <- p0 · q0`, and a final 1x1 conv.
    C must be divisible by `2^(n-1)`. Convs start from `N(0, sqrt(2 /
    fan_out))` with zero biases, as in the reference.

    Args:
        order: int. Number of gating steps n. Defaults to 5.
        kernel_size: int. Odd kernel of the depthwise conv. Defaults to 7.
        scale: float. Multiplier on the depthwise conv's output.
            Defaults to 1.0.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.

    Reference:
        Rao et al., "HorNet: Efficient High-Order Spatial Interactions with
        Recursive Gated Convolutions", https://arxiv.org/abs/2207.14284
    """

    def __init__(self, order=5, kernel_size=7, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ValueError(
                f"`order` must be a positive integer. Received: order={order!r}"
            )
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(
                f"`kernel_size` must be a positive odd integer. Received: kernel_size={kernel_size}"
            )
        self.order = order
        self.kernel_size = kernel_size
        self.scale = scale

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim % 2 ** (self.order - 1):
            raise ValueError(
                f"The input width must be divisible by 2**(order - 1) = "
                f"{2 ** (self.order - 1)}. Received: width={dim}, order={self.order}"
            )
        self.dims = [dim // 2**i for i in range(self.order)][::-1]
        init = conv_fan_out_normal()
        common = dict(kernel_initializer=init, dtype=self.dtype_policy)
        spatial = tuple(input_shape[:-1])
        self.proj_in = keras.layers.Dense(2 * dim, name="proj_in", **common)
        self.dwconv = keras.layers.DepthwiseConv2D(
            self.kernel_size,
            padding="same",
            depthwise_initializer=init,
            dtype=self.dtype_policy,
            name="dwconv",
        )
        self.proj_out = keras.layers.Dense(dim, name="proj_out", **common)
        self.pws = [
            keras.layers.Dense(self.dims[i + 1], name=f"pws_{i}", **common)
            for i in range(self.order - 1)
        ]
        self.proj_in.build(input_shape)
        self.dwconv.build(spatial + (sum(self.dims),))
        self.proj_out.build(input_shape)
        for i, layer in enumerate(self.pws):
            layer.build(spatial + (self.dims[i],))
        self.built = True

    def call(self, inputs):
        fused = self.proj_in(inputs)
        first = self.dims[0]
        x = fused[..., :first]
        gates = self.dwconv(fused[..., first:])
        if self.scale != 1.0:
            gates = gates * self.scale
        start = 0
        for i, width in enumerate(self.dims):
            gate = gates[..., start : start + width]
            x = gate * (x if i == 0 else self.pws[i - 1](x))
            start += width
        return self.proj_out(x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "order": self.order,
            "kernel_size": self.kernel_size,
            "scale": self.scale,
        }


@keras.saving.register_keras_serializable(package="keras_svq")
class HorNetBlock(keras.layers.Layer):
    """The HorNet block (OpenSTL's `HorNetSubBlock`).

    ```
    x = x + drop_path(gamma1 · gnconv(LN(x)))
    x = x + drop_path(gamma2 · mlp(LN(x)))
    ```

    LayerNorms with epsilon 1e-6, an order-4 `RecursiveGatedConv`, a GELU
    MLP whose linears start from `TruncatedNormal(0.02)`, layer scales
    starting at 1e-6. No dropout, as in the reference.

    Args:
        order: int. Order of the gated conv; C must be divisible by
            `2^(order-1)`. Defaults to 4.
        mlp_ratio: float. Hidden width of the MLP as a multiple of C.
            Defaults to 4.0.
        drop_path_rate: float. Stochastic depth rate. Defaults to 0.1.
        layer_scale_init_value: float. Defaults to 1e-6.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    y = HorNetBlock(mlp_ratio=8.0)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Rao et al., "HorNet: Efficient High-Order Spatial Interactions with
        Recursive Gated Convolutions", https://arxiv.org/abs/2207.14284
    """

    def __init__(
        self,
        order=4,
        mlp_ratio=4.0,
        drop_path_rate=0.1,
        layer_scale_init_value=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if mlp_ratio <= 0:
            raise ValueError(
                f"`mlp_ratio` must be positive. Received: mlp_ratio={mlp_ratio}"
            )
        self.order = order
        self.mlp_ratio = mlp_ratio
        self.drop_path_rate = drop_path_rate
        self.layer_scale_init_value = layer_scale_init_value
        self.gnconv = RecursiveGatedConv(order, dtype=self.dtype_policy, name="gnconv")
        self.drop_path = DropPath(
            drop_path_rate, dtype=self.dtype_policy, name="drop_path"
        )

    def build(self, input_shape):
        dim = input_shape[-1]
        common = dict(dtype=self.dtype_policy)
        self.norm1 = keras.layers.LayerNormalization(
            epsilon=1e-6, name="norm1", **common
        )
        self.norm2 = keras.layers.LayerNormalization(
            epsilon=1e-6, name="norm2", **common
        )
        self.mlp = MLP(int(dim * self.mlp_ratio), name="mlp", **common)
        self.gamma1 = LayerScale(self.layer_scale_init_value, name="gamma1", **common)
        self.gamma2 = LayerScale(self.layer_scale_init_value, name="gamma2", **common)
        for layer in (
            self.norm1,
            self.gnconv,
            self.norm2,
            self.mlp,
            self.gamma1,
            self.gamma2,
        ):
            layer.build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        branch = self.gamma1(self.gnconv(self.norm1(inputs)))
        x = inputs + self.drop_path(branch, training=training)
        branch = self.gamma2(self.mlp(self.norm2(x), training=training))
        return x + self.drop_path(branch, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "order": self.order,
            "mlp_ratio": self.mlp_ratio,
            "drop_path_rate": self.drop_path_rate,
            "layer_scale_init_value": self.layer_scale_init_value,
        }


def _hornet_factory(*, mlp_ratio, drop_path_rate, name, dtype=None, **unused):
    # The reference passes no dropout to HorNet.
    return HorNetBlock(
        order=4,
        mlp_ratio=mlp_ratio,
        drop_path_rate=drop_path_rate,
        name=name,
        dtype=dtype,
    )


register_meta_block("hornet", _hornet_factory)
