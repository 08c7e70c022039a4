"""The Vision Transformer block as a SimVP translator block."""

import keras
from keras import ops

from keras_svq.layers import MultiHeadSelfAttention
from zoo.translators.metaformer_block import MetaFormerBlock
from zoo.translators.translator_registry import register_meta_block


@keras.saving.register_keras_serializable(package="keras_svq")
class ViTBlock(MetaFormerBlock):
    """A pre-norm transformer block over the `H·W` positions of a map.

    ```
    x = x + drop_path(ls1 · attention(LN(x)))
    x = x + drop_path(ls2 · mlp(LN(x)))
    ```

    Every position of the `(B, H, W, C)` map is a token; attention is global
    (OpenSTL's `ViTSubBlock`, a timm ViT `Block` with 8 heads, qkv bias and
    LayerNorm epsilon 1e-5). Linears start from `TruncatedNormal(0.02)`,
    biases from zero (Keras cuts the normal at 2 standard deviations, torch's
    `trunc_normal_` at an absolute ±2: at std 0.02 the difference is
    negligible). The layer scales exist only when
    `layer_scale_init_value` is set (UniFormer's attention blocks); the ViT
    block has none. Subclasses change the token mixer by overriding
    `make_attention()` and `mix_tokens()` (see `SwinBlock`).

    Args:
        num_heads: int. Attention heads; must divide C. Defaults to 8.
        mlp_ratio: float. Hidden width of the MLP as a multiple of C.
            Defaults to 4.0.
        drop_rate: float. Dropout after the attention projection and in the
            MLP. Defaults to 0.0.
        drop_path_rate: float. Stochastic depth rate. Defaults to 0.1.
        layer_scale_init_value: float or None. Initial layer scale, or None
            for no layer scale. Defaults to None.
        epsilon: float. LayerNorm epsilon. Defaults to 1e-5.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    y = ViTBlock(num_heads=4, mlp_ratio=8.0)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Dosovitskiy et al., "An Image is Worth 16x16 Words: Transformers for
        Image Recognition at Scale", https://arxiv.org/abs/2010.11929
    """

    def __init__(
        self,
        num_heads=8,
        mlp_ratio=4.0,
        drop_rate=0.0,
        drop_path_rate=0.1,
        layer_scale_init_value=None,
        epsilon=1e-5,
        **kwargs,
    ):
        if (
            isinstance(num_heads, bool)
            or not isinstance(num_heads, int)
            or num_heads < 1
        ):
            raise ValueError(
                f"`num_heads` must be a positive integer. Received: num_heads={num_heads!r}"
            )
        super().__init__(
            mlp_ratio=mlp_ratio,
            drop_rate=drop_rate,
            drop_path_rate=drop_path_rate,
            layer_scale_init_value=layer_scale_init_value,
            **kwargs,
        )
        if not 0.0 <= drop_rate < 1.0:
            raise ValueError(
                f"`drop_rate` must be in [0, 1). Received: drop_rate={drop_rate}"
            )
        self.num_heads = num_heads
        self.epsilon = epsilon

    def make_norm(self, name):
        return keras.layers.LayerNormalization(
            epsilon=self.epsilon, name=name, dtype=self.dtype_policy
        )

    def make_attention(self, input_shape):
        """The token mixer; built by `build` on `(B, H·W, C)` tokens."""
        return MultiHeadSelfAttention(
            self.num_heads,
            dropout_rate=self.drop_rate,
            dtype=self.dtype_policy,
            name="attn",
        )

    def attention_input_shape(self, input_shape):
        _, height, width, dim = input_shape
        return (None, height * width, dim)

    def mix_tokens(self, x, training=None):
        """Attention over the positions of the normalised map `x` `(B, H, W, C)`."""
        _, height, width, dim = x.shape
        tokens = ops.reshape(x, (-1, height * width, dim))
        tokens = self.attn(tokens, training=training)
        return ops.reshape(tokens, (-1, height, width, dim))

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if None in input_shape[1:]:
            raise ValueError(
                f"{type(self).__name__} needs a static `(H, W, C)`. "
                f"Received: input_shape={input_shape}"
            )
        super().build(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "epsilon": self.epsilon,
        }


def _vit_factory(*, mlp_ratio, drop_rate, drop_path_rate, name, dtype=None, **unused):
    return ViTBlock(
        num_heads=8,
        mlp_ratio=mlp_ratio,
        drop_rate=drop_rate,
        drop_path_rate=drop_path_rate,
        name=name,
        dtype=dtype,
    )


register_meta_block("vit", _vit_factory)
