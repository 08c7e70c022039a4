"""The baselines every model is scored beside: persistence, climatology, optical flow.

A baseline forecasts test windows of a `Splits` without training:

- `persistence`: the last input frame, repeated ("the next hours equal now").
- `climatology`: the training split's mean field for the time of day each
  forecast is valid at (one field per time step of the day when the data's
  `info.time_step` is a fraction of a day, e.g. 24 hourly fields for ERA5,
  48 half-hourly ones for the taxi flows), else the training mean. Fitted on
  the training frames only.
- `optical_flow`: Lucas-Kanade motion of the last input frames, advected
  semi-Lagrangian over the lead times (pysteps, the nowcasting community's
  standard baseline for precipitation-like fields; the `pysteps` extra).

They work in model space (the normalised values the model sees), like the
model's own forecasts, so the same denormalisation turns both into physical
units.

Example:

```python
baselines = build_baselines(splits)              # persistence and climatology
x, y = splits.arrays("test")
positions = np.arange(len(x))
forecasts = {name: b.forecast(x, positions) for name, b in baselines.items()}
```
"""

import re

import numpy as np

from keras_svq.metrics.climatology import DAY_SECONDS
from keras_svq.metrics.climatology import Climatology

DEFAULT_BASELINES = ("persistence", "climatology")

_UNIT_SECONDS = {"s": 1, "sec": 1, "min": 60, "h": 3600, "hour": 3600, "d": 86400}
# Windows read to estimate a training mean when the split is not a frame
# series (generated or per-sequence sources).
_MAX_MEAN_WINDOWS = 2048
_CHUNK_ROWS = 512


def step_seconds(time_step):
    """Seconds between frames from a `DatasetInfo.time_step` ("1h", "30min"), or None."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+?)s?\s*", str(time_step or ""))
    if not match or match.group(2) not in _UNIT_SECONDS:
        return None
    return int(round(float(match.group(1)) * _UNIT_SECONDS[match.group(2)]))


def _crop(a, crop):
    if crop is None:
        return a
    return a[..., : crop[0], : crop[1], :]


class PersistenceBaseline:
    """The last input frame repeated over the lead times."""

    name = "persistence"

    def __init__(self, splits, crop=None):
        del crop
        self._output_length = int(splits.output_length)

    def forecast(self, x, positions):
        del positions
        from keras_svq.metrics.persistence import persistence_forecast

        return persistence_forecast(x, self._output_length).astype("float32")


class ClimatologyBaseline:
    """Training-split mean fields per time-of-day slot (or overall), in model space.

    Attributes:
        climatology: the fitted `keras_svq.metrics.Climatology`.
        slots: int. Fields per day (1 for the plain training mean).
    """

    name = "climatology"

    def __init__(self, splits, crop=None):
        self._test = splits.sources["test"]
        self._output_length = int(splits.output_length)
        train = splits.sources["train"]
        step = step_seconds(getattr(splits.info, "time_step", ""))
        series = (
            hasattr(train, "anchors")
            and hasattr(self._test, "anchors")
            and train.frames is self._test.frames
        )
        self._step = (
            step
            if series and step and step < DAY_SECONDS and DAY_SECONDS % step == 0
            else None
        )
        if series:
            fields = self._fit_series(train, crop)
        else:
            fields = self._fit_windows(train, crop)
        self.climatology = Climatology(
            fields, slot_seconds=self._step if self._step else None
        )
        self.slots = int(fields.shape[0])

    def _seconds(self, rows):
        """Seconds since the start of each row's sequence."""
        starts = self._test.sequence_starts
        sequence = np.searchsorted(starts, rows, side="right") - 1
        return (rows - starts[sequence]) * self._step

    def _fit_series(self, train, crop):
        rows = np.unique(train.anchors[:, None] + train._offsets[None, :])
        slots = DAY_SECONDS // self._step if self._step else 1
        total = count = None
        reader = type(train)(
            train.frames,
            rows,
            [0],
            [0],
            normalizer=train.normalizer,
            scale=train.scale,
            fill_missing=train.fill_missing,
            target_mask=train.target_mask,
            sequence_starts=train.sequence_starts,
        )
        for lo in range(0, len(rows), _CHUNK_ROWS):
            chunk = np.arange(lo, min(lo + _CHUNK_ROWS, len(rows)))
            _, y = reader.numpy(chunk)
            frames = _crop(y[:, 0].astype("float64"), crop)
            if self._step:
                index = (self._seconds(rows[chunk]) % DAY_SECONDS) // self._step
            else:
                index = np.zeros(len(chunk), "int64")
            if total is None:
                total = np.zeros((slots,) + frames.shape[1:])
                count = np.zeros((slots,) + frames.shape[1:])
            valid = np.isfinite(frames)
            np.add.at(total, index, np.where(valid, frames, 0.0))
            np.add.at(count, index, valid)
        overall = total.sum(0) / np.maximum(count.sum(0), 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            fields = np.where(count > 0, total / np.maximum(count, 1), overall)
        # Pixels never valid in training stay NaN: no forecast is scored there.
        fields = np.where(count.sum(0) > 0, fields, np.nan)
        return fields.astype("float32")

    def _fit_windows(self, train, crop):
        num = int(train.num_examples)
        positions = np.unique(
            np.linspace(0, num - 1, min(num, _MAX_MEAN_WINDOWS)).astype("int64")
        )
        total = count = 0.0
        for lo in range(0, len(positions), 64):
            x, y = train.numpy(positions[lo : lo + 64])
            frames = _crop(np.concatenate([x, y], axis=1).astype("float64"), crop)
            valid = np.isfinite(frames)
            total = total + np.where(valid, frames, 0.0).sum(axis=(0, 1))
            count = count + valid.sum(axis=(0, 1))
        with np.errstate(invalid="ignore", divide="ignore"):
            field = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        return field[None].astype("float32")

    def forecast(self, x, positions):
        positions = np.asarray(positions, "int64")
        if self._step is None:
            return self.climatology.forecast(
                num_windows=len(positions), output_length=self._output_length
            )
        rows = self._test.anchors[positions][:, None] + self._test.output_offsets[None]
        return self.climatology.forecast(self._seconds(rows))


class OpticalFlowBaseline:
    """pysteps: Lucas-Kanade motion of the last 3 input frames, semi-Lagrangian advection.

    Works per channel on the physical fields; pixels the advection brings in
    from outside the domain keep the last observed value.
    """

    name = "optical_flow"

    def __init__(self, splits, crop=None):
        del crop
        try:
            from pysteps import extrapolation
            from pysteps import motion
        except ImportError:
            raise ImportError(
                "The optical_flow baseline needs pysteps: pip install 'keras-svq[pysteps]' "
                "(or pip install pysteps), or leave optical_flow out of the baselines."
            ) from None
        self._motion = motion.get_method("LK")
        self._extrapolate = extrapolation.get_method("semilagrangian")
        self._normalizer = splits.normalizer
        self._output_length = int(splits.output_length)

    def forecast(self, x, positions):
        del positions
        physical = np.asarray(self._normalizer.denormalize(np.asarray(x)), "float64")
        out = np.empty(
            (len(physical), self._output_length) + physical.shape[2:], "float64"
        )
        for n in range(len(physical)):
            for c in range(physical.shape[-1]):
                frames = physical[n, -3:, :, :, c]
                velocity = self._motion(frames)
                advected = np.asarray(
                    self._extrapolate(frames[-1], velocity, self._output_length)
                )
                out[n, :, :, :, c] = np.where(
                    np.isfinite(advected), advected, frames[-1]
                )
        return np.asarray(self._normalizer.normalize(out.astype("float32")), "float32")


BASELINES = {
    cls.name: cls
    for cls in (PersistenceBaseline, ClimatologyBaseline, OpticalFlowBaseline)
}


def build_baselines(splits, names=DEFAULT_BASELINES, *, crop=None):
    """`{name: baseline}` fitted on `splits` (a `keras_svq.data.Splits`).

    Args:
        splits: `Splits`. Only its training split is read to fit.
        names: sequence of str, from `BASELINES`. Defaults to
            ("persistence", "climatology").
        crop: `(H, W)` or None. Keep the top-left of the frames (what a
            run's `data.crop` does to the model's frames).

    Each baseline has `forecast(x, positions)`: `x` the model-space inputs of
    test windows `positions` (their indices in the test split, in order),
    returning model-space forecasts `(B, T_out, H, W, C)`.
    """
    unknown = [n for n in names if n not in BASELINES]
    if unknown:
        raise ValueError(f"Unknown baseline {unknown[0]!r}. Valid: {list(BASELINES)}.")
    return {name: BASELINES[name](splits, crop=crop) for name in names}
