"""The transformer feed-forward network."""

import keras

from keras_svq.layers.conv_norm_act import _get_activation
from keras_svq.layers.conv_norm_act import _serialize_activation
from keras_svq.layers.remat import KeywordSafeRemat


@keras.saving.register_keras_serializable(package="keras_svq")
class MLP(KeywordSafeRemat, keras.layers.Layer):
    """`Dense -> activation -> Dropout -> Dense -> Dropout` on the last axis.

    timm's `Mlp`, the channel mixer of ViT, Swin, PoolFormer and the other
    MetaFormer translators. On a channels-last map `(B, H, W, C)` it equals a
    pair of 1x1 convolutions.

    Args:
        hidden_dim: int. Width of the hidden layer.
        output_dim: int. Output width; None keeps the input width.
            Defaults to None.
        activation: str or layer. Defaults to `"gelu"` (exact erf form, as
            `nn.GELU`).
        dropout_rate: float. Defaults to 0.0.
        kernel_initializer: Defaults to `TruncatedNormal(stddev=0.02)`, the
            init OpenSTL's MetaFormer blocks give their linears.
        bias_initializer: Defaults to `"zeros"`.

    Call arguments:
        inputs: a tensor `(..., C)`.
        training: bool. Enables dropout.

    Example:

    ```python
    y = MLP(64)(np.zeros((2, 10, 16)))  # (2, 10, 16)
    ```

    Reference:
        Dosovitskiy et al., "An Image is Worth 16x16 Words",
        https://arxiv.org/abs/2010.11929
    """

    def __init__(
        self,
        hidden_dim,
        output_dim=None,
        activation="gelu",
        dropout_rate=0.0,
        kernel_initializer=None,
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.output_dim = output_dim
        self.activation = _get_activation(activation, self.dtype_policy)
        self.dropout_rate = dropout_rate
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.TruncatedNormal(stddev=0.02)
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.fc1 = keras.layers.Dense(
            hidden_dim,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name="fc1",
        )
        self.dropout = keras.layers.Dropout(dropout_rate, dtype=self.dtype_policy)
        self.fc2 = None

    def build(self, input_shape):
        out = self.output_dim or input_shape[-1]
        self.fc2 = keras.layers.Dense(
            out,
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
            name="fc2",
        )
        self.fc1.build(input_shape)
        self.fc2.build(tuple(input_shape[:-1]) + (self.hidden_dim,))
        self.built = True

    def call(self, inputs, training=None):
        x = self.activation(self.fc1(inputs))
        x = self.dropout(x, training=training)
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
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
