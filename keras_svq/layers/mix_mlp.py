"""The convolutional feed-forward network of VAN, gSTA and TAU."""

import keras
from keras import ops

from keras_svq.layers.conv_norm_act import _get_activation
from keras_svq.layers.conv_norm_act import _serialize_activation
from keras_svq.layers.remat import KeywordSafeRemat


def conv_fan_out_normal():
    """`N(0, sqrt(2 / fan_out))`: the conv init of VAN and OpenSTL's blocks.

    Keras computes the fan-out of a `(kh, kw, in, out)` kernel, a depthwise
    `(kh, kw, C, 1)` kernel and a Dense `(in, out)` kernel exactly as
    OpenSTL's `kh·kw·out / groups`.
    """
    return keras.initializers.VarianceScaling(
        scale=2.0, mode="fan_out", distribution="untruncated_normal"
    )


_SQRT_2 = 1.4142135623730951
_INV_SQRT_2PI = 0.3989422804014327


def _gelu_forward(x):
    return 0.5 * x * (1.0 + ops.erf(x / _SQRT_2))


def _gelu_derivative(x):
    return (
        0.5 * (1.0 + ops.erf(x / _SQRT_2)) + x * ops.exp(-0.5 * x * x) * _INV_SQRT_2PI
    )


def _upstream(args, upstream):
    return args[0] if upstream is None else upstream


@ops.custom_gradient
def gelu_exact(x):
    """Exact (erf) GELU whose backward pass keeps only `x`.

    Same values as `ops.gelu(x, approximate=False)`. Composed from `erf` and
    products, autodiff would keep four tensors of x's size until the backward
    pass (PyTorch's fused GELU keeps one); here the derivative is recomputed
    from `x`.
    """

    def grad(*args, upstream=None):
        return _upstream(args, upstream) * _gelu_derivative(x)

    return _gelu_forward(x), grad


@ops.custom_gradient
def gelu_dense(h, kernel, bias):
    """`gelu_exact(h) @ kernel + bias`, keeping only `h` for the backward pass.

    The GELU output, the widest tensor of an MLP, is recomputed when the
    gradient needs it instead of being held from the forward pass to the
    backward pass. Nothing in that recomputation depends on the gradient, so
    TensorFlow may still run it early and hold its result; `MixMLP` calls
    this under `keras.remat` in training, which defers it to the backward
    pass.
    """
    y = ops.matmul(_gelu_forward(h), kernel) + bias

    def grad(*args, upstream=None):
        dy = _upstream(args, upstream)
        g = ops.reshape(_gelu_forward(h), (-1, h.shape[-1]))
        dy2 = ops.reshape(dy, (-1, dy.shape[-1]))
        d_kernel = ops.matmul(ops.transpose(g), dy2)
        d_bias = ops.sum(dy2, axis=0)
        dh = ops.matmul(dy, ops.transpose(kernel)) * _gelu_derivative(h)
        return dh, d_kernel, d_bias

    return y, grad


@keras.saving.register_keras_serializable(package="keras_svq")
class MixMLP(KeywordSafeRemat, keras.layers.Layer):
    """`1x1 conv -> 3x3 depthwise conv -> activation -> Dropout -> 1x1 conv -> Dropout`.

    The feed-forward network of VAN (`MixMlp`), used by SimVP's gSTA and TAU
    blocks. The 1x1 convolutions are Dense layers on the channels-last axis.

    Args:
        hidden_dim: int. Hidden width.
        output_dim: int. Output width; None keeps the input width.
            Defaults to None.
        activation: str or layer. Defaults to `"gelu"` (exact).
        dropout_rate: float. Defaults to 0.0.
        depthwise_kernel_size: int. Defaults to 3.
        recompute_hidden: bool. In training, keep only fc1's output for the
            backward pass and recompute the depthwise conv and the GELU there
            (`keras.remat`): the same values and gradients, two hidden-width
            tensors fewer held per block, for a recomputation that costs
            little next to the two 1x1 convs. Applies when nothing random
            sits between fc1 and fc2 (no dropout in training) and the
            activation is the exact GELU. Defaults to True.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool. Enables dropout.

    Example:

    ```python
    y = MixMLP(64)(np.zeros((2, 8, 8, 16)))  # (2, 8, 8, 16)
    ```

    Reference:
        Guo et al., "Visual Attention Network", https://arxiv.org/abs/2202.09741
    """

    def __init__(
        self,
        hidden_dim,
        output_dim=None,
        activation="gelu",
        dropout_rate=0.0,
        depthwise_kernel_size=3,
        recompute_hidden=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.recompute_hidden = recompute_hidden
        self.output_dim = output_dim
        self.activation = _get_activation(activation, self.dtype_policy)
        self.dropout_rate = dropout_rate
        self.depthwise_kernel_size = depthwise_kernel_size
        init = conv_fan_out_normal()
        self.fc1 = keras.layers.Dense(
            hidden_dim, kernel_initializer=init, dtype=self.dtype_policy, name="fc1"
        )
        self.dwconv = keras.layers.DepthwiseConv2D(
            depthwise_kernel_size,
            padding="same",
            depthwise_initializer=init,
            dtype=self.dtype_policy,
            name="dwconv",
        )
        self.dropout = keras.layers.Dropout(dropout_rate, dtype=self.dtype_policy)
        self.fc2 = None

    def build(self, input_shape):
        self.fc2 = keras.layers.Dense(
            self.output_dim or input_shape[-1],
            kernel_initializer=conv_fan_out_normal(),
            dtype=self.dtype_policy,
            name="fc2",
        )
        hidden_shape = tuple(input_shape[:-1]) + (self.hidden_dim,)
        self.fc1.build(input_shape)
        self.dwconv.build(hidden_shape)
        self.fc2.build(hidden_shape)
        self.built = True

    def _fuses_gelu(self, training):
        # The exact GELU followed by fc2 runs as one `gelu_dense` (same
        # values, ~1 GiB less peak memory for SimVP-gSTA at batch 16 on the
        # t2m shape) unless a dropout sits between them, or fc2 was quantized
        # (`model.quantize("int8")`: its kernel is then integers and a scale
        # that only Dense's own call applies).
        return (
            self.activation is keras.activations.gelu
            and (not self.dropout_rate or not training)
            and self.fc2.use_bias
            and self.fc2.activation is keras.activations.linear
            and self.fc2.quantization_mode is None
        )

    def _hidden_to_output(self, x):
        # dwconv -> GELU -> fc2; `gelu_dense` keeps the depthwise conv's
        # output, and under `keras.remat` only this function's input is kept.
        x = self.dwconv(x)
        kernel = ops.cast(self.fc2.kernel, x.dtype)
        bias = ops.cast(self.fc2.bias, x.dtype)
        return gelu_dense(x, kernel, bias)

    def call(self, inputs, training=None):
        x = self.fc1(inputs)
        if self._fuses_gelu(training):
            tail = self._hidden_to_output
            if training and self.recompute_hidden:
                tail = keras.remat(tail)
            return self.dropout(tail(x), training=training)
        x = self.dwconv(x)
        x = self.dropout(self.activation(x), training=training)
        x = self.fc2(x)
        return self.dropout(x, training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim or input_shape[-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "output_dim": self.output_dim,
            "activation": _serialize_activation(self.activation),
            "dropout_rate": self.dropout_rate,
            "depthwise_kernel_size": self.depthwise_kernel_size,
            "recompute_hidden": self.recompute_hidden,
        }
