"""PredRNN as a keras-svq backbone."""

import keras

from zoo.predrnn.predrnn_stack import PredRNNStack
from zoo.recurrent.recurrent_backbone import RecurrentBackbone
from zoo.recurrent.recurrent_stack import check_hidden_dims
from zoo.registry import register_backbone


@keras.saving.register_keras_serializable(package="keras_svq")
@register_backbone("PredRNNBackbone")
class PredRNNBackbone(RecurrentBackbone):
    """PredRNN forecaster: stacked ST-LSTM cells with a zigzag memory.

    Frames are folded into patches, a stack of `SpatioTemporalLSTMCell`s runs
    over the observed frames and then auto-regressively (see
    `RecurrentPredictor`); a bias-free 1x1 conv reads the next frame out.
    This is OpenSTL's `PredRNN_Model`; its checkpoints load with
    `zoo.recurrent.load_recurrent_state_dict`. Train with scheduled sampling
    by wrapping the backbone in `ScheduledSamplingModel`.

    Args:
        input_length: int. T_in (`pre_seq_length`).
        output_length: int. T_out (`aft_seq_length`).
        height: int. H, a multiple of `patch_size`.
        width: int. W, a multiple of `patch_size`.
        channels: int. C.
        hidden_dims: list of int, all equal. Channels per layer
            (`num_hidden`). Defaults to `(128, 128, 128, 128)`.
        kernel_size: int. Odd gate-conv kernel (`filter_size`). Defaults to 5.
        stride: int. Must be 1. Defaults to 1.
        patch_size: int. Defaults to 4.
        layer_norm: bool. Defaults to False.
        reverse_scheduled_sampling: bool. Train with reverse scheduled
            sampling (see `ScheduledSamplingModel`); inference is unchanged.
            Defaults to False.
        output_constraint: str or None. `"nonnegative"` keeps the forecast's
            physical values >= 0 (see `keras_svq.layers.OutputConstraint`;
            set the normaliser with `set_output_normalization`). Defaults to
            None.
        clip: None or physical bounds `[lo, hi]` (either may be None) of the
            forecast, applied the same way. Defaults to None.
        dtype: the dtype policy. Defaults to None.

    Call arguments:
        inputs: `(B, input_length, height, width, channels)`.

    Returns:
        `(B, output_length, height, width, channels)`.

    Example:

    ```python
    import numpy as np
    from zoo.recurrent import PredRNNBackbone

    model = PredRNNBackbone(4, 4, 16, 16, 1, hidden_dims=[8, 8],
                            kernel_size=3, patch_size=2)
    y = model(np.random.rand(2, 4, 16, 16, 1).astype("float32"))  # (2, 4, 16, 16, 1)
    ```

    Reference:
        Wang et al., "PredRNN: Recurrent Neural Networks for Predictive
        Learning using Spatiotemporal LSTMs", NeurIPS 2017,
        https://dl.acm.org/doi/abs/10.5555/3294771.3294855
    """

    stack_class = PredRNNStack

    def __init__(
        self,
        input_length,
        output_length,
        height,
        width,
        channels,
        hidden_dims=(128, 128, 128, 128),
        kernel_size=5,
        stride=1,
        patch_size=4,
        layer_norm=False,
        reverse_scheduled_sampling=False,
        output_constraint=None,
        clip=None,
        dtype=None,
        **kwargs,
    ):
        self.check_frames(
            input_length, output_length, height, width, channels, patch_size
        )
        hidden_dims = check_hidden_dims(hidden_dims, equal=True)
        stack = self.stack_class(
            hidden_dims,
            patch_size * patch_size * channels,
            kernel_size=kernel_size,
            stride=stride,
            layer_norm=layer_norm,
            dtype=dtype,
            name="stack",
            **self.stack_options(input_length, output_length),
        )
        super().__init__(
            stack,
            input_length,
            output_length,
            height,
            width,
            channels,
            patch_size=patch_size,
            reverse_scheduled_sampling=reverse_scheduled_sampling,
            options={
                "hidden_dims": hidden_dims,
                "kernel_size": kernel_size,
                "stride": stride,
                "layer_norm": bool(layer_norm),
                "reverse_scheduled_sampling": bool(reverse_scheduled_sampling),
            },
            output_constraint=output_constraint,
            clip=clip,
            dtype=dtype,
            **kwargs,
        )

    def stack_options(self, input_length, output_length):
        """Extra constructor arguments of `stack_class` (for subclasses)."""
        return {}
