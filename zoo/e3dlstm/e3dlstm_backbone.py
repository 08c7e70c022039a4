"""E3D-LSTM as a keras-svq backbone."""

import keras

from zoo.e3dlstm.e3dlstm_stack import E3DLSTMStack
from zoo.predrnn.predrnn_backbone import PredRNNBackbone
from zoo.registry import register_backbone


@keras.saving.register_keras_serializable(package="keras_svq")
@register_backbone("E3DLSTMBackbone")
class E3DLSTMBackbone(PredRNNBackbone):
    """E3D-LSTM: eidetic 3D LSTMs over 2-frame windows of patched frames.

    Same interface and unrolling as `PredRNNBackbone`, with the stack of
    `E3DLSTMStack`; the gate convs are 3D with kernel `(2, kernel_size,
    kernel_size)` (the reference always uses `(2, 5, 5)`, whatever its
    `filter_size`). This is OpenSTL's `E3DLSTM_Model`; its checkpoints load
    with `load_recurrent_state_dict`. The reference trains it with MSE + L1;
    compile with that loss to do the same.

    Args:
        input_length, output_length, height, width, channels, hidden_dims,
        kernel_size, patch_size, layer_norm, reverse_scheduled_sampling,
        output_constraint, clip, dtype: as `PredRNNBackbone`.
        stride: int. Stride of the 3D gate convs; their outputs are resampled
            to the window's size, so any stride works (the reference's KTH
            config uses 2). Defaults to 1.

    Example:

    ```python
    import numpy as np
    from zoo.recurrent import E3DLSTMBackbone

    model = E3DLSTMBackbone(4, 4, 16, 16, 1, hidden_dims=[8, 8],
                            kernel_size=3, patch_size=2)
    y = model(np.random.rand(2, 4, 16, 16, 1).astype("float32"))  # (2, 4, 16, 16, 1)
    ```

    Reference:
        Wang et al., "Eidetic 3D LSTM: A Model for Video Prediction and
        Beyond", ICLR 2019, https://openreview.net/forum?id=B1lKS2AqtX
    """

    stack_class = E3DLSTMStack
