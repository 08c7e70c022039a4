"""Sub-pixel upsampling with PyTorch's channel order."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_svq")
class PixelShuffle(keras.layers.Layer):
    """Rearranges `(B, H, W, C·r²)` into `(B, H·r, W·r, C)` like `nn.PixelShuffle`.

    Output pixel `(h·r + i, w·r + j)`, channel `c` reads input channel
    `c·r² + i·r + j`: the PyTorch order. `tf.nn.depth_to_space` reads
    channel `(i·r + j)·C + c` instead, so weights ported from PyTorch only
    give the same output with this layer.

    Args:
        upscale_factor: int. The factor r. Defaults to 2.

    Call arguments:
        inputs: a tensor `(B, H, W, C·r²)`.

    Example:

    ```python
    y = PixelShuffle(2)(np.zeros((1, 4, 4, 8)))  # (1, 8, 8, 2)
    ```

    Reference:
        Shi et al., "Real-Time Single Image and Video Super-Resolution Using
        an Efficient Sub-Pixel Convolutional Neural Network",
        https://arxiv.org/abs/1609.05158
    """

    def __init__(self, upscale_factor=2, **kwargs):
        super().__init__(**kwargs)
        if int(upscale_factor) != upscale_factor or upscale_factor < 1:
            raise ValueError(
                "`upscale_factor` must be a positive integer. "
                f"Received: upscale_factor={upscale_factor}"
            )
        self.upscale_factor = int(upscale_factor)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and channels % self.upscale_factor**2:
            raise ValueError(
                "The number of input channels must be divisible by "
                f"upscale_factor**2={self.upscale_factor**2}. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.built = True

    def call(self, inputs):
        r = self.upscale_factor
        _, height, width, channels = inputs.shape
        out_channels = channels // (r * r)
        x = ops.reshape(inputs, (-1, height, width, out_channels, r, r))
        # (B, H, W, C, i, j) -> (B, H, i, W, j, C)
        x = ops.transpose(x, (0, 1, 4, 2, 5, 3))
        return ops.reshape(x, (-1, height * r, width * r, out_channels))

    def compute_output_shape(self, input_shape):
        r = self.upscale_factor
        batch, height, width, channels = input_shape
        return (
            batch,
            None if height is None else height * r,
            None if width is None else width * r,
            channels // (r * r),
        )

    def get_config(self):
        return {**super().get_config(), "upscale_factor": self.upscale_factor}
