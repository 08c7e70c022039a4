"""The PoolFormer block as a SimVP translator block."""

import keras
from keras import ops

from zoo.translators.metaformer_block import MetaFormerBlock
from zoo.translators.translator_registry import register_meta_block


@keras.saving.register_keras_serializable(package="keras_svq")
class PoolFormerBlock(MetaFormerBlock):
    """A PoolFormer block: average pooling as the token mixer.

    ```
    x = x + drop_path(ls1 · (avg_pool(GN(x)) - GN(x)))
    x = x + drop_path(ls2 · mlp(GN(x)))
    ```

    `GN` is a one-group GroupNorm (epsilon 1e-5); the pooling is stride 1
    with `pool_size // 2` padding that is excluded from the averages; the MLP
    is two 1x1 convs starting from `TruncatedNormal(0.02)`; the layer scales
    start at 1e-5 (OpenSTL's `PoolFormerSubBlock`).

    Args:
        pool_size: int. Odd pooling window. Defaults to 3.
        mlp_ratio: float. Hidden width of the MLP as a multiple of C.
            Defaults to 4.0.
        drop_rate: float. Dropout in the MLP. Defaults to 0.0.
        drop_path_rate: float. Stochastic depth rate. Defaults to 0.1.
        layer_scale_init_value: float. Defaults to 1e-5.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    y = PoolFormerBlock(mlp_ratio=8.0)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Yu et al., "MetaFormer Is Actually What You Need for Vision",
        https://arxiv.org/abs/2111.11418
    """

    def __init__(
        self,
        pool_size=3,
        mlp_ratio=4.0,
        drop_rate=0.0,
        drop_path_rate=0.1,
        layer_scale_init_value=1e-5,
        **kwargs,
    ):
        if (
            isinstance(pool_size, bool)
            or not isinstance(pool_size, int)
            or (pool_size < 1 or pool_size % 2 == 0)
        ):
            raise ValueError(
                f"`pool_size` must be a positive odd integer. Received: pool_size={pool_size!r}"
            )
        super().__init__(
            mlp_ratio=mlp_ratio,
            drop_rate=drop_rate,
            drop_path_rate=drop_path_rate,
            layer_scale_init_value=layer_scale_init_value,
            **kwargs,
        )
        self.pool_size = pool_size

    def make_norm(self, name):
        return keras.layers.GroupNormalization(
            1, epsilon=1e-5, name=name, dtype=self.dtype_policy
        )

    def make_attention(self, input_shape):
        return None

    def mix_tokens(self, x, training=None):
        # "same" average pooling excludes the padding from each average, as
        # torch's `count_include_pad=False`.
        return ops.average_pool(x, self.pool_size, strides=1, padding="same") - x

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}


def _poolformer_factory(
    *, mlp_ratio, drop_rate, drop_path_rate, name, dtype=None, **unused
):
    return PoolFormerBlock(
        pool_size=3,
        mlp_ratio=mlp_ratio,
        drop_rate=drop_rate,
        drop_path_rate=drop_path_rate,
        name=name,
        dtype=dtype,
    )


register_meta_block("poolformer", _poolformer_factory)
