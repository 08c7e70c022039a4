"""Stochastic depth: drops a whole residual branch per sample."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_svq")
class DropPath(keras.layers.Layer):
    """Stochastic depth ("drop path") on a residual branch.

    In training, each sample's branch output is zeroed with probability
    `rate` and the survivors are scaled by `1 / (1 - rate)`, so the expected
    output is unchanged. In inference it is the identity. This is timm's
    `DropPath`, used by every MetaFormer translator of SimVP.

    Args:
        rate: float. Probability of dropping the branch of one sample, in
            `[0, 1)`. Defaults to 0.0.
        seed: int. Seed of the random draws. Defaults to None.

    Call arguments:
        inputs: a tensor `(B, ...)`.
        training: bool. Drops only when True.

    Example:

    ```python
    layer = DropPath(0.1)
    y = layer(np.ones((4, 8, 8, 16)), training=True)
    ```

    Reference:
        Huang et al., "Deep Networks with Stochastic Depth",
        https://arxiv.org/abs/1603.09382
    """

    def __init__(self, rate=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"`rate` must be in [0, 1). Received: rate={rate}")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        keep = 1.0 - self.rate
        shape = (ops.shape(inputs)[0],) + (1,) * (len(inputs.shape) - 1)
        noise = keras.random.uniform(
            shape, dtype=inputs.dtype, seed=self.seed_generator
        )
        mask = ops.cast(noise < keep, inputs.dtype)
        return inputs * mask / ops.cast(keep, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
