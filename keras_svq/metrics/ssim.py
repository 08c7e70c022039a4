"""`SSIM`: structural similarity (scikit-image's defaults) as a streaming Keras metric."""

import keras
from keras import ops

from keras_svq.metrics.frame_metric import FrameMetric

_K1 = 0.01
_K2 = 0.03


def ssim_per_frame(y_true, y_pred, data_range=1.0, win_size=7):
    """SSIM per frame of `(B, T, H, W, C)` tensors -> `(B, T)`, in `keras.ops`.

    Matches scikit-image's `structural_similarity(..., channel_axis=-1,
    data_range=data_range)`: a `win_size` uniform window, sample covariance,
    K1=0.01, K2=0.03, the mean over channels and over the valid interior (the
    border of `(win_size - 1) // 2` pixels that scikit-image crops).
    """
    shape = ops.shape(y_true)
    frames = (-1,) + tuple(y_true.shape[2:])
    x = ops.reshape(ops.cast(y_pred, "float32"), frames)
    y = ops.reshape(ops.cast(y_true, "float32"), frames)

    def box(a):
        return ops.average_pool(a, pool_size=win_size, strides=1, padding="valid")

    # Centre each image: (co)variances are shift invariant, and centring avoids
    # the float32 cancellation of E[x^2] - E[x]^2.
    xc = x - ops.mean(x, axis=(1, 2), keepdims=True)
    yc = y - ops.mean(y, axis=(1, 2), keepdims=True)
    ux, uy = box(x), box(y)
    uxc, uyc = box(xc), box(yc)
    cov_norm = win_size**2 / (win_size**2 - 1.0)
    vx = cov_norm * (box(xc * xc) - uxc * uxc)
    vy = cov_norm * (box(yc * yc) - uyc * uyc)
    vxy = cov_norm * (box(xc * yc) - uxc * uyc)
    c1 = (_K1 * data_range) ** 2
    c2 = (_K2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / (
        (ux * ux + uy * uy + c1) * (vx + vy + c2)
    )
    return ops.reshape(ops.mean(s, axis=(1, 2, 3)), (shape[0], shape[1]))


@keras.saving.register_keras_serializable(package="keras_svq")
class SSIM(FrameMetric):
    """Mean structural similarity over frames, as OpenSTL reports it.

    Predictions are clipped to `clip_range`; SSIM is scikit-image's (7x7
    uniform window), averaged over channels, then over frames. The reference
    used scikit-image's implicit float data range of 2; the default here is the
    true span of `clip_range` (1). Pass `data_range=2.0` to compare with the
    reference's published numbers.

    Args:
        data_range: float or None. Defaults to the span of `clip_range`.
        clip_range: `(low, high)`. Defaults to `(0.0, 1.0)`.
        mean: per-channel offset for denormalisation, or None.
        std: per-channel scale for denormalisation, or None.
        name: str. Defaults to `"ssim"`.
        dtype: accumulator dtype.

    Example:

    ```python
    model.compile(optimizer="adam", loss="mse", metrics=[SSIM()])
    ```
    """

    def __init__(
        self,
        data_range=None,
        clip_range=(0.0, 1.0),
        mean=None,
        std=None,
        name="ssim",
        dtype=None,
    ):
        super().__init__(mean=mean, std=std, name=name, dtype=dtype)
        self.clip_range = tuple(float(v) for v in clip_range)
        self.data_range = (
            self.clip_range[1] - self.clip_range[0]
            if data_range is None
            else float(data_range)
        )

    def frame_values(self, y_true, y_pred):
        y_pred = ops.clip(y_pred, self.clip_range[0], self.clip_range[1])
        return ssim_per_frame(y_true, y_pred, data_range=self.data_range)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"data_range": self.data_range, "clip_range": list(self.clip_range)}
        )
        return config
