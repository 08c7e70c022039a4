"""`ForecastRMSE`: OpenSTL's RMSE (root of the global MSE) as a streaming Keras metric."""

import keras
from keras import ops

from keras_svq.metrics.forecast_mse import ForecastMSE


@keras.saving.register_keras_serializable(package="keras_svq")
class ForecastRMSE(ForecastMSE):
    """Root mean squared error as OpenSTL computes it: `sqrt` of the global MSE.

    The root is taken once, of the MSE over every frame seen (not averaged over
    batches or frames), so it equals `openstl_metrics(...)["rmse"]` with
    `spatial_norm=True` and `["frame_rmse"]` without.

    Args:
        spatial_norm: bool. Per-element mean (weather) instead of per-frame sum.
            Defaults to False.
        mean: per-channel offset for denormalisation, or None.
        std: per-channel scale for denormalisation, or None.
        name: str or None. Defaults to `"rmse"` with `spatial_norm`,
            `"frame_rmse"` without.
        dtype: accumulator dtype.

    Example:

    ```python
    metric = ForecastRMSE(spatial_norm=True)
    metric.update_state(y_true, y_pred)
    float(metric.result())
    ```
    """

    base_name = "rmse"

    def __init__(self, spatial_norm=False, mean=None, std=None, name=None, dtype=None):
        super().__init__(
            spatial_norm=spatial_norm, mean=mean, std=std, name=name, dtype=dtype
        )

    def result(self):
        return ops.sqrt(super().result())
