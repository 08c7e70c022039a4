"""SimVP's frame-wise convolutional encoder."""

import keras
from keras import ops

from keras_svq.layers import ConvNormAct


def downsampling_pattern(num_layers):
    """Which layers of the encoder downsample: `[False, True, False, True, ...]`."""
    return [i % 2 == 1 for i in range(num_layers)]


@keras.saving.register_keras_serializable(package="keras_svq")
class SimVPEncoder(keras.layers.Layer):
    """Encodes every frame with `ConvNormAct` blocks; odd layers downsample by 2.

    Args:
        hidden_dim: int. Channels of every block (`hid_S`).
        num_layers: int. Number of blocks, even (`N_S`); the frames shrink
            by `2 ** (num_layers // 2)`.
        kernel_size: int. Defaults to 3.

    Call arguments:
        inputs: a tensor `(B, T, H, W, C)`.

    Returns:
        `(latent, skip)`: the latent `(B, T, H', W', hidden_dim)` and the
        output of the first block `(B, T, H, W, hidden_dim)`, which the
        decoder adds back before its last block.

    Example:

    ```python
    latent, skip = SimVPEncoder(16, 2)(np.zeros((2, 4, 32, 32, 1)))
    ```

    Reference:
        Tan et al., "SimVP: Towards Simple yet Powerful Spatiotemporal
        Predictive Learning", https://arxiv.org/abs/2211.12509
    """

    def __init__(self, hidden_dim, num_layers, kernel_size=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.kernel_size = kernel_size
        self.blocks = [
            ConvNormAct(
                hidden_dim,
                kernel_size,
                strides=2 if down else 1,
                dtype=self.dtype_policy,
                name=f"block_{i}",
            )
            for i, down in enumerate(downsampling_pattern(num_layers))
        ]

    def build(self, input_shape):
        shape = (None,) + tuple(input_shape[2:])
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.built = True

    def call(self, inputs):
        _, frames, height, width, channels = inputs.shape
        x = ops.reshape(inputs, (-1, height, width, channels))
        skip = x = self.blocks[0](x)
        for block in self.blocks[1:]:
            x = block(x)
        latent = ops.reshape(x, (-1, frames) + tuple(x.shape[1:]))
        skip = ops.reshape(skip, (-1, frames) + tuple(skip.shape[1:]))
        return latent, skip

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "kernel_size": self.kernel_size,
        }
