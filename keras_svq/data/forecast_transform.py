"""Raw input windows -> model space -> forecasts on the raw grid, as training did.

`predict` (numpy) and the exported SavedModel (TensorFlow ops in the graph)
both go through a `ForecastTransform`, so a client sends what it has (NaN over
land, a radar's 65535 codes, the original 512 x 512 grid) and gets back a
forecast on that grid:

1. inputs: missing-value codes and NaN/Inf are missing; pixels outside the
   run's static input mask are invalid; the run's preprocessing (crop, coarsen,
   pad) maps them to the model grid; normalised; missing values become 0 (the
   training mean), as in training. A window without one valid input pixel is
   an error. A run whose data had no missing values (`nan_policy` "raise" or
   "drop") never saw a filled input, so missing values there are refused,
   with their count and the first one's location, instead of being filled.
2. outputs: denormalised; pixels that can never be valid targets (the static
   mask, padding, pixels missing in every training frame) are set to NaN (or
   to `fill_value`); the preprocessing is undone (NaN outside the crop), unless
   `processed_grid=True` keeps the model's grid.
"""

import json

import numpy as np

from keras_svq.data.normalizer import Normalizer
from keras_svq.data.preprocessing import Preprocessing


class ForecastTransform:
    """What a run does to raw windows before its model, and to forecasts after.

    Args:
        normalizer: the run's `Normalizer`.
        preprocessing: the run's resolved `Preprocessing`, or None (identity).
        missing_value: tuple of missing-value codes. Defaults to none.
        input_mask: bool `(H, W, C)` on the raw grid, or None: the static
            validity mask the data came with (False pixels are filled).
        valid_mask: bool `(h, w, C)` on the model grid, or None: where a
            forecast can be valid (elsewhere it is NaN / `fill_value`).
        fill_value: float or None. Written over invalid forecast pixels
            instead of NaN (e.g. the data's missing code). Defaults to None.
        nan_policy: str. The training data's `nan_policy`: "fill" fills
            missing input values as training did; "raise" or "drop" refuse
            them (the model never saw a filled input). Defaults to "raise".

    Example:

    ```python
    transform = ForecastTransform(splits.normalizer, splits.preprocessing,
                                  valid_mask=splits.valid_mask)
    forecast = transform.finish(model.predict(transform.prepare(raw_windows)))
    ```
    """

    def __init__(
        self,
        normalizer,
        preprocessing=None,
        missing_value=(),
        input_mask=None,
        valid_mask=None,
        fill_value=None,
        nan_policy="raise",
    ):
        self.normalizer = normalizer
        self.nan_policy = nan_policy
        self.preprocessing = preprocessing
        self.missing_value = tuple(float(v) for v in missing_value or ())
        self.input_mask = None if input_mask is None else np.asarray(input_mask, bool)
        self.valid_mask = None if valid_mask is None else np.asarray(valid_mask, bool)
        self.fill_value = None if fill_value is None else float(fill_value)

    # ------------------------------------------------------------ shapes
    @property
    def raw_shape(self):
        """`(H, W)` the transform takes, or None if any grid is accepted."""
        if self.preprocessing is None:
            return None
        return tuple(self.preprocessing.input_shape)

    @property
    def model_shape(self):
        if self.preprocessing is None:
            return None
        return tuple(self.preprocessing.output_shape)

    @property
    def refuses_missing(self):
        return self.nan_policy != "fill"

    # ------------------------------------------------------------- numpy
    def prepare(self, x, processed=False):
        """Raw windows `(N, T, H, W, C)` -> normalised, filled model inputs.

        Args:
            x: float array in physical units, NaN / codes where missing.
            processed: bool. `x` is already on the model grid (no crop etc.).

        Raises:
            ValueError: a window has no valid input pixel (names its index),
                or a value is missing and the run does not fill (the count and
                the first location).
        """
        x = np.array(x, dtype="float32")
        for code in self.missing_value:
            x[x == np.float32(code)] = np.nan
        x[~np.isfinite(x)] = np.nan
        if self.refuses_missing:
            missing = np.isnan(x)
            if self.input_mask is not None and not processed:
                missing &= self.input_mask
            if missing.any():
                first = [int(i) for i in np.argwhere(missing)[0]]
                raise ValueError(
                    f"{int(missing.sum())} input value(s) are NaN/Inf or a missing-value "
                    f"code (the first at [window, frame, row, column, channel] = {first}); "
                    f"this run's data had none (nan_policy={self.nan_policy!r}), so it "
                    "cannot fill them: replace them, or train with data.nan_policy: fill"
                )
        if not processed:
            if self.input_mask is not None:
                x = np.where(self.input_mask, x, np.float32(np.nan))
            if self.preprocessing is not None:
                x = self.preprocessing.apply(x)
        if not len(x):  # N = 0: nothing to check
            return np.zeros(x.shape, "float32")
        empty = np.flatnonzero(~np.isfinite(x).reshape(len(x), -1).any(axis=1))
        if len(empty):
            raise ValueError(
                f"Input window(s) {empty[:10].tolist()} have no valid pixel (every "
                "value is missing or masked); a forecast needs at least one."
            )
        z = self.normalizer.normalize(x)
        return np.where(np.isnan(z), np.float32(0), z).astype("float32")

    def finish(self, y, processed_grid=False):
        """Model outputs `(N, T, h, w, C)` -> forecasts in physical units."""
        y = self.normalizer.denormalize(y)
        invalid = np.float32(np.nan if self.fill_value is None else self.fill_value)
        if self.valid_mask is not None:
            y = np.where(self.valid_mask, y, invalid)
        if not processed_grid and self.preprocessing is not None:
            y = self.preprocessing.undo(y)
            if self.fill_value is not None:
                y = np.where(np.isnan(y), invalid, y)
        return y.astype("float32")

    # ---------------------------------------------------------------- tf
    def tf_prepare(self, x):
        """`prepare` with TensorFlow ops (for the SavedModel graph)."""
        import tensorflow as tf

        x = tf.cast(x, tf.float32)
        nan = tf.constant(np.nan, tf.float32)
        for code in self.missing_value:
            x = tf.where(tf.equal(x, code), nan, x)
        x = tf.where(tf.math.is_finite(x), x, nan)
        checks = []
        if self.refuses_missing:
            missing = tf.math.is_nan(x)
            if self.input_mask is not None:
                missing = tf.logical_and(missing, tf.constant(self.input_mask))
            count = tf.reduce_sum(tf.cast(missing, tf.int64))
            checks.append(
                tf.debugging.Assert(
                    tf.equal(count, 0),
                    [
                        "inputs hold NaN/Inf or missing-code values; count:",
                        count,
                        "first at [window, frame, row, column, channel]:",
                        tf.where(missing)[:1],
                        "the training data of this model had none (nan_policy: "
                        f"{self.nan_policy}), so it cannot fill them",
                    ],
                    summarize=8,
                )
            )
        if self.input_mask is not None:
            x = tf.where(tf.constant(self.input_mask), x, nan)
        if self.preprocessing is not None and not self.preprocessing.is_identity:
            x = self.preprocessing.tf_apply(x)
        finite = tf.reduce_any(
            tf.reshape(tf.math.is_finite(x), [tf.shape(x)[0], -1]), axis=1
        )
        checks.append(
            tf.debugging.Assert(
                tf.reduce_all(finite),
                [
                    "An input window has no valid pixel (every value is missing or masked)"
                ],
            )
        )
        with tf.control_dependencies(checks):
            mean = tf.constant(self.normalizer.mean, tf.float32)
            std = tf.constant(self.normalizer.std, tf.float32)
            z = (x - mean) / std
        return tf.where(tf.math.is_nan(z), tf.zeros_like(z), z)

    def tf_finish(self, y):
        """`finish` with TensorFlow ops (for the SavedModel graph)."""
        import tensorflow as tf

        y = tf.cast(y, tf.float32)
        mean = tf.constant(self.normalizer.mean, tf.float32)
        std = tf.constant(self.normalizer.std, tf.float32)
        y = y * std + mean
        invalid = np.nan if self.fill_value is None else self.fill_value
        if self.valid_mask is not None:
            y = tf.where(tf.constant(self.valid_mask), y, tf.fill(tf.shape(y), invalid))
        if self.preprocessing is not None and not self.preprocessing.is_identity:
            y = self.preprocessing.tf_undo(y)
            if self.fill_value is not None:
                y = tf.where(tf.math.is_nan(y), tf.fill(tf.shape(y), invalid), y)
        return y

    # ------------------------------------------------------------ saving
    def get_config(self):
        """JSON-ready facts (the masks are saved separately, see `save_masks`)."""
        return {
            "normalizer": self.normalizer.get_config(),
            "preprocessing": (
                None if self.preprocessing is None else self.preprocessing.get_config()
            ),
            "missing_value": list(self.missing_value),
            "fill_value": self.fill_value,
            "nan_policy": self.nan_policy,
        }

    @classmethod
    def from_config(cls, config, masks=None):
        masks = masks or {}
        preprocessing = config.get("preprocessing")
        return cls(
            Normalizer.from_config(config["normalizer"]),
            None if preprocessing is None else Preprocessing.from_config(preprocessing),
            missing_value=config.get("missing_value") or (),
            input_mask=masks.get("input_mask"),
            valid_mask=masks.get("valid_mask"),
            fill_value=config.get("fill_value"),
            # Runs written before the policy was stored always filled.
            nan_policy=config.get("nan_policy", "fill"),
        )

    def masks(self):
        """`{name: bool array}` of the masks that are set."""
        return {
            name: value
            for name, value in (
                ("input_mask", self.input_mask),
                ("valid_mask", self.valid_mask),
            )
            if value is not None
        }

    def __repr__(self):
        return f"ForecastTransform({json.dumps(self.get_config())})"
