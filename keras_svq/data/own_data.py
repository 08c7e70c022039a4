"""Users' own data as it comes: one series or many, with missing values and masks.

```python
splits = keras_svq.data.from_array(
    keras_svq.data.load_array("sst.nc", variable="sst"),
    input_length=12, output_length=12, batch_size=16, seed=0,
    nan_policy="fill",                      # land is NaN in every frame
    crop={"lat": [60, 40], "lon": [-30, 0]},
)
train, val, test = splits
```

The array is one series `(T, H, W[, C])`, many sequences `(N, T, H, W, C)`
(videos, storm events, days) or a list of `(T_i, H, W[, C])` arrays of
different lengths. Windows `T_in -> T_out` are cut every `stride` frames
inside each sequence (never across two) and inside each split (nothing leaks
from the future). Reading is lazy: `.npy` files, netCDF, zarr and xarray
sources are read a window at a time, and one chunked pass fits the
normaliser, so the whole array is never in memory.

Missing values, in this order: `missing_value` codes (e.g. a radar's 65535)
and NaN/Inf are missing; pixels outside the validity `mask` (land/sea, radar
range; static or per frame) are invalid; then the spatial preprocessing
(`crop`, `coarsen`, `pad_to_multiple`) runs. `nan_policy` decides about the
missing values the mask does not declare: `"raise"` (report them), `"fill"`
(inputs take the training mean, i.e. 0 in model space; targets stay NaN, so
a masked loss and the metrics leave them out) or `"drop"` (leave out every
window that touches one). Invalid pixels of the mask are always filled and
left out of the loss and metrics.
"""

import logging
import pathlib

import numpy as np

from keras_svq.data.dataset_info import WEATHER_METRICS
from keras_svq.data.dataset_info import DatasetInfo
from keras_svq.data.frame_series import FrameSeries
from keras_svq.data.frame_series import missing_codes
from keras_svq.data.netcdf import read_variable
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.npy_frames import NpyFrames
from keras_svq.data.preprocessing import Preprocessing
from keras_svq.data.splits import SPLIT_NAMES
from keras_svq.data.splits import Splits
from keras_svq.data.windows import IN_MEMORY_LIMIT_BYTES
from keras_svq.data.windows import WindowSource
from keras_svq.data.windows import contiguous_offsets
from keras_svq.data.windows import window_starts

logger = logging.getLogger(__name__)

NAN_POLICIES = ("raise", "fill", "drop")
NORMALIZATIONS = ("zscore", "minmax", "none")
SPLIT_MODES = ("sequence", "time")
_NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf")
_COORD_KEYS = ("time", "lat", "lon", "y", "x")
# A dimension at position 1 this small next to two large ones is channels,
# not rows: (T, C, H, W) data are refused rather than read as C x H frames.
_CHANNELS_FIRST_MAX = 16


# --------------------------------------------------------------------- files
class CoordinateArray(np.ndarray):
    """A numpy array with a `coords` dict (read from a `.npz` file's lat/lon/time)."""

    def __array_finalize__(self, obj):
        self.coords = getattr(obj, "coords", {})


def load_array(path, *, variable=None):
    """Reads a frame array lazily from `.npy`, `.npz`, netCDF or zarr.

    `.npy` files are read row by row (`NpyFrames`), netCDF and zarr variables
    a slice at a time, so nothing larger than memory is loaded by this call
    or later by the pipeline. Coordinates found in the file (`time`, `lat`,
    `lon`, `y`, `x`) are attached as `.coords` and flow into the run's
    metrics (latitude weighting) and plots.

    Args:
        path: str or path. A `.npy`, `.npz`, netCDF (`.nc`) file or a zarr
            store (a `.zarr` folder; needs `pip install "keras-svq[xarray]"`).
        variable: str or None. The `.npz` key, netCDF or zarr variable.
            Optional for a `.npz` holding a single array; required otherwise.

    Returns:
        An array-like with `shape`, `dtype` and row indexing.

    Raises:
        FileNotFoundError: the file does not exist (the message names the path).
        ValueError: the key/variable is missing (the message lists those present)
            or the format is unknown or corrupt.
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"Data file not found: {path}. Expected a .npy, .npz, netCDF (.nc) file "
            "or a .zarr store holding an array of shape (time, H, W[, C])."
        )
    suffix = path.suffix.lower()
    if suffix == ".zarr" or (path.is_dir() and _looks_like_zarr(path)):
        from keras_svq.data.zarr_store import read_zarr

        return read_zarr(path, variable)
    try:
        if suffix == ".npy":
            return NpyFrames(path)
        if suffix == ".npz":
            return _load_npz(path, variable)
    except (OSError, EOFError) as e:
        raise ValueError(f"{path} is not a readable numpy file ({e}).") from None
    if suffix in _NETCDF_SUFFIXES:
        return read_variable(path, variable)
    raise ValueError(
        f"Unknown file type {suffix!r} for {path}. Supported: .npy, .npz, "
        f"{', '.join(_NETCDF_SUFFIXES)}, .zarr."
    )


def _looks_like_zarr(path):
    return any((path / name).exists() for name in ("zarr.json", ".zgroup", ".zarray"))


def _load_npz(path, variable):
    with np.load(path, allow_pickle=False) as archive:
        keys = list(archive.files)
        if variable is None:
            data_keys = [k for k in keys if k not in _COORD_KEYS]
            if len(data_keys) != 1:
                raise ValueError(
                    f"{path} holds several arrays {keys}; pass the one to use as "
                    "`variable=`."
                )
            variable = data_keys[0]
        if variable not in keys:
            raise ValueError(
                f"Key {variable!r} is not in {path}. Keys present: {keys}. "
                f"Received: variable={variable!r}"
            )
        array = archive[variable].view(CoordinateArray)
        array.coords = {k: archive[k] for k in _COORD_KEYS if k in keys}
    return array


# --------------------------------------------------------------------- checks
def find_non_finite(array):
    """`(count, first_index)` of NaN/Inf values in `array` (`first_index` None if none)."""
    bad = ~np.isfinite(array)
    count = int(bad.sum())
    if count == 0:
        return 0, None
    return count, tuple(int(i) for i in np.argwhere(bad)[0])


def _check_length(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )
    return int(value)


class _AddChannel:
    """A lazy `(T, H, W)` array seen as `(T, H, W, 1)`."""

    def __init__(self, array):
        self.array = array
        self.shape = tuple(int(s) for s in array.shape) + (1,)
        self.dtype = np.dtype(array.dtype)

    def __getitem__(self, rows):
        return np.asarray(self.array[rows])[..., None]


class _SequenceOf:
    """Sequence `n` of a lazy `(N, T, H, W, C)` array, read whole when asked."""

    def __init__(self, array, n):
        self.array, self.n = array, n
        self.shape = tuple(int(s) for s in array.shape[1:])
        self.dtype = np.dtype(array.dtype)

    def __getitem__(self, rows):
        return np.asarray(self.array[np.array([self.n])])[0][rows]


def _check_channels_last(shape, label, time_axes):
    """Refuses `(..., C, H, W)` with a small C in the channel-first position."""
    lead = time_axes
    dims = shape[lead:]
    if (
        len(dims) == 3
        and dims[0] <= _CHANNELS_FIRST_MAX
        and min(dims[1:]) >= 4 * dims[0]
    ):
        if dims[2] >= 4 * dims[0] and dims[2] > _CHANNELS_FIRST_MAX:
            order = list(range(lead)) + [lead + 1, lead + 2, lead]
            raise ValueError(
                f"{label} has shape {tuple(shape)}: it looks channels-first "
                f"({'N, ' if lead == 2 else ''}T, C={dims[0]}, H={dims[1]}, W={dims[2]}), "
                "but frames must be channels-last (..., H, W, C). Pass "
                f"`{label}.transpose({', '.join(map(str, order))})`."
            )


def _as_sequence(array, label):
    shape = tuple(int(s) for s in array.shape)
    if len(shape) == 3:
        return array[..., None] if isinstance(array, np.ndarray) else _AddChannel(array)
    if len(shape) == 4:
        _check_channels_last(shape, label, 1)
        return array
    raise ValueError(
        f"Expected {label} of shape (time, H, W) or (time, H, W, C). "
        f"Received: {label}.shape={shape}"
    )


def _as_sequences(array):
    """`(sequences, coords)`: a list of `(T_i, H, W, C)` array-likes."""
    if isinstance(array, (list, tuple)):
        if not array:
            raise ValueError("`array` is an empty list; give at least one sequence.")
        sequences = [_as_sequence(a, f"array[{i}]") for i, a in enumerate(array)]
        first = tuple(sequences[0].shape[1:])
        for i, s in enumerate(sequences):
            if tuple(s.shape[1:]) != first:
                raise ValueError(
                    f"Every sequence must have the same frame shape: array[0] has "
                    f"{first} but array[{i}] has {tuple(s.shape[1:])}."
                )
        return sequences, getattr(array[0], "coords", None)
    if not hasattr(array, "shape"):
        array = np.asarray(array)
    coords = getattr(array, "coords", None)
    shape = tuple(int(s) for s in array.shape)
    if len(shape) == 5:
        _check_channels_last(shape, "array", 2)
        if isinstance(array, np.ndarray):
            return [np.asarray(array[n]) for n in range(shape[0])], coords
        return [_SequenceOf(array, n) for n in range(shape[0])], coords
    if len(shape) in (3, 4):
        if isinstance(array, CoordinateArray):
            array = np.asarray(array)
        return [_as_sequence(array, "array")], coords
    raise ValueError(
        "Expected an array of shape (time, H, W), (time, H, W, C), many sequences "
        "(N, time, H, W, C), or a list of (time_i, H, W[, C]) arrays. "
        f"Received: array.shape={shape}"
    )


# --------------------------------------------------------------------- splits
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
                f"`split` lengths {lengths} add up to {sum(lengths)} but there are "
                f"only {num_frames}."
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


def _sequence_indices(num_sequences, split):
    """`{split: [sequence indices]}` from fractions, counts or explicit indices."""
    if isinstance(split, dict):
        unknown = sorted(set(split) - set(SPLIT_NAMES))
        if unknown:
            raise ValueError(
                f"`split` keys must be {list(SPLIT_NAMES)}. Received: {unknown}"
            )
        chosen = {name: [int(i) for i in split.get(name, ())] for name in SPLIT_NAMES}
        every = [i for name in SPLIT_NAMES for i in chosen[name]]
        bad = [i for i in every if not 0 <= i < num_sequences]
        if bad:
            raise ValueError(
                f"`split` names sequences {bad} but there are {num_sequences} "
                f"(indices 0..{num_sequences - 1})."
            )
        if len(set(every)) != len(every):
            raise ValueError(
                "`split` puts a sequence into two splits; each goes into one."
            )
        return chosen
    lengths = _split_lengths(num_sequences, split)
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return {
        name: list(range(bounds[i], bounds[i + 1]))
        for i, name in enumerate(SPLIT_NAMES)
    }


def _split_ranges(series, split, split_by):
    """`{split: [(first row, frames)]}` and what to record in the dataset facts."""
    many = len(series.lengths) > 1
    split_by = split_by or ("sequence" if many else "time")
    if split_by not in SPLIT_MODES:
        raise ValueError(
            f"Unknown split_by. Valid: {SPLIT_MODES}. Received: split_by={split_by!r}"
        )
    ranges = {name: [] for name in SPLIT_NAMES}
    if split_by == "sequence":
        if not many:
            raise ValueError(
                "split_by='sequence' needs several sequences (an (N, T, H, W, C) array "
                "or a list); one series is split by time."
            )
        chosen = _sequence_indices(len(series.lengths), split)
        for name in SPLIT_NAMES:
            ranges[name] = [
                (int(series.starts[n]), int(series.lengths[n])) for n in chosen[name]
            ]
        return ranges, {name: len(chosen[name]) for name in SPLIT_NAMES}, split_by
    if isinstance(split, dict):
        raise ValueError(
            "A `split` of sequence indices needs split_by='sequence'. Received: "
            f"split_by={split_by!r}"
        )
    if many and all(isinstance(s, (int, np.integer)) for s in split):
        raise ValueError(
            "With several sequences and split_by='time', `split` must be fractions "
            f"(each sequence is cut chronologically). Received: split={tuple(split)}"
        )
    counts = dict.fromkeys(SPLIT_NAMES, 0)
    for start, length in zip(series.starts, series.lengths):
        parts = _split_lengths(int(length), split)
        offset = int(start)
        for name, part in zip(SPLIT_NAMES, parts):
            ranges[name].append((offset, part))
            counts[name] += part
            offset += part
    return ranges, counts, split_by


# ----------------------------------------------------------------- from_array
def from_array(
    array,
    *,
    input_length,
    output_length,
    batch_size,
    stride=1,
    split=(0.7, 0.15, 0.15),
    split_by=None,
    seed=None,
    missing_value=None,
    nan_policy="raise",
    mask=None,
    crop=None,
    coarsen=None,
    pad_to_multiple=None,
    pad_mode="reflect",
    normalization="zscore",
    normalizer=None,
    cache=False,
    drop_remainder=False,
    coords=None,
    info=None,
    name="own_data",
    variables=None,
    units=None,
    metrics=WEATHER_METRICS,
    spatial_norm=True,
    time_step="",
):
    """Sliding-window train/val/test datasets from your own frames.

    Args:
        array: frames in physical units: one series `(T, H, W)` /
            `(T, H, W, C)`, many sequences `(N, T, H, W, C)`, or a list of
            `(T_i, H, W[, C])` arrays (numpy arrays, `load_array` results,
            lazy netCDF/zarr/xarray arrays). Integer data are read as float32.
        input_length: int. Frames in (`T_in`).
        output_length: int. Frames out (`T_out`).
        batch_size: int. Examples per batch.
        stride: int. Frames between the starts of two consecutive windows.
            Defaults to 1.
        split: how to make train / val / test. One series: 3 fractions
            summing to 1, or 3 frame counts, cut chronologically. Many
            sequences: 3 fractions or 3 counts of sequences, or
            `{"train": [i, ...], "val": [...], "test": [...]}` sequence
            indices (`split_by="sequence"`), or fractions of each sequence
            (`split_by="time"`). Windows never cross a boundary. Defaults
            to `(0.7, 0.15, 0.15)`.
        split_by: `"sequence"` (default for many sequences) or `"time"`
            (default for one series).
        seed: int or None. Makes training shuffling reproducible.
        missing_value: None, a number or a list of numbers: codes that mean
            "no value" (e.g. 65535, or `[-1, -9999]`), turned into missing
            values before anything else. Values at an integer dtype's maximum
            or equal to common fill codes (-9999, 9.97e36, ...) that are not
            named here are reported in a warning with their count.
        nan_policy: what to do with missing values (NaN/Inf or codes) at
            pixels the mask calls valid. `"raise"` (default): a `ValueError`
            with their count and first location. `"fill"`: inputs get the
            channel's training mean (0 in model space), targets stay NaN and
            are left out of the (masked) loss and of every metric. `"drop"`:
            leave out every window that touches one (a fixed pattern such as
            land leaves no window: use `"fill"`).
        mask: None, a bool array `(H, W)` / `(H, W, C)` (static: land/sea,
            radar range), or per frame `(T, H, W[, C])` (one series), `(N, T,
            H, W[, C])` or a list (many sequences). True marks a valid pixel.
            Invalid pixels are filled in inputs and left out of the loss and
            the metrics, whatever `nan_policy`.
        crop: None, `{"rows": [r0, r1], "cols": [c0, c1]}`, by coordinate
            values `{"lat": [a, b], "lon": [c, d]}` (needs `coords`), or
            `[H, W]` (the top-left corner). See `Preprocessing`.
        coarsen: None, an int or `[fh, fw]`: block means that ignore missing
            values.
        pad_to_multiple: None or int: pad H and W up to a multiple (what the
            encoder needs); padded pixels are invalid targets.
        pad_mode: `"reflect"` or `"constant"`. Defaults to `"reflect"`.
        normalization: `"zscore"` (per-channel mean/std), `"minmax"` (per-channel
            min/max to [0, 1]) or `"none"`, fitted on the valid training values
            only. Defaults to `"zscore"`.
        normalizer: a `Normalizer` to use instead of fitting one.
        cache: bool. Cache decoded windows in memory. Defaults to False.
        drop_remainder: bool. Drop the last partial training batch.
        coords: dict of 1-D coordinates of the raw grid (`"lat"`, `"lon"`,
            `"y"`, `"x"`, `"time"`), or None to take `array.coords` if any.
            They are cropped/coarsened with the frames, and `lat` enables the
            latitude-weighted metrics.
        info: `DatasetInfo` or None. Facts to attach; built from the next
            arguments when None.
        name, variables, units, metrics, spatial_norm, time_step: facts for the
            `DatasetInfo` built when `info` is None (`variables` default to
            `channel_0..`; metrics default to the weather set with
            `spatial_norm=True`, i.e. per-element means).

    Returns:
        `Splits` `(train, val, test)` of `(x, y)` batches with
        `x: (B, T_in, h, w, C)`, `y: (B, T_out, h, w, C)`, normalised
        float32 on the processed grid; `y` is NaN at invalid pixels. The
        splits carry `valid_mask`, `preprocessing` and `coords`.

    Raises:
        ValueError: bad shape (channels-first data are refused with the
            `transpose` to use), a split shorter than one window (the message
            says how many frames are needed), missing values with
            `nan_policy="raise"`, no usable training window, or an unknown
            option (the message lists the valid ones).

    Example:

    ```python
    series = np.random.rand(500, 32, 32).astype("float32")
    train, val, test = from_array(series, input_length=4, output_length=4,
                                  batch_size=8, seed=0)
    ```
    """
    if nan_policy == "mask":
        logger.warning(
            "nan_policy='mask' is now called 'drop' (it leaves out windows with "
            "missing values); for a validity mask use nan_policy='fill' or mask=."
        )
        nan_policy = "drop"
    if nan_policy not in NAN_POLICIES:
        raise ValueError(
            f"Unknown nan_policy. Valid: {NAN_POLICIES}. Received: nan_policy={nan_policy!r}"
        )
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"Unknown normalization. Valid: {NORMALIZATIONS}. Received: normalization={normalization!r}"
        )
    input_length = _check_length("input_length", input_length)
    output_length = _check_length("output_length", output_length)
    stride = _check_length("stride", stride)
    _check_length("batch_size", batch_size)
    codes = missing_codes(missing_value)
    sequences, found_coords = _as_sequences(array)
    coords = dict(coords if coords is not None else found_coords or {})
    if np.dtype(sequences[0].dtype).kind in "iub":
        logger.info("Reading %s data as float32.", np.dtype(sequences[0].dtype))
    series = FrameSeries(
        sequences,
        missing_value=codes,
        mask=mask,
        preprocessing=Preprocessing(
            crop=crop,
            coarsen=coarsen,
            pad_to_multiple=pad_to_multiple,
            pad_mode=pad_mode,
        ),
        coords=coords,
    )
    window = input_length + output_length
    ranges, counts, split_by = _split_ranges(series, split, split_by)
    train_rows = np.zeros(series.shape[0], bool)
    for start, length in ranges["train"]:
        train_rows[start : start + length] = True
    scan = series.scan(train_rows)
    _report_codes(scan, codes)
    gaps = scan.missing_count
    never_valid = int((series.user_valid & ~scan.valid_somewhere).sum())
    if gaps:
        where = _describe(series, scan.first_missing)
        static = (
            f" {never_valid} pixel/channel positions are missing in every training frame (a "
            "fixed pattern such as land or a radar's range): nan_policy='fill' fills "
            "them and leaves them out of the loss and the metrics."
            if never_valid
            else ""
        )
        if nan_policy == "raise":
            raise ValueError(
                f"The array holds {gaps} missing values (NaN/Inf"
                f"{' or missing_value codes' if codes else ''}; first at {where})."
                f"{static} Pass nan_policy='fill' to fill inputs with the training "
                "mean and leave the missing targets out of the loss and the metrics, "
                "or nan_policy='drop' to leave out the windows that touch them."
            )
        if nan_policy == "fill":
            logger.warning(
                "%d missing values (first at %s): inputs take the training mean, "
                "targets stay missing and are left out of the loss and the metrics.",
                gaps,
                where,
            )
    normalizer = normalizer or _fit_normalizer(scan, normalization, series)
    fill = bool(gaps) or mask is not None or not series.user_valid.all()
    target_mask = None if series.user_valid.all() else series.user_valid
    frames = series
    if all(isinstance(s, np.ndarray) and type(s) is np.ndarray for s in sequences):
        if int(np.prod(series.shape)) * 4 <= IN_MEMORY_LIMIT_BYTES:
            frames = series.materialize()
    sources = {}
    for split_name in SPLIT_NAMES:
        starts, dropped, empty = _windows(
            ranges[split_name], window, stride, input_length, scan, nan_policy
        )
        frames_in_split = sum(length for _, length in ranges[split_name])
        if dropped:
            logger.warning(
                "Left out %d %s windows that touch missing values.", dropped, split_name
            )
        if empty:
            logger.warning(
                "Left out %d %s windows whose input has no valid pixel.",
                empty,
                split_name,
            )
        longest = max((length for _, length in ranges[split_name]), default=0)
        if frames_in_split and longest < window:
            raise ValueError(
                f"The {split_name} part has {longest} frames per sequence at most but "
                f"one window needs input_length + output_length = {window}. Give a "
                f"series of at least {_frames_needed(window, split)} frames, change "
                "`split`, or shorten the window."
            )
        if split_name == "train" and not len(starts):
            reason = ""
            if dropped and never_valid:
                reason = (
                    f" free of missing values: {never_valid} pixel/channel positions are "
                    "missing in every frame (a fixed mask such as land), so nan_policy='drop' "
                    "leaves no window. Use nan_policy='fill' (or pass mask=)"
                )
            elif dropped:
                reason = (
                    " free of missing values (nan_policy='drop'); use nan_policy='fill'"
                )
            raise ValueError(
                f"No training window: the training part has {frames_in_split} frames "
                f"and one window needs {window} frames{reason}."
            )
        sources[split_name] = WindowSource(
            frames,
            starts,
            *contiguous_offsets(input_length, output_length),
            normalizer=normalizer,
            fill_missing=fill,
            target_mask=target_mask,
            sequence_starts=series.starts,
        )
    if info is None:
        channels = series.frame_shape[-1]
        info = DatasetInfo(
            name=name,
            frame_shape=series.frame_shape,
            input_length=input_length,
            output_length=output_length,
            variables=tuple(variables or [f"channel_{c}" for c in range(channels)]),
            units=tuple(units or [""] * channels),
            metrics=tuple(metrics),
            spatial_norm=bool(spatial_norm),
            splits={n: int(counts[n]) for n in SPLIT_NAMES},
            time_step=time_step,
            denormalize_metrics=normalization == "zscore",
        )
    else:
        info = info.replace(frame_shape=series.frame_shape)
    valid = series.user_valid & scan.valid_somewhere
    return Splits.from_sources(
        sources,
        normalizer=normalizer,
        info=info,
        batch_size=batch_size,
        seed=seed,
        cache=cache,
        drop_remainder=drop_remainder,
        valid_mask=None if valid.all() else valid,
        preprocessing=series.preprocessing,
        coords=series.coords,
        missing_value=codes,
        input_mask=series.static_mask,
        nan_policy=nan_policy,
    )


def _windows(ranges, window, stride, input_length, scan, nan_policy):
    """Window starts over `ranges`, less those the policy or an empty input rules out."""
    starts = [window_starts(length, window, stride) + start for start, length in ranges]
    starts = np.concatenate(starts) if starts else np.zeros((0,), "int64")
    if not len(starts):
        return starts, 0, 0
    bad = np.concatenate([[0], np.cumsum(scan.missing_per_frame > 0)])
    keep = np.ones(len(starts), bool)
    dropped = 0
    if nan_policy == "drop":
        clean = bad[starts + window] - bad[starts] == 0
        dropped = int((~clean).sum())
        keep &= clean
    seen = np.concatenate([[0], np.cumsum(scan.valid_input_per_frame)])
    has_input = seen[starts + input_length] - seen[starts] > 0
    empty = int((keep & ~has_input).sum())
    keep &= has_input
    return starts[keep], dropped, empty


def _fit_normalizer(scan, normalization, series):
    channels = series.frame_shape[-1]
    if normalization == "none":
        return Normalizer.identity(channels)
    empty = np.flatnonzero(scan.count == 0)
    if len(empty):
        raise ValueError(
            f"The training part has no valid value in channel(s) {empty.tolist()} to "
            "fit statistics on (everything there is missing or masked)."
        )
    if normalization == "zscore":
        return Normalizer.from_statistics(scan.mean, scan.std, kind="zscore")
    return Normalizer.from_statistics(
        scan.minimum, scan.maximum - scan.minimum, kind="minmax"
    )


def _report_codes(scan, codes):
    if codes:
        logger.info(
            "%d values equal to missing_value %s are missing.",
            scan.code_count,
            list(codes),
        )
    for value, count in sorted(scan.suspicious.items()):
        logger.warning(
            "%d values equal %g, which looks like a missing-value code; if it means "
            "'no value', pass missing_value=%g (data.missing_value in a config).",
            count,
            value,
            value,
        )


def _describe(series, index):
    frame, row, col, channel = index
    sequence, time = series.locate([frame])
    where = f"time={int(time[0])}, row={row}, col={col}, channel={channel}"
    if len(series.lengths) > 1:
        where = f"sequence={int(sequence[0])}, " + where
    if not series.preprocessing.is_identity:
        where += " of the processed grid"
    return where


def _frames_needed(window, split):
    if isinstance(split, dict) or all(isinstance(s, (int, np.integer)) for s in split):
        return window
    smallest = min(s for s in split if s > 0)
    return int(np.ceil(window / smallest))
