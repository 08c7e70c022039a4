"""ConvLSTM as a keras-svq backbone."""

import keras

from zoo.convlstm.convlstm_cell import CELL_VARIANTS
from zoo.convlstm.convlstm_stack import ConvLSTMStack
from zoo.recurrent.recurrent_backbone import RecurrentBackbone
from zoo.recurrent.recurrent_backbone import check_choice
from zoo.recurrent.recurrent_stack import check_hidden_dims
from zoo.registry import register_backbone


@keras.saving.register_keras_serializable(package="keras_svq")
@register_backbone("ConvLSTMBackbone")
class ConvLSTMBackbone(RecurrentBackbone):
    """ConvLSTM forecaster: stacked ConvLSTM cells on patched frames.

    Frames are folded into `patch_size x patch_size` patches, a stack of
    `ConvLSTMCell`s runs over the `T_in` observed frames and then on its own
    predictions for `T_out - 1` more steps, and a bias-free 1x1 conv reads each
    next frame out (see `RecurrentPredictor`). This is OpenSTL v0.3.0's
    `ConvLSTM_Model`, the baseline of the SVQ paper. Weights load from its
    checkpoints with `zoo.recurrent.load_recurrent_state_dict`.

    Args:
        input_length: int. T_in (`pre_seq_length`).
        output_length: int. T_out (`aft_seq_length`).
        height: int. H, a multiple of `patch_size`.
        width: int. W, a multiple of `patch_size`.
        channels: int. C.
        hidden_dims: list of int. Channels per layer (`num_hidden`).
            Defaults to `(128, 128, 128, 128)`.
        kernel_size: int. Odd gate-conv kernel (`filter_size`). Defaults to 5.
        stride: int. Must be 1. Defaults to 1.
        patch_size: int. Defaults to 4.
        layer_norm: bool. Defaults to False.
        cell: str. `"svq"` (the paper's cell, `h = o·tanh(g)`, default) or
            `"lightning"` (`h = o·tanh(c)`). See `ConvLSTMCell`.
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
    from zoo.recurrent import ConvLSTMBackbone

    model = ConvLSTMBackbone(4, 4, 16, 16, 1, hidden_dims=[8, 8],
                             kernel_size=3, patch_size=2)
    y = model(np.random.rand(2, 4, 16, 16, 1).astype("float32"))  # (2, 4, 16, 16, 1)
    ```

    Reference:
        Shi et al., "Convolutional LSTM Network: A Machine Learning Approach
        for Precipitation Nowcasting", https://arxiv.org/abs/1506.04214
    """

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
        cell="svq",
        output_constraint=None,
        clip=None,
        dtype=None,
        **kwargs,
    ):
        self.check_frames(
            input_length, output_length, height, width, channels, patch_size
        )
        hidden_dims = check_hidden_dims(hidden_dims)
        check_choice("cell", cell, CELL_VARIANTS)
        stack = ConvLSTMStack(
            hidden_dims,
            patch_size * patch_size * channels,
            kernel_size=kernel_size,
            stride=stride,
            layer_norm=layer_norm,
            cell=cell,
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
                "layer_norm": bool(layer_norm),
                "cell": cell,
            },
            output_constraint=output_constraint,
            clip=clip,
            dtype=dtype,
            **kwargs,
        )
