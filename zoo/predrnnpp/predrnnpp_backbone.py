"""PredRNN++ as a keras-svq backbone."""

import keras

from zoo.predrnn.predrnn_backbone import PredRNNBackbone
from zoo.predrnnpp.predrnnpp_stack import PredRNNppStack
from zoo.registry import register_backbone


@keras.saving.register_keras_serializable(package="keras_svq")
@register_backbone("PredRNNppBackbone")
class PredRNNppBackbone(PredRNNBackbone):
    """PredRNN++: causal LSTM cells and a gradient highway unit.

    Same interface and unrolling as `PredRNNBackbone`, with the stack of
    `PredRNNppStack` (needs at least two layers). This is OpenSTL's
    `PredRNNpp_Model`; its checkpoints load with `load_recurrent_state_dict`.

    Args:
        input_length, output_length, height, width, channels, hidden_dims,
        kernel_size, stride, patch_size, layer_norm,
        reverse_scheduled_sampling, output_constraint, clip, dtype: as
            `PredRNNBackbone`.

    Example:

    ```python
    import numpy as np
    from zoo.recurrent import PredRNNppBackbone

    model = PredRNNppBackbone(4, 4, 16, 16, 1, hidden_dims=[8, 8],
                              kernel_size=3, patch_size=2)
    y = model(np.random.rand(2, 4, 16, 16, 1).astype("float32"))  # (2, 4, 16, 16, 1)
    ```

    Reference:
        Wang et al., "PredRNN++: Towards A Resolution of the Deep-in-Time
        Dilemma in Spatiotemporal Predictive Learning",
        https://arxiv.org/abs/1804.06300
    """

    stack_class = PredRNNppStack
