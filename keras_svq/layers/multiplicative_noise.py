"""SimVP's input perturbation: a random fraction of values scaled by U(-2, 2)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_svq")
class MultiplicativeNoise(keras.layers.Layer):
    """Multiplies exactly `floor(rate·N)` randomly chosen input values by U(lo, hi).

    The input-noise augmentation of the official SimVP code (`perturb`): of
    the N values of the batch, a random subset of `int(N·rate)` is multiplied
    by independent draws from `U(minval, maxval)`; every other value is kept.
    Active only in training; the identity in inference.

    Args:
        rate: float. Fraction of the values to perturb, in `[0, 1]`.
        minval: float. Defaults to -2.0.
        maxval: float. Defaults to 2.0.
        seed: int. Defaults to None.

    Call arguments:
        inputs: any tensor.
        training: bool. Perturbs only when True.

    Example:

    ```python
    noisy = MultiplicativeNoise(0.1)(np.ones((2, 4, 8, 8, 1)), training=True)
    ```
    """

    def __init__(self, rate, minval=-2.0, maxval=2.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"`rate` must be in [0, 1]. Received: rate={rate}")
        self.rate = float(rate)
        self.minval = float(minval)
        self.maxval = float(maxval)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        flat = ops.reshape(inputs, (-1,))
        size = ops.shape(flat)[0]
        num_noisy = ops.cast(ops.floor(ops.cast(size, "float32") * self.rate), "int32")
        # A uniformly random permutation: the ranks of i.i.d. uniform keys.
        keys = keras.random.uniform(ops.shape(flat), seed=self.seed_generator)
        ranks = ops.argsort(ops.argsort(keys))
        factors = keras.random.uniform(
            ops.shape(flat), self.minval, self.maxval, seed=self.seed_generator
        )
        chosen = ops.less(ranks, num_noisy)
        scale = ops.where(chosen, factors, ops.ones_like(factors))
        return inputs * ops.reshape(ops.cast(scale, inputs.dtype), ops.shape(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "minval": self.minval,
            "maxval": self.maxval,
            "seed": self.seed,
        }
