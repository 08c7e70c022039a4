"""SimVP v2's MetaFormer translator: a stack of blocks over time-stacked channels."""

import keras
import numpy as np
from keras import ops

from keras_svq.initializers import TorchUniform
from zoo.translators.translator_registry import get_meta_block_factory


def stochastic_depth_schedule(drop_path_rate, num_layers):
    """Per-block drop-path rates of OpenSTL's `MidMetaNet`.

    `linspace(0.01, drop_path_rate, num_layers)`, except that the last block
    gets `drop_path_rate` itself. The first block therefore always has 0.01,
    even for `drop_path_rate=0` (then the rates *decrease* to 0).
    """
    rates = np.linspace(0.01, drop_path_rate, num_layers, dtype="float32")
    rates = [float(r) for r in rates]
    rates[-1] = float(drop_path_rate)
    return rates


def frames_to_channels(x):
    """`(B, T, H, W, C) -> (B, H, W, T·C)`, channel index `t·C + c`."""
    _, frames, height, width, channels = x.shape
    x = ops.transpose(x, (0, 2, 3, 1, 4))
    return ops.reshape(x, (-1, height, width, frames * channels))


def channels_to_frames(x, frames):
    """Inverse of `frames_to_channels`."""
    _, height, width, stacked = x.shape
    x = ops.reshape(x, (-1, height, width, frames, stacked // frames))
    return ops.transpose(x, (0, 3, 1, 2, 4))


@keras.saving.register_keras_serializable(package="keras_svq")
class MetaTranslator(keras.layers.Layer):
    """A stack of MetaFormer blocks (OpenSTL's `MidMetaNet`).

    The frames are stacked into channels, `(B, T, H', W', C) -> (B, H', W',
    T·C)`; block 0 works at width `T·C` and a 1x1 conv reduces it to
    `hidden_dim`, the middle blocks work at `hidden_dim`, and the last block
    works at `hidden_dim` and a 1x1 conv expands back to `T·C`. (The 1x1
    convs exist only where the widths differ.) Stochastic depth follows
    `stochastic_depth_schedule`.

    Args:
        block: str. A registered MetaFormer block, e.g. `"gsta"`, `"tau"`.
        hidden_dim: int. Width of the middle blocks (`hid_T`).
        num_layers: int. Number of blocks, at least 2 (`N_T`).
        mlp_ratio: float. Defaults to 8.0.
        drop_rate: float. Defaults to 0.0.
        drop_path_rate: float. Defaults to 0.0.

    Call arguments:
        inputs: a tensor `(B, T, H', W', C)`.
        training: bool.

    Example:

    ```python
    y = MetaTranslator("gsta", hidden_dim=64, num_layers=2)(np.zeros((2, 4, 8, 8, 8)))
    ```

    Reference:
        Tan et al., "SimVP: Towards Simple yet Powerful Spatiotemporal
        Predictive Learning", https://arxiv.org/abs/2211.12509
    """

    def __init__(
        self,
        block,
        hidden_dim,
        num_layers,
        mlp_ratio=8.0,
        drop_rate=0.0,
        drop_path_rate=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if num_layers < 2:
            raise ValueError(
                f"`num_layers` must be at least 2. Received: num_layers={num_layers}"
            )
        if mlp_ratio <= 1:
            raise ValueError(
                f"`mlp_ratio` must be greater than 1. Received: mlp_ratio={mlp_ratio}"
            )
        get_meta_block_factory(block)  # fail early on unknown names
        self.block = block.lower()
        self.hidden_dim = hidden_dim
        self.num_layers = num_layers
        self.mlp_ratio = mlp_ratio
        self.drop_rate = drop_rate
        self.drop_path_rate = drop_path_rate

    def build(self, input_shape):
        _, frames, height, width, channels = input_shape
        stacked = frames * channels
        factory = get_meta_block_factory(self.block)
        rates = stochastic_depth_schedule(self.drop_path_rate, self.num_layers)
        self.blocks = []
        self.reductions = []
        for i in range(self.num_layers):
            in_dim = stacked if i == 0 else self.hidden_dim
            out_dim = stacked if i == self.num_layers - 1 else self.hidden_dim
            block = factory(
                mlp_ratio=self.mlp_ratio,
                drop_rate=self.drop_rate,
                drop_path_rate=rates[i],
                layer_index=i,
                num_layers=self.num_layers,
                input_dim=in_dim,
                output_dim=out_dim,
                input_resolution=(height, width),
                name=f"block_{i}",
                dtype=self.dtype_policy,
            )
            block.build((None, height, width, in_dim))
            reduction = None
            if in_dim != out_dim:
                # MetaBlock's reduction conv keeps torch's default init.
                reduction = keras.layers.Dense(
                    out_dim,
                    kernel_initializer=TorchUniform(),
                    bias_initializer=TorchUniform(fan_in=in_dim),
                    dtype=self.dtype_policy,
                    name=f"reduction_{i}",
                )
                reduction.build((None, height, width, in_dim))
            self.blocks.append(block)
            self.reductions.append(reduction)
        self.built = True

    def call(self, inputs, training=None):
        frames = inputs.shape[1]
        x = frames_to_channels(inputs)
        for block, reduction in zip(self.blocks, self.reductions):
            x = block(x, training=training)
            if reduction is not None:
                x = reduction(x)
        return channels_to_frames(x, frames)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "block": self.block,
            "hidden_dim": self.hidden_dim,
            "num_layers": self.num_layers,
            "mlp_ratio": self.mlp_ratio,
            "drop_rate": self.drop_rate,
            "drop_path_rate": self.drop_path_rate,
        }
