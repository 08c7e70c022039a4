"""Users' own data: one array `(time, H, W[, C])` -> train/val/test sliding windows.

This is the path most users take:

```python
splits = keras_svq.data.from_array(
    keras_svq.data.load_array("my_field.nc", variable="t2m"),
    input_length=12, output_length=12, batch_size=16, seed=0)
train, val, test = splits
```

The series is cut chronologically into train / val / test frames (no window
crosses a boundary, so nothing leaks from the future), each part is cut into
windows `T_in -> T_out` every `stride` frames, and a per-channel normaliser is
fitted on the training frames only.
"""

import logging
import pathlib

import numpy as np

from keras_svq.data.dataset_info import WEATHER_METRICS
from keras_svq.data.dataset_info import DatasetInfo
from keras_svq.data.netcdf import read_variable
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.splits import SPLIT_NAMES
from keras_svq.data.splits import Splits
from keras_svq.data.windows import WindowSource
from keras_svq.data.windows import contiguous_offsets
from keras_svq.data.windows import window_starts

logger = logging.getLogger(__name__)

NAN_POLICIES = ("raise", "fill", "mask")
NORMALIZATIONS = ("zscore", "minmax", "none")
_NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf")


# --------------------------------------------------------------------- files
def load_array(path, *, variable=None):
    """Reads a `(time, H, W[, C])` array from `.npy`, `.npz` or netCDF.

    `.npy` files are memory-mapped, netCDF variables are read lazily (slices are
    read on demand), so nothing larger than memory is loaded by this call.

    Args:
        path: str or path. A `.npy`, `.npz` or netCDF (`.nc`) file.
        variable: str or None. The `.npz` key or netCDF variable. Optional for a
            `.npz` holding a single array; required for netCDF.

    Returns:
        An array-like with `shape`, `dtype` and slicing (numpy array, memory map
        or lazy netCDF variable).

    Raises:
        FileNotFoundError: the file does not exist (the message names the path).
        ValueError: the key/variable is missing (the message lists those present)
            or the format is unknown.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"Data file not found: {path}. Expected a .npy, .npz or netCDF (.nc) file "
            "holding an array of shape (time, H, W) or (time, H, W, C)."
        )
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, mmap_mode="r", allow_pickle=False)
    if suffix == ".npz":
        archive = np.load(path, allow_pickle=False)
        keys = list(archive.files)
        if variable is None:
            if len(keys) == 1:
                return archive[keys[0]]
            raise ValueError(
                f"{path} holds several arrays {keys}; pass the one to use as `variable=`."
            )
        if variable not in keys:
            raise ValueError(
                f"Key {variable!r} is not in {path}. Keys present: {keys}. "
                f"Received: variable={variable!r}"
            )
        return archive[variable]
    if suffix in _NETCDF_SUFFIXES:
        return read_variable(path, variable)
    raise ValueError(
        f"Unknown file type {suffix!r} for {path}. Supported: .npy, .npz, "
        f"{', '.join(_NETCDF_SUFFIXES)}."
    )


# --------------------------------------------------------------------- checks
def find_non_finite(array):
    """`(count, first_index)` of NaN/Inf values in `array` (`first_index` None if none)."""
    bad = ~np.isfinite(array)
    count = int(bad.sum())
    if count == 0:
        return 0, None
    return count, tuple(int(i) for i in np.argwhere(bad)[0])


def _describe_location(index):
    names = ("time", "row", "col", "channel")
    return ", ".join(f"{n}={i}" for n, i in zip(names, index))


def _as_frames(array):
    if not isinstance(array, np.ndarray):
        # Lazy netCDF variables and array-likes; memory maps stay memory maps.
        array = np.asarray(array[:] if hasattr(array, "dims") else array)
    shape = tuple(int(s) for s in array.shape)
    if len(shape) == 3:
        return array[..., None]
    if len(shape) == 4:
        return array
    raise ValueError(
        "Expected an array of shape (time, H, W) or (time, H, W, C). "
        f"Received: array.shape={shape}"
    )


def _split_lengths(num_frames, split):
    """Frames per split from fractions (summing to 1) or integer lengths."""
    if len(split) != 3:
        raise ValueError(
            f"`split` must have 3 entries (train, val, test). Received: split={split}"
        )
    if all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in split):
        lengths = [int(s) for s in split]
        if sum(lengths) > num_frames:
            raise ValueError(
                f"`split` lengths {lengths} add up to {sum(lengths)} frames but the series "
                f"has only {num_frames}."
            )
        return lengths
    fractions = np.asarray(split, dtype="float64")
    if np.any(fractions < 0) or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(
            f"`split` fractions must be >= 0 and sum to 1. Received: split={tuple(split)}"
        )
    n_train = int(round(fractions[0] * num_frames))
    n_val = int(round(fractions[1] * num_frames))
    return [n_train, n_val, num_frames - n_train - n_val]


def _windows_for(start, length, window, stride, bad_frames):
    starts = window_starts(length, window, stride) + start
    if bad_frames is None or not len(starts):
        return starts, 0
    # A window is usable when none of its frames holds a non-finite value.
    bad = np.concatenate(
        [[0], np.cumsum(bad_frames[start : start + length], dtype="int64")]
    )
    local = starts - start
    ok = bad[local + window] - bad[local] == 0
    return starts[ok], int((~ok).sum())


# ----------------------------------------------------------------- from_array
def from_array(
    array,
    *,
    input_length,
    output_length,
    batch_size,
    stride=1,
    split=(0.7, 0.15, 0.15),
    seed=None,
    nan_policy="raise",
    normalization="zscore",
    normalizer=None,
    cache=False,
    drop_remainder=False,
    info=None,
    name="own_data",
    variables=None,
    units=None,
    metrics=WEATHER_METRICS,
    spatial_norm=True,
    time_step="",
):
    """Sliding-window train/val/test datasets from one `(time, H, W[, C])` array.

    Args:
        array: array-like `(time, H, W)` or `(time, H, W, C)` in physical units
            (e.g. from `load_array`).
        input_length: int. Frames in (`T_in`).
        output_length: int. Frames out (`T_out`).
        batch_size: int. Examples per batch.
        stride: int. Frames between the starts of two consecutive windows.
            Defaults to 1.
        split: 3 fractions summing to 1, or 3 frame counts: consecutive,
            chronological train / val / test parts of the series. Windows never
            cross a boundary. Defaults to `(0.7, 0.15, 0.15)`.
        seed: int or None. Makes training shuffling reproducible.
        nan_policy: what to do with NaN/Inf values:
            `"raise"` (default): a `ValueError` reporting their count and first
            location. `"fill"`: replace them by the channel's training mean (0 in
            model space); the count is logged. `"mask"`: leave out every window
            that touches a non-finite frame (statistics ignore them too); the
            number of windows left out is logged. Non-finite values never reach
            the model.
        normalization: `"zscore"` (per-channel mean/std), `"minmax"` (per-channel
            min/max to [0, 1]) or `"none"`, fitted on the training frames only.
            Defaults to `"zscore"`.
        normalizer: a `Normalizer` to use instead of fitting one.
        cache: bool. Cache decoded windows in memory. Defaults to False.
        drop_remainder: bool. Drop the last partial training batch.
        info: `DatasetInfo` or None. Facts to attach; built from the next
            arguments when None.
        name, variables, units, metrics, spatial_norm, time_step: facts for the
            `DatasetInfo` built when `info` is None (`variables` default to
            `channel_0..`; metrics default to the weather set with
            `spatial_norm=True`, i.e. per-element means).

    Returns:
        `Splits` `(train, val, test)` of `(x, y)` batches with
        `x: (B, T_in, H, W, C)`, `y: (B, T_out, H, W, C)`, normalised float32.

    Raises:
        ValueError: bad shape, a split shorter than one window (the message says
            how many frames are needed), non-finite values with
            `nan_policy="raise"`, or an unknown option (the message lists the
            valid ones).

    Example:

    ```python
    series = np.random.rand(500, 32, 32).astype("float32")
    train, val, test = from_array(series, input_length=4, output_length=4,
                                  batch_size=8, seed=0)
    ```
    """
    if nan_policy not in NAN_POLICIES:
        raise ValueError(
            f"Unknown nan_policy. Valid: {NAN_POLICIES}. Received: nan_policy={nan_policy!r}"
        )
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"Unknown normalization. Valid: {NORMALIZATIONS}. Received: normalization={normalization!r}"
        )
    for arg, value in (
        ("input_length", input_length),
        ("output_length", output_length),
    ):
        if int(value) < 1:
            raise ValueError(f"`{arg}` must be >= 1. Received: {arg}={value}")
    frames = _as_frames(array)
    num_frames = frames.shape[0]
    window = input_length + output_length
    lengths = _split_lengths(num_frames, split)
    bounds = np.concatenate([[0], np.cumsum(lengths)])

    count, first = find_non_finite(frames)
    bad_frames = None
    if count:
        where = _describe_location(first)
        if nan_policy == "raise":
            raise ValueError(
                f"The array holds {count} NaN/Inf values (first at {where}). Pass "
                "nan_policy='fill' to replace them by the channel's training mean, or "
                "nan_policy='mask' to leave out the windows that touch them."
            )
        bad_frames = (~np.isfinite(frames)).reshape(num_frames, -1).any(axis=1)
    train_frames = frames[bounds[0] : bounds[1]]
    if normalizer is None:
        if normalization == "none":
            normalizer = Normalizer.identity(frames.shape[-1])
        else:
            if not np.isfinite(train_frames).any():
                raise ValueError(
                    "The training part of the array has no finite value to fit statistics on."
                )
            normalizer = Normalizer.fit(train_frames, kind=normalization)
    if count and nan_policy == "fill":
        logger.warning(
            "Filling %d NaN/Inf values (first at %s) with the channel's training mean.",
            count,
            where,
        )
        frames = np.where(
            np.isfinite(frames), frames, normalizer.mean.astype(frames.dtype)
        )
        bad_frames = None
    # Windows are built per split, so none crosses from train into val or test.
    sources = {}
    for i, split_name in enumerate(SPLIT_NAMES):
        starts, masked = _windows_for(bounds[i], lengths[i], window, stride, bad_frames)
        if masked:
            logger.warning(
                "Left out %d %s windows that touch NaN/Inf values.", masked, split_name
            )
        if lengths[i] and lengths[i] < window:
            raise ValueError(
                f"The {split_name} part has {lengths[i]} frames but one window needs "
                f"input_length + output_length = {window}. Give a series of at least "
                f"{_frames_needed(window, split)} frames, change `split`, or shorten the window."
            )
        if split_name == "train" and not len(starts):
            raise ValueError(
                f"No training window: the series has {num_frames} frames, the training part "
                f"{lengths[0]}, and one window needs {window} frames"
                + (" free of NaN/Inf." if masked else ".")
            )
        sources[split_name] = WindowSource(
            frames,
            starts,
            *contiguous_offsets(input_length, output_length),
            normalizer=normalizer,
        )
    if info is None:
        channels = frames.shape[-1]
        info = DatasetInfo(
            name=name,
            frame_shape=tuple(int(s) for s in frames.shape[1:]),
            input_length=int(input_length),
            output_length=int(output_length),
            variables=tuple(variables or [f"channel_{c}" for c in range(channels)]),
            units=tuple(units or [""] * channels),
            metrics=tuple(metrics),
            spatial_norm=bool(spatial_norm),
            splits={n: int(k) for n, k in zip(SPLIT_NAMES, lengths)},
            time_step=time_step,
            denormalize_metrics=normalization == "zscore",
        )
    return Splits.from_sources(
        sources,
        normalizer=normalizer,
        info=info,
        batch_size=batch_size,
        seed=seed,
        cache=cache,
        drop_remainder=drop_remainder,
    )


def _frames_needed(window, split):
    if all(isinstance(s, (int, np.integer)) for s in split):
        return window
    smallest = min(s for s in split if s > 0)
    return int(np.ceil(window / smallest))
