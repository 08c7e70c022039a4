"""A learnable per-channel scale on a residual branch."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_svq")
class LayerScale(keras.layers.Layer):
    """Multiplies the last axis by a learnable vector initialised to a constant.

    Args:
        init_value: float. Initial value of every entry. Defaults to 1e-2.

    Call arguments:
        inputs: a tensor `(..., C)`.

    Example:

    ```python
    y = LayerScale(1e-2)(np.ones((2, 4, 4, 8)))
    ```

    Reference:
        Touvron et al., "Going deeper with Image Transformers",
        https://arxiv.org/abs/2103.17239
    """

    def __init__(self, init_value=1e-2, **kwargs):
        super().__init__(**kwargs)
        self.init_value = float(init_value)

    def build(self, input_shape):
        self.scale = self.add_weight(
            name="scale",
            shape=(input_shape[-1],),
            initializer=keras.initializers.Constant(self.init_value),
        )

    def call(self, inputs):
        return inputs * ops.cast(self.scale, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "init_value": self.init_value}
