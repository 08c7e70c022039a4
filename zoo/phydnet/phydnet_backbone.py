"""PhyDNet as a keras-svq backbone."""

import keras

from zoo.phydnet.phydnet_stack import PhyDNetStack
from zoo.recurrent.recurrent_backbone import RecurrentBackbone
from zoo.recurrent.recurrent_stack import check_hidden_dims
from zoo.registry import register_backbone


@keras.saving.register_keras_serializable(package="keras_svq")
@register_backbone("PhyDNetBackbone")
class PhyDNetBackbone(RecurrentBackbone):
    """PhyDNet: physical (PhyCell) and residual (ConvLSTM) dynamics in a latent space.

    Each step encodes the frame, advances the PhyCell and ConvLSTM branches,
    and decodes the next frame through a sigmoid (see `PhyDNetStack`). The
    unrolling is `RecurrentPredictor`'s: the observed frames are read for the
    first `T_in - 1` steps and the model then feeds back its predictions,
    exactly the reference's `inference`. In training the PhyCell moment
    constraint is added to the losses (`add_loss`). The reference's teacher
    forcing (all-or-nothing per batch, ratio `1 - 0.003 · epoch`) can be
    approximated with `ScheduledSamplingModel` (per sample and step). Note
    that the reference calls `downsample_factor` `patch_size` (2 or 4; any
    other value means 4); frames are not patch-reshaped.

    Args:
        input_length: int. T_in.
        output_length: int. T_out.
        height: int. H, a multiple of `downsample_factor`.
        width: int. W, a multiple of `downsample_factor`.
        channels: int. C.
        hidden_dims: list of int. ConvLSTM widths, the last 64. Defaults to
            `(128, 128, 64)`.
        downsample_factor: int. 2 or 4. Defaults to 4.
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
    from zoo.recurrent import PhyDNetBackbone

    model = PhyDNetBackbone(4, 4, 16, 16, 1, hidden_dims=[16, 64])
    y = model(np.random.rand(2, 4, 16, 16, 1).astype("float32"))  # (2, 4, 16, 16, 1)
    ```

    Reference:
        Le Guen and Thome, "Disentangling Physical Dynamics from Unknown
        Factors for Unsupervised Video Prediction", CVPR 2020,
        https://arxiv.org/abs/2003.01460
    """

    def __init__(
        self,
        input_length,
        output_length,
        height,
        width,
        channels,
        hidden_dims=(128, 128, 64),
        downsample_factor=4,
        output_constraint=None,
        clip=None,
        dtype=None,
        **kwargs,
    ):
        self.check_frames(input_length, output_length, height, width, channels, 1)
        hidden_dims = check_hidden_dims(hidden_dims)
        stack = PhyDNetStack(
            hidden_dims,
            channels,
            downsample_factor=downsample_factor,
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
            patch_size=1,
            options={
                "hidden_dims": hidden_dims,
                "downsample_factor": downsample_factor,
            },
            output_constraint=output_constraint,
            clip=clip,
            dtype=dtype,
            **kwargs,
        )

    def get_config(self):
        config = super().get_config()
        config.pop("patch_size")  # always 1: PhyDNet downsamples instead
        return config
