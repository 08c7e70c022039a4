"""SimVP's frame-wise convolutional decoder."""

import keras
from keras import ops

from keras_svq.initializers import TorchUniform
from keras_svq.layers import ConvNormAct
from zoo.simvp.simvp_encoder import downsampling_pattern


@keras.saving.register_keras_serializable(package="keras_svq")
class SimVPDecoder(keras.layers.Layer):
    """Decodes every frame: `ConvNormAct` blocks, pixel-shuffle upsampling, 1x1 readout.

    The blocks mirror the encoder (upsampling where it downsampled); the
    last block reads `hid + skip`, where `skip` is the output of the
    encoder's first block, and a 1x1 conv with bias reads out the channels.

    Args:
        hidden_dim: int. Channels of every block (`hid_S`).
        output_channels: int. Channels C of the predicted frames.
        num_layers: int. Number of blocks, even (`N_S`).
        kernel_size: int. Defaults to 3.

    Call arguments:
        inputs: a list `[hid, skip]` with `hid` `(B, T, H', W', hidden_dim)`
            and `skip` `(B, T, H, W, hidden_dim)`.

    Returns:
        A tensor `(B, T, H, W, output_channels)`.

    Example:

    ```python
    y = SimVPDecoder(16, 1, 2)([np.zeros((2, 4, 16, 16, 16)), np.zeros((2, 4, 32, 32, 16))])
    ```

    Reference:
        Tan et al., "SimVP: Towards Simple yet Powerful Spatiotemporal
        Predictive Learning", https://arxiv.org/abs/2211.12509
    """

    def __init__(
        self, hidden_dim, output_channels, num_layers, kernel_size=3, **kwargs
    ):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.output_channels = output_channels
        self.num_layers = num_layers
        self.kernel_size = kernel_size
        self.blocks = [
            ConvNormAct(
                hidden_dim,
                kernel_size,
                upsample_factor=2 if up else 1,
                dtype=self.dtype_policy,
                name=f"block_{i}",
            )
            for i, up in enumerate(reversed(downsampling_pattern(num_layers)))
        ]
        # The readout is a plain nn.Conv2d in the reference: torch's default init.
        self.readout = keras.layers.Dense(
            output_channels,
            kernel_initializer=TorchUniform(),
            bias_initializer=TorchUniform(fan_in=hidden_dim),
            dtype=self.dtype_policy,
            name="readout",
        )

    def build(self, input_shape):
        hid_shape = input_shape[0]
        shape = (None,) + tuple(hid_shape[2:])
        for block in self.blocks:
            block.build(shape)
            shape = block.compute_output_shape(shape)
        self.readout.build(shape)
        self.built = True

    def call(self, inputs):
        hid, skip = inputs
        frames = hid.shape[1]
        x = ops.reshape(hid, (-1,) + tuple(hid.shape[2:]))
        for block in self.blocks[:-1]:
            x = block(x)
        x = x + ops.reshape(skip, (-1,) + tuple(skip.shape[2:]))
        x = self.readout(self.blocks[-1](x))
        return ops.reshape(x, (-1, frames) + tuple(x.shape[1:]))

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "output_channels": self.output_channels,
            "num_layers": self.num_layers,
            "kernel_size": self.kernel_size,
        }
