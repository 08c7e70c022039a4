"""PredRNN v2 as a keras-svq backbone."""

import keras

from zoo.predrnn.predrnn_backbone import PredRNNBackbone
from zoo.predrnnv2.predrnnv2_stack import PredRNNv2Stack
from zoo.registry import register_backbone


@keras.saving.register_keras_serializable(package="keras_svq")
@register_backbone("PredRNNv2Backbone")
class PredRNNv2Backbone(PredRNNBackbone):
    """PredRNN v2: PredRNN with memory decoupling and reverse scheduled sampling.

    The network is PredRNN's (see `PredRNNBackbone`) plus a shared 1x1
    `adapter`; in training the stack adds the decoupling loss
    (`PredRNNv2Stack`) through `add_loss`, so `fit` minimises
    `loss + decoupling_weight * decoupling`. Reverse scheduled sampling is
    on by default: wrap the backbone in `ScheduledSamplingModel` to train with
    it. Inference is the auto-regressive evaluation path.

    Args:
        input_length, output_length, height, width, channels, hidden_dims,
        kernel_size, stride, patch_size, layer_norm: as `PredRNNBackbone`.
        decoupling_weight: float. `decouple_beta`. Defaults to 0.1.
        reverse_scheduled_sampling: bool. Defaults to True.
        output_constraint, clip: as `PredRNNBackbone`.
        dtype: the dtype policy. Defaults to None.

    Example:

    ```python
    import numpy as np
    from zoo.recurrent import PredRNNv2Backbone

    model = PredRNNv2Backbone(4, 4, 16, 16, 1, hidden_dims=[8, 8],
                              kernel_size=3, patch_size=2)
    y = model(np.random.rand(2, 4, 16, 16, 1).astype("float32"))  # (2, 4, 16, 16, 1)
    ```

    Reference:
        Wang et al., "PredRNN: A Recurrent Neural Network for Spatiotemporal
        Predictive Learning", TPAMI 2022, https://arxiv.org/abs/2103.09504
    """

    stack_class = PredRNNv2Stack

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
        decoupling_weight=0.1,
        reverse_scheduled_sampling=True,
        output_constraint=None,
        clip=None,
        dtype=None,
        **kwargs,
    ):
        self.decoupling_weight = decoupling_weight
        super().__init__(
            input_length,
            output_length,
            height,
            width,
            channels,
            hidden_dims=hidden_dims,
            kernel_size=kernel_size,
            stride=stride,
            patch_size=patch_size,
            layer_norm=layer_norm,
            reverse_scheduled_sampling=reverse_scheduled_sampling,
            output_constraint=output_constraint,
            clip=clip,
            dtype=dtype,
            **kwargs,
        )

    def stack_options(self, input_length, output_length):
        return {
            "decoupling_weight": self.decoupling_weight,
            "num_steps": input_length + output_length - 1,
        }

    def get_config(self):
        return {**super().get_config(), "decoupling_weight": self.decoupling_weight}
