"""`PSNR`: peak signal-to-noise ratio per frame, as a streaming Keras metric."""

import keras
from keras import ops

from keras_svq.metrics.frame_metric import FrameMetric


def psnr_per_frame(y_true, y_pred, peak=1.0):
    """`20 log10(peak / sqrt(mse))` per frame of `(B, T, H, W, C)` -> `(B, T)`; inf if exact."""
    mse = ops.mean(
        ops.square(ops.cast(y_pred, "float32") - ops.cast(y_true, "float32")),
        axis=(2, 3, 4),
    )
    return 10.0 * ops.log(peak**2 / mse) / ops.log(10.0)


@keras.saving.register_keras_serializable(package="keras_svq")
class PSNR(FrameMetric):
    """Mean over frames of the per-frame PSNR, as OpenSTL reports it.

    Predictions are clipped to `clip_range`, whose span is the peak (1 for
    [0, 1] data, as the reference). A perfectly predicted frame has infinite
    PSNR, and so has the mean, as in the reference.

    Args:
        clip_range: `(low, high)`. Defaults to `(0.0, 1.0)`.
        mean: per-channel offset for denormalisation, or None.
        std: per-channel scale for denormalisation, or None.
        name: str. Defaults to `"psnr"`.
        dtype: accumulator dtype.

    Example:

    ```python
    model.compile(optimizer="adam", loss="mse", metrics=[PSNR()])
    ```
    """

    def __init__(
        self, clip_range=(0.0, 1.0), mean=None, std=None, name="psnr", dtype=None
    ):
        super().__init__(mean=mean, std=std, name=name, dtype=dtype)
        self.clip_range = tuple(float(v) for v in clip_range)

    def frame_values(self, y_true, y_pred):
        low, high = self.clip_range
        return psnr_per_frame(y_true, ops.clip(y_pred, low, high), peak=high - low)

    def get_config(self):
        config = super().get_config()
        config.update({"clip_range": list(self.clip_range)})
        return config
