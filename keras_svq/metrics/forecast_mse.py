"""`ForecastMSE`: OpenSTL's MSE as a streaming Keras metric."""

import keras
from keras import ops

from keras_svq.metrics.frame_metric import FrameMetric
from keras_svq.metrics.frame_metric import elements_per_frame
from keras_svq.metrics.frame_metric import frame_sum


@keras.saving.register_keras_serializable(package="keras_svq")
class ForecastMSE(FrameMetric):
    """Mean squared error as OpenSTL computes it, streamed over batches.

    Per frame, the squared error summed over `C*H*W` (traffic, video) or
    averaged over them (`spatial_norm=True`, weather); the result is the mean
    over every frame seen. Inputs are denormalised with `mean`/`std` if given.

    Args:
        spatial_norm: bool. Per-element mean instead of per-frame sum.
            Defaults to False.
        mean: per-channel offset for denormalisation, or None.
        std: per-channel scale for denormalisation, or None.
        name: str. Defaults to `"mse"`.
        dtype: accumulator dtype.

    Example:

    ```python
    model.compile(optimizer="adam", loss="mse",
                  metrics=[ForecastMSE(spatial_norm=True, mean=[280.7], std=[2.3])])
    ```
    """

    def __init__(self, spatial_norm=False, mean=None, std=None, name="mse", dtype=None):
        super().__init__(mean=mean, std=std, name=name, dtype=dtype)
        self.spatial_norm = bool(spatial_norm)

    def frame_values(self, y_true, y_pred):
        values = frame_sum(ops.square(y_pred - y_true))
        if self.spatial_norm:
            values = values / elements_per_frame(y_true)
        return values

    def get_config(self):
        config = super().get_config()
        config.update({"spatial_norm": self.spatial_norm})
        return config
