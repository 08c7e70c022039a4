"""MIM as a keras-svq backbone."""

import keras

from zoo.mim.mim_stack import MIMStack
from zoo.predrnn.predrnn_backbone import PredRNNBackbone
from zoo.registry import register_backbone


@keras.saving.register_keras_serializable(package="keras_svq")
@register_backbone("MIMBackbone")
class MIMBackbone(PredRNNBackbone):
    """MIM (Memory In Memory): an ST-LSTM layer, then MIM blocks.

    Same interface and unrolling as `PredRNNBackbone`, with the stack of
    `MIMStack`. This is OpenSTL's `MIM_Model`; its checkpoints load with
    `load_recurrent_state_dict`. One deviation: the reference keeps each
    block's inner `MIMS` cell state on the module across batches; here it
    starts from zero for each sequence, so a forecast depends on its own
    input only.

    Args:
        input_length, output_length, height, width, channels, hidden_dims,
        kernel_size, stride, patch_size, layer_norm,
        reverse_scheduled_sampling, output_constraint, clip, dtype: as
            `PredRNNBackbone`.

    Example:

    ```python
    import numpy as np
    from zoo.recurrent import MIMBackbone

    model = MIMBackbone(4, 4, 16, 16, 1, hidden_dims=[8, 8],
                        kernel_size=3, patch_size=2)
    y = model(np.random.rand(2, 4, 16, 16, 1).astype("float32"))  # (2, 4, 16, 16, 1)
    ```

    Reference:
        Wang et al., "Memory In Memory: A Predictive Neural Network for
        Learning Higher-Order Non-Stationarity from Spatiotemporal Dynamics",
        https://arxiv.org/abs/1811.07490
    """

    stack_class = MIMStack
