"""Per-channel affine normalisation: z-score, min-max, or the identity."""

import numpy as np


class Normalizer:
    """Maps physical values to model space and back, per channel.

    `normalize(a) = (a - mean) / std` and `denormalize(a) = a * std + mean`, with
    `mean` and `std` of shape `(C,)` broadcasting over the last (channel) axis of
    channels-last arrays `(..., C)`. A z-score uses the training mean and standard
    deviation; a min-max scaling to [0, 1] is the same map with `mean=min` and
    `std=max - min`; the identity is `mean=0, std=1`.

    Args:
        mean: array-like of shape `(C,)` (or a scalar). Offset.
        std: array-like of shape `(C,)` (or a scalar). Scale; must be non-zero.
        kind: str. A label for humans: `"zscore"`, `"minmax"` or `"identity"`.
            Defaults to `"zscore"`.

    Example:

    ```python
    normalizer = Normalizer.fit(train_frames)        # (T, H, W, C)
    z = normalizer.normalize(train_frames)
    back = normalizer.denormalize(z)
    ```
    """

    def __init__(self, mean, std, kind="zscore"):
        mean = np.atleast_1d(np.asarray(mean, dtype="float64"))
        std = np.atleast_1d(np.asarray(std, dtype="float64"))
        if mean.ndim != 1 or std.ndim != 1:
            raise ValueError(
                "`mean` and `std` must be scalars or 1-D per-channel arrays. "
                f"Received: mean.shape={mean.shape}, std.shape={std.shape}"
            )
        if not np.all(np.isfinite(std)) or np.any(std == 0):
            raise ValueError(f"`std` must be finite and non-zero. Received: std={std}")
        self.mean = mean.astype("float32")
        self.std = std.astype("float32")
        self.kind = kind

    # ------------------------------------------------------------ constructors
    @classmethod
    def identity(cls, channels=1):
        return cls(np.zeros(channels), np.ones(channels), kind="identity")

    @classmethod
    def fit(cls, frames, kind="zscore"):
        """Fits per-channel statistics over every axis but the last (NaN ignored).

        Args:
            frames: array `(..., C)`, e.g. the training frames `(T, H, W, C)`.
            kind: `"zscore"` (mean / population std, as numpy's `std`) or
                `"minmax"` (min / max - min, mapping the data to [0, 1]).
        """
        frames = np.asarray(frames)
        axes = tuple(range(frames.ndim - 1))
        if kind == "zscore":
            mean = np.nanmean(frames, axis=axes, dtype="float64")
            std = np.nanstd(frames, axis=axes, dtype="float64")
        elif kind == "minmax":
            mean = np.nanmin(frames, axis=axes).astype("float64")
            std = np.nanmax(frames, axis=axes).astype("float64") - mean
        else:
            raise ValueError(
                f"Unknown normalisation kind. Valid: 'zscore', 'minmax'. Received: kind={kind!r}"
            )
        return cls(mean, _safe_scale(std), kind=kind)

    @classmethod
    def from_statistics(cls, offset, scale, kind="zscore"):
        """A normaliser from per-channel statistics computed elsewhere (a chunked pass).

        A zero or non-finite `scale` (a constant channel) becomes 1.
        """
        return cls(offset, _safe_scale(scale), kind=kind)

    @classmethod
    def from_moments(cls, count, total, total_sq):
        """A z-score from running sums (for data streamed in chunks)."""
        count = np.asarray(count, dtype="float64")
        mean = np.asarray(total, dtype="float64") / count
        var = np.maximum(np.asarray(total_sq, dtype="float64") / count - mean**2, 0.0)
        return cls(mean, _safe_scale(np.sqrt(var)), kind="zscore")

    # --------------------------------------------------------------- mapping
    def normalize(self, a):
        """`(a - mean) / std`, channels last."""
        return (np.asarray(a, dtype="float32") - self.mean) / self.std

    def denormalize(self, a):
        """`a * std + mean`, channels last (back to physical units)."""
        return np.asarray(a, dtype="float32") * self.std + self.mean

    @property
    def channels(self):
        return int(self.mean.shape[0])

    def get_config(self):
        return {"mean": self.mean.tolist(), "std": self.std.tolist(), "kind": self.kind}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"Normalizer(kind={self.kind!r}, mean={self.mean}, std={self.std})"


def _safe_scale(scale):
    """A constant channel has zero spread; scale it by 1 instead of dividing by 0."""
    scale = np.asarray(scale, dtype="float64")
    return np.where((scale > 0) & np.isfinite(scale), scale, 1.0)
