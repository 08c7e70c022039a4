"""`LPIPS`: LPIPS-alex v0.1 per frame, as a streaming Keras metric."""

import keras
from keras import ops

from keras_svq.metrics.frame_metric import FrameMetric
from keras_svq.metrics.lpips_network import shared_network


@keras.saving.register_keras_serializable(package="keras_svq")
class LPIPS(FrameMetric):
    """Mean over frames of the LPIPS-alex distance, as OpenSTL reports it.

    Predictions are clipped to `clip_range`, both images are mapped from
    `clip_range` to [-1, 1] (the reference: `img * 2 - 1` for [0, 1] data), and
    the AlexNet v0.1 network shipped with the package scores each frame.
    Grayscale frames are repeated to RGB.

    Args:
        clip_range: `(low, high)`. Defaults to `(0.0, 1.0)`.
        mean: per-channel offset for denormalisation, or None.
        std: per-channel scale for denormalisation, or None.
        name: str. Defaults to `"lpips"`.
        dtype: accumulator dtype.

    Example:

    ```python
    metric = LPIPS()
    metric.update_state(y_true, y_pred)   # (B, T, H, W, 1 or 3) in [0, 1]
    ```

    Reference: Zhang et al. 2018, arXiv:1801.03924.
    """

    def __init__(
        self, clip_range=(0.0, 1.0), mean=None, std=None, name="lpips", dtype=None
    ):
        super().__init__(mean=mean, std=std, name=name, dtype=dtype)
        self.clip_range = tuple(float(v) for v in clip_range)
        # The network is shared and built now (eagerly), not tracked as state.
        shared_network()

    def frame_values(self, y_true, y_pred):
        low, high = self.clip_range
        shape = ops.shape(y_true)
        frames = (-1,) + tuple(y_true.shape[2:])

        def to_unit(a):
            return 2.0 * (ops.reshape(a, frames) - low) / (high - low) - 1.0

        y_pred = ops.clip(y_pred, low, high)
        values = shared_network()(to_unit(y_pred), to_unit(y_true))
        return ops.reshape(values, (shape[0], shape[1]))

    def get_config(self):
        config = super().get_config()
        config.update({"clip_range": list(self.clip_range)})
        return config
