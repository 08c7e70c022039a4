"""`ForecastMAE`: OpenSTL's MAE as a streaming Keras metric."""

import keras
from keras import ops

from keras_svq.metrics.frame_metric import FrameErrorMetric


@keras.saving.register_keras_serializable(package="keras_svq")
class ForecastMAE(FrameErrorMetric):
    """Mean absolute error as OpenSTL computes it, streamed over batches.

    Per frame, the absolute error summed over `C*H*W` (traffic, video; named
    `"frame_mae"`) or averaged over them (`spatial_norm=True`, weather; named
    `"mae"`, Keras' per-element mean); the result is the mean over every frame
    seen. Inputs are denormalised with `mean`/`std` if given.

    Args:
        spatial_norm: bool. Per-element mean instead of per-frame sum.
            Defaults to False.
        mean: per-channel offset for denormalisation, or None.
        std: per-channel scale for denormalisation, or None.
        name: str or None. Defaults to `"mae"` with `spatial_norm`,
            `"frame_mae"` without.
        dtype: accumulator dtype.

    Example:

    ```python
    model.compile(optimizer="adam", loss="mse",
                  metrics=[ForecastMAE(spatial_norm=True, mean=[280.7], std=[2.3])])
    ```
    """

    base_name = "mae"

    def __init__(self, spatial_norm=False, mean=None, std=None, name=None, dtype=None):
        super().__init__(
            spatial_norm=spatial_norm, mean=mean, std=std, name=name, dtype=dtype
        )

    def elementwise_error(self, diff):
        return ops.abs(diff)
