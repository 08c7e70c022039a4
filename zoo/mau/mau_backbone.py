"""MAU as a keras-svq backbone."""

import keras

from zoo.mau.mau_cell import CELL_MODES
from zoo.mau.mau_stack import MAUStack
from zoo.recurrent.recurrent_backbone import RecurrentBackbone
from zoo.recurrent.recurrent_backbone import check_choice
from zoo.recurrent.recurrent_stack import check_hidden_dims
from zoo.registry import register_backbone


@keras.saving.register_keras_serializable(package="keras_svq")
@register_backbone("MAUBackbone")
class MAUBackbone(RecurrentBackbone):
    """MAU forecaster: motion-aware units between a strided encoder and a decoder.

    Each frame is encoded at `1 / downsample_factor` of its size, a stack of
    `MAUCell`s attends over the last `attention_length` steps, and a
    transposed-conv decoder returns the next frame (see `MAUStack`). The
    unrolling is `RecurrentPredictor`'s (scheduled sampling through
    `ScheduledSamplingModel`). The reference never patches MAU's frames
    (its t2m config has `patch_size=1`); other patch sizes work here.

    Args:
        input_length, output_length, height, width, channels: as
            `PredRNNBackbone`.
        hidden_dims: list of int, all equal. Defaults to `(64, 64, 64, 64)`.
        kernel_size: int. Defaults to 5.
        stride: int. Must be 1. Defaults to 1.
        patch_size: int. Defaults to 1.
        downsample_factor: int. A power of 2 (`sr_size`). Defaults to 2.
        attention_length: int. `tau`. Defaults to 5.
        cell_mode: str. `"normal"` or `"residual"`. Defaults to `"normal"`.
        decoder_mode: str. `"normal"` or `"recall"` (`model_mode`).
            Defaults to `"normal"`.
        output_constraint: str or None. `"nonnegative"` keeps the forecast's
            physical values >= 0 (see `keras_svq.layers.OutputConstraint`;
            set the normaliser with `set_output_normalization`). Defaults to
            None.
        clip: None or physical bounds `[lo, hi]` (either may be None) of the
            forecast, applied the same way. Defaults to None.
        dtype: the dtype policy. Defaults to None.

    Example:

    ```python
    import numpy as np
    from zoo.recurrent import MAUBackbone

    model = MAUBackbone(4, 4, 16, 16, 1, hidden_dims=[8, 8], kernel_size=3,
                        attention_length=2)
    y = model(np.random.rand(2, 4, 16, 16, 1).astype("float32"))  # (2, 4, 16, 16, 1)
    ```

    Reference:
        Chang et al., "MAU: A Motion-Aware Unit for Video Prediction and
        Beyond", NeurIPS 2021, https://openreview.net/forum?id=qwtfY-3ibt7
    """

    def __init__(
        self,
        input_length,
        output_length,
        height,
        width,
        channels,
        hidden_dims=(64, 64, 64, 64),
        kernel_size=5,
        stride=1,
        patch_size=1,
        downsample_factor=2,
        attention_length=5,
        cell_mode="normal",
        decoder_mode="normal",
        output_constraint=None,
        clip=None,
        dtype=None,
        **kwargs,
    ):
        self.check_frames(
            input_length, output_length, height, width, channels, patch_size
        )
        hidden_dims = check_hidden_dims(hidden_dims, equal=True)
        check_choice("cell_mode", cell_mode, CELL_MODES)
        stack = MAUStack(
            hidden_dims,
            patch_size * patch_size * channels,
            kernel_size=kernel_size,
            stride=stride,
            downsample_factor=downsample_factor,
            attention_length=attention_length,
            cell_mode=cell_mode,
            decoder_mode=decoder_mode,
            dtype=dtype,
            name="stack",
        )
        super().__init__(
            stack,
            input_length,
            output_length,
            height,
            width,
            channels,
            patch_size=patch_size,
            options={
                "hidden_dims": hidden_dims,
                "kernel_size": kernel_size,
                "stride": stride,
                "downsample_factor": downsample_factor,
                "attention_length": attention_length,
                "cell_mode": cell_mode,
                "decoder_mode": decoder_mode,
            },
            output_constraint=output_constraint,
            clip=clip,
            dtype=dtype,
            **kwargs,
        )
