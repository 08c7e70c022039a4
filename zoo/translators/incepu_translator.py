"""SimVP v1's Inception U-Net translator."""

import keras
from keras import ops

from zoo.translators.incepu_block import IncepUBlock
from zoo.translators.meta_translator import channels_to_frames
from zoo.translators.meta_translator import frames_to_channels
from zoo.translators.translator_registry import register_translator


@keras.saving.register_keras_serializable(package="keras_svq")
class IncepUTranslator(keras.layers.Layer):
    """A U-Net of `IncepUBlock`s over time-stacked channels (OpenSTL's `MidIncepNet`).

    `num_layers` encoder blocks (width `hidden_dim`) keep their outputs as
    skips; `num_layers` decoder blocks each read `concat([z, skip])` (z first)
    and the last one returns to width `T·C`.

    Args:
        hidden_dim: int. Translator width (`hid_T`); blocks use
            `hidden_dim // 2` after their 1x1 conv.
        num_layers: int. Encoder depth, at least 2 (`N_T`).
        kernel_sizes: tuple of ints. Defaults to (3, 5, 7, 11).
        groups: int. Defaults to 8.

    Call arguments:
        inputs: a tensor `(B, T, H', W', C)`.

    Example:

    ```python
    y = IncepUTranslator(64, 2)(np.zeros((2, 4, 8, 8, 8)))
    ```

    Reference:
        Gao et al., "SimVP: Simpler yet Better Video Prediction",
        https://arxiv.org/abs/2206.05099
    """

    def __init__(
        self, hidden_dim, num_layers, kernel_sizes=(3, 5, 7, 11), groups=8, **kwargs
    ):
        super().__init__(**kwargs)
        if num_layers < 2:
            raise ValueError(
                f"`num_layers` must be at least 2. Received: num_layers={num_layers}"
            )
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.kernel_sizes = tuple(kernel_sizes)
        self.groups = groups

    def _block(self, output_dim, name):
        return IncepUBlock(
            self.hidden_dim // 2,
            output_dim,
            self.kernel_sizes,
            self.groups,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        _, frames, height, width, channels = input_shape
        stacked = frames * channels
        n = self.num_layers
        self.encoder_blocks = [
            self._block(self.hidden_dim, f"enc_{i}") for i in range(n)
        ]
        self.decoder_blocks = [
            self._block(stacked if i == n - 1 else self.hidden_dim, f"dec_{i}")
            for i in range(n)
        ]
        for i, block in enumerate(self.encoder_blocks):
            block.build((None, height, width, stacked if i == 0 else self.hidden_dim))
        for i, block in enumerate(self.decoder_blocks):
            width_in = self.hidden_dim if i == 0 else 2 * self.hidden_dim
            block.build((None, height, width, width_in))
        self.built = True

    def call(self, inputs):
        frames = inputs.shape[1]
        z = frames_to_channels(inputs)
        skips = []
        for i, block in enumerate(self.encoder_blocks):
            z = block(z)
            if i < self.num_layers - 1:
                skips.append(z)
        z = self.decoder_blocks[0](z)
        for i in range(1, self.num_layers):
            z = self.decoder_blocks[i](ops.concatenate([z, skips[-i]], axis=-1))
        return channels_to_frames(z, frames)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "kernel_sizes": list(self.kernel_sizes),
            "groups": self.groups,
        }


register_translator("incepu", IncepUTranslator)
