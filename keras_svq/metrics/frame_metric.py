"""`FrameMetric`: the base of the streaming metrics, a running mean of per-frame values."""

import keras
import numpy as np
from keras import ops


class FrameMetric(keras.metrics.Metric):
    """Running mean over frames of a per-frame value, for `compile(metrics=...)`.

    Subclasses implement `frame_values(y_true, y_pred) -> (B, T)`. Inputs are
    `(B, T, H, W, C)` in model space; with `mean` and `std` both are first
    denormalised (`a * std + mean`), as OpenSTL's `metric()` does. The result
    equals `openstl_metrics` on the concatenation of every batch seen.

    Args:
        mean: list of float (per channel) or float, or None. Denormalisation offset.
        std: list of float (per channel) or float, or None. Denormalisation scale.
        name: str. Metric name.
        dtype: accumulator dtype. Defaults to float32.

    Call arguments (`update_state`):
        y_true: tensor `(B, T, H, W, C)`.
        y_pred: tensor `(B, T, H, W, C)`.
        sample_weight: optional `(B,)` weights per sequence.
    """

    def __init__(self, mean=None, std=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.mean = _as_list(mean)
        self.std = _as_list(std)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def denormalize(self, a):
        a = ops.cast(a, "float32")
        if self.mean is not None and self.std is not None:
            a = a * ops.convert_to_tensor(self.std, "float32") + ops.convert_to_tensor(
                self.mean, "float32"
            )
        return a

    def frame_values(self, y_true, y_pred):
        raise NotImplementedError

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = self.denormalize(y_true)
        y_pred = self.denormalize(y_pred)
        values = ops.cast(self.frame_values(y_true, y_pred), "float32")
        if sample_weight is None:
            total = ops.sum(values)
            count = ops.cast(ops.size(values), "float32")
        else:
            weight = ops.reshape(ops.cast(sample_weight, "float32"), (-1, 1))
            weight = ops.broadcast_to(weight, ops.shape(values))
            total = ops.sum(values * weight)
            count = ops.sum(weight)
        self.total.assign(self.total + ops.cast(total, self.dtype))
        self.count.assign(self.count + ops.cast(count, self.dtype))

    def result(self):
        return ops.divide_no_nan(self.total, self.count)

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        config = super().get_config()
        config.update({"mean": self.mean, "std": self.std})
        return config


def _as_list(value):
    if value is None:
        return None
    return [float(v) for v in np.asarray(value, dtype="float64").reshape(-1)]


def frame_sum(values):
    """Sum over (H, W, C) of `(B, T, H, W, C)` -> `(B, T)`."""
    return ops.sum(values, axis=(2, 3, 4))


def elements_per_frame(x):
    shape = ops.shape(x)
    return ops.cast(shape[2] * shape[3] * shape[4], "float32")


class FrameErrorMetric(FrameMetric):
    """A per-frame error of OpenSTL: `error(pred - true)` summed over `C*H*W`.

    With `spatial_norm=True` (weather) the sum becomes a per-element mean.
    The default name says which: `base_name` (e.g. `"mse"`, the per-element
    mean Keras means by it) or `"frame_" + base_name` (the per-frame sum,
    which grows with the frame size). Subclasses set `base_name` and
    `elementwise_error(diff)`.

    Args:
        spatial_norm: bool. Per-element mean instead of per-frame sum.
            Defaults to False.
        mean: per-channel offset for denormalisation, or None.
        std: per-channel scale for denormalisation, or None.
        name: str or None. The metric's name; None names it by what it
            computes (`"mse"` or `"frame_mse"`, ...).
        dtype: accumulator dtype.
    """

    base_name = None

    def __init__(self, spatial_norm=False, mean=None, std=None, name=None, dtype=None):
        if name is None and self.base_name:
            name = self.base_name if spatial_norm else f"frame_{self.base_name}"
        super().__init__(mean=mean, std=std, name=name, dtype=dtype)
        self.spatial_norm = bool(spatial_norm)

    def elementwise_error(self, diff):
        raise NotImplementedError

    def frame_values(self, y_true, y_pred):
        values = frame_sum(self.elementwise_error(y_pred - y_true))
        if self.spatial_norm:
            values = values / elements_per_frame(y_true)
        return values

    def get_config(self):
        config = super().get_config()
        config.update({"spatial_norm": self.spatial_norm})
        return config
