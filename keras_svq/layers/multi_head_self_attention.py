"""Multi-head self-attention over a token sequence, with a fused qkv projection."""

import keras
from keras import ops

from keras_svq.layers.remat import KeywordSafeRemat


@keras.saving.register_keras_serializable(package="keras_svq")
class MultiHeadSelfAttention(KeywordSafeRemat, keras.layers.Layer):
    """Scaled dot-product self-attention with `num_heads` heads.

    One Dense layer produces queries, keys and values together (`qkv`, width
    `3·C`, laid out `[q | k | v]` with heads contiguous inside each part, as
    the reference's `reshape(B, N, 3, heads, C // heads)`), and a Dense layer
    `proj` mixes the heads. Attention logits are scaled by `(C / heads)^-0.5`.
    The softmax runs in float32 under mixed precision. Subclasses add a bias
    to the logits by overriding `attention_bias()` (Swin's relative position
    bias, see `WindowAttention`).

    This is the attention of ViT and of UniFormer's MHSA blocks.

    Args:
        num_heads: int. Number of heads; must divide the input width C.
            Defaults to 8.
        use_qkv_bias: bool. Bias on the qkv projection. Defaults to True.
        attention_dropout_rate: float. Dropout on the attention weights.
            Defaults to 0.0.
        dropout_rate: float. Dropout after the output projection.
            Defaults to 0.0.
        kernel_initializer: initializer of both kernels. Defaults to
            `TruncatedNormal(stddev=0.02)`, the init of the reference blocks
            (Keras cuts at 2 std, torch's `trunc_normal_` at an absolute 2:
            at std 0.02 the difference is negligible).
        bias_initializer: Defaults to `"zeros"`.

    Call arguments:
        inputs: a tensor `(B, N, C)`.
        training: bool. Enables dropout.

    Input shape: `(B, N, C)`. Output shape: `(B, N, C)`.

    Example:

    ```python
    y = MultiHeadSelfAttention(num_heads=4)(np.zeros((2, 10, 16)))  # (2, 10, 16)
    ```

    Reference:
        Vaswani et al., "Attention Is All You Need",
        https://arxiv.org/abs/1706.03762; Dosovitskiy et al., "An Image is
        Worth 16x16 Words", https://arxiv.org/abs/2010.11929
    """

    def __init__(
        self,
        num_heads=8,
        use_qkv_bias=True,
        attention_dropout_rate=0.0,
        dropout_rate=0.0,
        kernel_initializer=None,
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (
            isinstance(num_heads, bool)
            or not isinstance(num_heads, int)
            or num_heads < 1
        ):
            raise ValueError(
                f"`num_heads` must be a positive integer. Received: num_heads={num_heads!r}"
            )
        for name, rate in (
            ("attention_dropout_rate", attention_dropout_rate),
            ("dropout_rate", dropout_rate),
        ):
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={rate}")
        self.num_heads = num_heads
        self.use_qkv_bias = use_qkv_bias
        self.attention_dropout_rate = attention_dropout_rate
        self.dropout_rate = dropout_rate
        self.kernel_initializer = keras.initializers.get(
            kernel_initializer or keras.initializers.TruncatedNormal(stddev=0.02)
        )
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim % self.num_heads:
            raise ValueError(
                "The input width must be divisible by `num_heads`. Received: "
                f"input width={dim}, num_heads={self.num_heads}"
            )
        common = dict(
            kernel_initializer=self.kernel_initializer,
            bias_initializer=self.bias_initializer,
            dtype=self.dtype_policy,
        )
        self.qkv = keras.layers.Dense(
            3 * dim, use_bias=self.use_qkv_bias, name="qkv", **common
        )
        self.proj = keras.layers.Dense(dim, name="proj", **common)
        self.attention_dropout = keras.layers.Dropout(
            self.attention_dropout_rate,
            dtype=self.dtype_policy,
            name="attention_dropout",
        )
        self.dropout = keras.layers.Dropout(
            self.dropout_rate, dtype=self.dtype_policy, name="dropout"
        )
        self.qkv.build(input_shape)
        self.proj.build(input_shape)
        self.built = True

    def attention_bias(self):
        """A tensor broadcastable to the logits `(B, heads, N, N)`, or None."""
        return None

    def call(self, inputs, training=None):
        tokens, dim = inputs.shape[-2], inputs.shape[-1]
        head_dim = dim // self.num_heads
        qkv = ops.reshape(self.qkv(inputs), (-1, tokens, 3, self.num_heads, head_dim))
        qkv = ops.transpose(qkv, (2, 0, 3, 1, 4))  # (3, B, heads, N, head_dim)
        query, key, value = qkv[0], qkv[1], qkv[2]
        query = query * ops.cast(head_dim**-0.5, query.dtype)
        logits = ops.matmul(query, ops.transpose(key, (0, 1, 3, 2)))
        logits = ops.cast(logits, "float32")
        bias = self.attention_bias()
        if bias is not None:
            logits = logits + ops.cast(bias, "float32")
        weights = ops.cast(ops.softmax(logits, axis=-1), inputs.dtype)
        weights = self.attention_dropout(weights, training=training)
        x = ops.matmul(weights, value)  # (B, heads, N, head_dim)
        x = ops.reshape(ops.transpose(x, (0, 2, 1, 3)), (-1, tokens, dim))
        return self.dropout(self.proj(x), training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "use_qkv_bias": self.use_qkv_bias,
            "attention_dropout_rate": self.attention_dropout_rate,
            "dropout_rate": self.dropout_rate,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
            "bias_initializer": keras.initializers.serialize(self.bias_initializer),
        }
