"""The MLP-Mixer block as a SimVP translator block."""

import keras
from keras import ops

from keras_svq.layers import MLP
from keras_svq.layers import DropPath
from zoo.translators.translator_registry import register_meta_block


@keras.saving.register_keras_serializable(package="keras_svq")
class MLPMixerBlock(keras.layers.Layer):
    """An MLP-Mixer block: an MLP across positions, then an MLP across channels.

    ```
    x = x + drop_path(token_mlp(LN(x)ᵀ)ᵀ)     # mixes the H·W positions
    x = x + drop_path(channel_mlp(LN(x)))     # mixes the C channels
    ```

    The token MLP maps the `H·W` positions of each channel through a hidden
    layer of width `int(token_mlp_ratio · C)` (timm's `MixerBlock` sizes both
    hidden layers from C), so its weights depend on the map size: the block
    is tied to the resolution it was built for. LayerNorms use epsilon 1e-6;
    linears start from `TruncatedNormal(0.02)` with zero biases (OpenSTL's
    `MLPMixerSubBlock`).

    Args:
        mlp_ratio: float. Hidden width of the channel MLP as a multiple of
            C. Defaults to 4.0.
        token_mlp_ratio: float. Hidden width of the token MLP as a multiple
            of C. Defaults to 0.5.
        drop_rate: float. Dropout in both MLPs. Defaults to 0.0.
        drop_path_rate: float. Stochastic depth rate. Defaults to 0.1.
        epsilon: float. LayerNorm epsilon. Defaults to 1e-6.

    Call arguments:
        inputs: a tensor `(B, H, W, C)` with static H, W.
        training: bool.

    Example:

    ```python
    y = MLPMixerBlock(mlp_ratio=8.0)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Tolstikhin et al., "MLP-Mixer: An all-MLP Architecture for Vision",
        https://arxiv.org/abs/2105.01601
    """

    def __init__(
        self,
        mlp_ratio=4.0,
        token_mlp_ratio=0.5,
        drop_rate=0.0,
        drop_path_rate=0.1,
        epsilon=1e-6,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("mlp_ratio", mlp_ratio),
            ("token_mlp_ratio", token_mlp_ratio),
        ):
            if value <= 0:
                raise ValueError(f"`{name}` must be positive. Received: {name}={value}")
        self.mlp_ratio = mlp_ratio
        self.token_mlp_ratio = token_mlp_ratio
        self.drop_rate = drop_rate
        self.drop_path_rate = drop_path_rate
        self.epsilon = epsilon
        self.drop_path = DropPath(
            drop_path_rate, dtype=self.dtype_policy, name="drop_path"
        )

    def build(self, input_shape):
        _, height, width, dim = input_shape
        if height is None or width is None:
            raise ValueError(
                "MLPMixerBlock needs a static height and width (its token MLP "
                f"has one weight per position). Received: input_shape={input_shape}"
            )
        tokens = height * width
        common = dict(dtype=self.dtype_policy)
        self.norm1 = keras.layers.LayerNormalization(
            epsilon=self.epsilon, name="norm1", **common
        )
        self.mlp_tokens = MLP(
            int(dim * self.token_mlp_ratio),
            dropout_rate=self.drop_rate,
            name="mlp_tokens",
            **common,
        )
        self.norm2 = keras.layers.LayerNormalization(
            epsilon=self.epsilon, name="norm2", **common
        )
        self.mlp_channels = MLP(
            int(dim * self.mlp_ratio),
            dropout_rate=self.drop_rate,
            name="mlp_channels",
            **common,
        )
        self.norm1.build(input_shape)
        self.mlp_tokens.build((None, dim, tokens))
        self.norm2.build(input_shape)
        self.mlp_channels.build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        _, height, width, dim = inputs.shape
        x = ops.reshape(inputs, (-1, height * width, dim))
        branch = ops.transpose(self.norm1(x), (0, 2, 1))
        branch = ops.transpose(self.mlp_tokens(branch, training=training), (0, 2, 1))
        x = x + self.drop_path(branch, training=training)
        branch = self.mlp_channels(self.norm2(x), training=training)
        x = x + self.drop_path(branch, training=training)
        return ops.reshape(x, (-1, height, width, dim))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "mlp_ratio": self.mlp_ratio,
            "token_mlp_ratio": self.token_mlp_ratio,
            "drop_rate": self.drop_rate,
            "drop_path_rate": self.drop_path_rate,
            "epsilon": self.epsilon,
        }


def _mlpmixer_factory(
    *, mlp_ratio, drop_rate, drop_path_rate, name, dtype=None, **unused
):
    return MLPMixerBlock(
        mlp_ratio=mlp_ratio,
        token_mlp_ratio=0.5,
        drop_rate=drop_rate,
        drop_path_rate=drop_path_rate,
        name=name,
        dtype=dtype,
    )


register_meta_block("mlpmixer", _mlpmixer_factory)
