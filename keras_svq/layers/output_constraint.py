"""Physical bounds (non-negativity, a clip range) applied in model space."""

import math

import keras
import numpy as np
from keras import ops

CONSTRAINTS = ("nonnegative",)


def _check_clip(clip):
    """`clip` as `[lo, hi]` floats (either may be None), or None."""
    if clip is None:
        return None
    if not isinstance(clip, (list, tuple)) or len(clip) != 2:
        raise ValueError(
            "`clip` must be None or a pair `[lo, hi]` of physical bounds (either "
            f"may be None for a one-sided bound). Received: clip={clip!r}"
        )
    bounds = []
    for value in clip:
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float, np.number))
            or not math.isfinite(value)
        ):
            raise ValueError(
                "The bounds of `clip` must be finite numbers or None. "
                f"Received: clip={clip!r}"
            )
        bounds.append(None if value is None else float(value))
    lo, hi = bounds
    if lo is None and hi is None:
        raise ValueError(
            "`clip` needs at least one bound; pass clip=None for no clipping. "
            f"Received: clip={clip!r}"
        )
    if lo is not None and hi is not None and not lo < hi:
        raise ValueError(f"`clip` must satisfy lo < hi. Received: clip={clip!r}")
    return bounds


@keras.saving.register_keras_serializable(package="keras_svq")
class OutputConstraint(keras.layers.Layer):
    """Clips a forecast to physical bounds, given the data's normaliser.

    Models work in normalised space, `y_model = (y_phys - mean) / std` per
    channel, but the constraints users know are physical: counts and rain are
    non-negative, a cloud fraction lies in `[0, 1]`. This layer holds the
    training data's normaliser as two non-trainable per-channel weights
    `mean` and `std` (identity until `set_normalization(mean, std)` is
    called, typically once the data are loaded) and clips its input to the
    physical bounds mapped into model space, `(bound - mean) / std`, channel by
    channel. `mean` and `std` are saved with the model's weights, so a
    reloaded model clips the same way.

    The clip is hard (`maximum` / `minimum`): values beyond a bound come out
    exactly at it and their gradient is zero, so the loss no longer pulls a
    prediction that sits below the bound back up; the model is only kept from
    reporting impossible values. `constraint="nonnegative"` is the lower
    bound 0 and combines with `clip` (the tighter lower bound wins). The
    computation runs in float32 and is cast back under mixed precision (the
    bound is then rounded to the compute dtype). A negative `std` (a flipped
    scale) swaps which model-space bound is the lower one.

    Args:
        constraint: str or None. `"nonnegative"` (physical `y >= 0`) or None.
            Defaults to None.
        clip: None or a pair `[lo, hi]` of physical bounds, either of which
            may be None for a one-sided bound; `lo < hi`. Defaults to None.
        channels: int or None. Number of channels C. None takes it from the
            input when the layer is built; an int is checked against the input
            and lets `set_normalization` build the layer before any call.
            Defaults to None.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a tensor `(B, T, H, W, C)` (any `(..., C)`), in model space.

    Input shape: `(B, T, H, W, C)`. Output shape: the same.

    Example:

    ```python
    import numpy as np
    from keras_svq.layers import OutputConstraint

    layer = OutputConstraint(constraint="nonnegative", channels=1)
    layer.set_normalization(mean=[10.0], std=[2.0])  # physical 0 is -5 here
    y = layer(np.full((2, 4, 16, 16, 1), -8.0, "float32"))  # every value is -5.0
    ```
    """

    def __init__(self, constraint=None, clip=None, channels=None, **kwargs):
        super().__init__(**kwargs)
        if constraint is not None and constraint not in CONSTRAINTS:
            raise ValueError(
                f"`constraint` must be None or one of {list(CONSTRAINTS)}. "
                f"Received: constraint={constraint!r}"
            )
        clip = _check_clip(clip)
        if channels is not None and (
            isinstance(channels, bool) or not isinstance(channels, int) or channels < 1
        ):
            raise ValueError(
                "`channels` must be None or a positive integer. "
                f"Received: channels={channels!r}"
            )
        lo, hi = clip if clip is not None else (None, None)
        if constraint == "nonnegative":
            if hi is not None and hi <= 0:
                raise ValueError(
                    'constraint="nonnegative" needs an upper bound of `clip` above '
                    f"0. Received: constraint={constraint!r}, clip={clip!r}"
                )
            lo = 0.0 if lo is None else max(lo, 0.0)
        self.constraint = constraint
        self.clip = clip
        self.channels = channels
        # The effective physical bounds; an absent one is infinite.
        self._lower = -math.inf if lo is None else lo
        self._upper = math.inf if hi is None else hi

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            channels = self.channels
        if channels is None:
            raise ValueError(
                "`OutputConstraint` needs a known channel axis: pass `channels` or "
                f"an input with a defined last axis. Received: input_shape={input_shape}"
            )
        if self.channels is not None and channels != self.channels:
            raise ValueError(
                f"The input has {channels} channels but the layer was created with "
                f"channels={self.channels}. Received: input_shape={input_shape}"
            )
        # Set once from the data (not in a train step); "mean" keeps replicas
        # of a tf.distribute strategy in agreement.
        self.mean = self.add_weight(
            name="mean",
            shape=(channels,),
            initializer="zeros",
            trainable=False,
            dtype="float32",
            aggregation="mean",
        )
        self.std = self.add_weight(
            name="std",
            shape=(channels,),
            initializer="ones",
            trainable=False,
            dtype="float32",
            aggregation="mean",
        )

    def set_normalization(self, mean, std):
        """Sets the normaliser that maps physical values to the model's space.

        Args:
            mean: scalar or array-like `(C,)`. Per-channel offset.
            std: scalar or array-like `(C,)`. Per-channel scale, finite and
                non-zero.
        """
        if not self.built:
            if self.channels is None:
                raise ValueError(
                    "`set_normalization` before the layer is built needs "
                    "`channels`: call the layer once or pass `channels=C`."
                )
            self.build((None, self.channels))
        channels = self.mean.shape[0]
        values = {}
        for name, value in (("mean", mean), ("std", std)):
            array = np.asarray(value, dtype="float64")
            if array.ndim > 1 or (
                array.ndim == 1 and array.shape[0] not in (1, channels)
            ):
                raise ValueError(
                    f"`{name}` must be a scalar or have shape ({channels},). "
                    f"Received: {name}.shape={array.shape}"
                )
            values[name] = np.broadcast_to(array, (channels,)).astype("float32")
        if not np.all(np.isfinite(values["mean"])):
            raise ValueError(f"`mean` must be finite. Received: mean={values['mean']}")
        if not np.all(np.isfinite(values["std"])) or np.any(values["std"] == 0):
            raise ValueError(
                f"`std` must be finite and non-zero. Received: std={values['std']}"
            )
        self.mean.assign(values["mean"])
        self.std.assign(values["std"])

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        mean = ops.cast(self.mean, "float32")
        std = ops.cast(self.std, "float32")
        # (bound - mean) / std per channel. A negative std swaps the two, so
        # both are always applied; an absent bound is infinite, a no-op.
        a = (self._lower - mean) / std
        b = (self._upper - mean) / std
        x = ops.maximum(x, ops.minimum(a, b))
        x = ops.minimum(x, ops.maximum(a, b))
        return ops.cast(x, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "constraint": self.constraint,
            "clip": self.clip,
            "channels": self.channels,
        }
