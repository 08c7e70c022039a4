"""Many sequences of frames as one lazily-read series, cleaned and preprocessed.

`FrameSeries` puts independent sequences `(T_i, H, W, C)` (videos, storm
events, days, or one long series) end to end, so that a window is an anchor
row plus offsets, as everywhere in `keras_svq.data`; window starts are made
per sequence, so no window crosses from one sequence into the next.

Reading rows `series[rows]` does, in this order:
1. read the raw rows from the sources (numpy arrays, `.npy` files, netCDF,
   zarr or xarray objects: only those rows are read);
2. turn the `missing_value` codes and NaN/Inf into NaN;
3. turn pixels the validity `mask` marks invalid into NaN;
4. apply the spatial `Preprocessing` (crop, coarsen, pad).

The result is float32 on the processed grid, with NaN wherever a value is
missing. `scan()` makes one chunked pass over the whole series (the data
are never loaded at once) for what the splits need: per-frame missing
counts, training statistics and the pixels that are never valid.
"""

import dataclasses
import logging

import numpy as np

from keras_svq.data.preprocessing import Preprocessing

logger = logging.getLogger(__name__)

# Codes that data providers write for "no value" (netCDF's default fill
# value, WMO's -9999, ...). Found in data they are reported, not changed.
SUSPICIOUS_CODES = (-9999.0, -999.0, 9999.0, 99999.0, 9.969209968386869e36, 1e20)
# Rows are read and scanned this many bytes at a time: a few such buffers are
# alive at once, which bounds the memory of a pass over a file of any size.
CHUNK_BYTES = 16 << 20


def missing_codes(missing_value):
    """`missing_value` (None, a number or a list of numbers) as a tuple of codes."""
    if missing_value is None:
        return ()
    values = (
        list(missing_value)
        if isinstance(missing_value, (list, tuple, np.ndarray))
        else [missing_value]
    )
    for v in values:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.number)):
            raise ValueError(
                "`missing_value` must be a number or a list of numbers (the codes "
                f"that mean 'no value', e.g. 65535 or [-1, -9999]). Received: "
                f"missing_value={missing_value!r}"
            )
    return tuple(values)


@dataclasses.dataclass
class ScanResult:
    """What one pass over a `FrameSeries` found (see `FrameSeries.scan`)."""

    missing_per_frame: np.ndarray  # (frames,) missing values at pixels meant valid
    valid_input_per_frame: np.ndarray  # (frames,) bool: any finite value
    count: np.ndarray  # (C,) valid training values
    mean: np.ndarray  # (C,) their mean
    m2: np.ndarray  # (C,) sum of squared deviations
    minimum: np.ndarray  # (C,)
    maximum: np.ndarray  # (C,)
    valid_somewhere: np.ndarray  # (h, w, C) valid in at least one training frame
    first_missing: tuple | None  # (frame, row, col, channel) on the processed grid
    code_count: int  # values equal to a missing-value code
    suspicious: dict  # value -> count of suspicious codes left as data

    @property
    def missing_count(self):
        return int(self.missing_per_frame.sum())

    @property
    def std(self):
        return np.sqrt(self.m2 / np.maximum(self.count, 1))


class FrameSeries:
    """Sequences of frames end to end, read lazily with missing values as NaN.

    Args:
        sequences: list of array-likes `(T_i, H, W, C)`, all with the same
            `(H, W, C)`: numpy arrays, `NpyFrames`, netCDF/zarr/xarray lazy
            arrays (anything with `shape`, `dtype` and row indexing).
        missing_value: None, a number or a list of numbers: codes turned into
            missing values before anything else.
        mask: None, a bool array `(H, W)` / `(H, W, C)` (static: land/sea,
            radar range) or a list of per-frame masks `(T_i, H, W[, C])`, one
            per sequence. True marks a valid pixel.
        preprocessing: a `Preprocessing` (crop, coarsen, pad) or None.
        coords: dict of 1-D coordinate arrays ("lat", "lon", "y", "x",
            "time") of the raw grid, or None.

    Attributes:
        shape: `(total_frames, h, w, C)` of the processed series.
        frame_shape: `(h, w, C)`; raw_shape: `(H, W, C)`.
        lengths, starts: frames and first row of each sequence.
        user_valid: bool `(h, w, C)`: pixels the static mask and the padding
            leave valid.
        coords: the processed grid's coordinates.
    """

    def __init__(
        self,
        sequences,
        *,
        missing_value=None,
        mask=None,
        preprocessing=None,
        coords=None,
    ):
        self.sequences = list(sequences)
        self.lengths = np.array([int(s.shape[0]) for s in self.sequences], "int64")
        self.starts = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(
            "int64"
        )
        self.raw_shape = tuple(int(s) for s in self.sequences[0].shape[1:])
        self.raw_dtype = np.result_type(*[np.dtype(s.dtype) for s in self.sequences])
        self.codes = missing_codes(missing_value)
        self.static_mask, self.frame_masks = self._check_mask(mask)
        self.preprocessing = (preprocessing or Preprocessing()).resolve(
            self.raw_shape[:2], coords
        )
        h, w = self.preprocessing.output_shape
        self.frame_shape = (int(h), int(w), self.raw_shape[2])
        self.shape = (int(self.lengths.sum()),) + self.frame_shape
        self.ndim = 4
        self.dtype = np.dtype("float32")
        static = (
            np.ones(self.raw_shape, bool)
            if self.static_mask is None
            else self.static_mask
        )
        self.user_valid = np.asarray(self.preprocessing.apply_mask(static[None]))[0]
        self.coords = self.preprocessing.apply_coords(dict(coords)) if coords else {}

    # ------------------------------------------------------------- checks
    def _check_mask(self, mask):
        if mask is None:
            return None, None
        raw = self.raw_shape
        if isinstance(mask, (list, tuple)):
            if len(mask) != len(self.sequences):
                raise ValueError(
                    f"A list `mask` needs one per-frame mask per sequence: got "
                    f"{len(mask)} masks for {len(self.sequences)} sequences."
                )
            masks = [self._frame_mask(np.asarray(m), n) for n, m in enumerate(mask)]
            return None, masks
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(
                "`mask` must be boolean (True = valid pixel), e.g. `~np.isnan(land)`"
                f" or `sea > 0.5`. Received: mask.dtype={mask.dtype}"
            )
        if mask.shape in (raw[:2], raw):
            static = mask if mask.ndim == 3 else mask[..., None]
            return np.broadcast_to(static, raw).copy(), None
        if len(self.sequences) == 1:
            return None, [self._frame_mask(mask, 0)]
        if mask.ndim >= 3 and mask.shape[0] == len(self.sequences):
            return None, [self._frame_mask(m, n) for n, m in enumerate(mask)]
        raise ValueError(
            f"`mask` of shape {mask.shape} fits neither the frames {raw[:2]} / "
            f"{raw} (a static mask) nor the series (a per-frame mask "
            f"(T, {raw[0]}, {raw[1]}[, {raw[2]}]) per sequence)."
        )

    def _frame_mask(self, mask, n):
        raw, length = self.raw_shape, int(self.lengths[n])
        if mask.dtype != bool:
            raise ValueError(
                f"`mask` must be boolean (True = valid pixel). Received: dtype {mask.dtype}"
            )
        if mask.shape == (length,) + raw[:2]:
            mask = mask[..., None]
        if mask.shape != (length,) + raw:
            raise ValueError(
                f"The per-frame mask of sequence {n} has shape {mask.shape}; it must be "
                f"({length}, {raw[0]}, {raw[1]}) or ({length}, {', '.join(map(str, raw))})."
            )
        return np.broadcast_to(mask, (length,) + raw)

    # ------------------------------------------------------------ reading
    def locate(self, rows):
        """`(sequence, row within it)` of global rows."""
        rows = np.asarray(rows, "int64")
        sequence = np.searchsorted(self.starts, rows, side="right") - 1
        return sequence, rows - self.starts[sequence]

    def read_raw(self, rows):
        """The raw rows (source dtype, source grid) at global `rows`."""
        rows = np.asarray(rows, "int64").reshape(-1)
        sequence, local = self.locate(rows)
        if len(self.sequences) == 1:
            return np.asarray(self.sequences[0][local])
        out = np.empty((len(rows),) + self.raw_shape, self.raw_dtype)
        for n in np.unique(sequence):
            chosen = sequence == n
            out[chosen] = np.asarray(self.sequences[n][local[chosen]])
        return out

    def decode(self, raw, rows):
        """Raw rows -> float32 with codes, NaN/Inf and masked pixels as NaN."""
        data = np.array(raw, dtype="float32")
        if self.codes:
            data[np.isin(raw, np.asarray(self.codes, dtype=raw.dtype))] = np.nan
        data[~np.isfinite(data)] = np.nan
        if self.static_mask is not None:
            data[:, ~self.static_mask] = np.nan
        if self.frame_masks is not None:
            sequence, local = self.locate(rows)
            for i, (n, t) in enumerate(zip(sequence, local)):
                data[i][~self.frame_masks[n][t]] = np.nan
        return data

    def declared_valid(self, rows):
        """Pixels of `rows` (processed grid) that no mask declares invalid."""
        if self.frame_masks is None:
            return self.user_valid
        sequence, local = self.locate(rows)
        masks = np.stack([self.frame_masks[n][t] for n, t in zip(sequence, local)])
        return self.preprocessing.apply_mask(masks) & self.user_valid

    def __getitem__(self, rows):
        if isinstance(rows, slice):
            rows = np.arange(*rows.indices(self.shape[0]))
        rows = np.asarray(rows, "int64").reshape(-1)
        return self.preprocessing.apply(self.decode(self.read_raw(rows), rows))

    def __len__(self):
        return self.shape[0]

    def materialize(self):
        """The whole processed series as one float32 array (for data that fit)."""
        out = np.empty(self.shape, "float32")
        for lo, hi in self._chunks():
            out[lo:hi] = self[np.arange(lo, hi)]
        return out

    def _chunks(self):
        row_bytes = max(
            int(np.prod(self.raw_shape)) * max(self.raw_dtype.itemsize, 4), 1
        )
        step = max(1, CHUNK_BYTES // row_bytes)
        total = self.shape[0]
        for lo in range(0, total, step):
            yield lo, min(lo + step, total)

    # --------------------------------------------------------------- scan
    def scan(self, train_rows):
        """One chunked pass: per-frame missing counts and training statistics.

        Args:
            train_rows: bool array `(frames,)`: the frames statistics are fitted on.

        Returns:
            A `ScanResult`.
        """
        total, channels = self.shape[0], self.frame_shape[-1]
        missing = np.zeros(total, "int64")
        valid_input = np.zeros(total, bool)
        count = np.zeros(channels, "float64")
        mean = np.zeros(channels, "float64")
        m2 = np.zeros(channels, "float64")
        minimum = np.full(channels, np.inf)
        maximum = np.full(channels, -np.inf)
        valid_somewhere = np.zeros(self.frame_shape, bool)
        first = None
        code_count = 0
        suspicious = {}
        for lo, hi in self._chunks():
            rows = np.arange(lo, hi)
            raw = self.read_raw(rows)
            if self.codes:
                code_count += int(np.isin(raw, np.asarray(self.codes, raw.dtype)).sum())
            for value, n in _suspicious_counts(raw, self.codes).items():
                suspicious[value] = suspicious.get(value, 0) + n
            frames = self.preprocessing.apply(self.decode(raw, rows))
            finite = np.isfinite(frames)
            gap = ~finite & self.declared_valid(rows)
            missing[lo:hi] = gap.reshape(len(rows), -1).sum(axis=1)
            valid_input[lo:hi] = finite.reshape(len(rows), -1).any(axis=1)
            if first is None and gap.any():
                first = tuple(int(i) for i in np.argwhere(gap)[0])
                first = (first[0] + lo,) + first[1:]
            train = np.asarray(train_rows[lo:hi], bool)
            if train.any():
                part = frames if train.all() else frames[train]
                if not self.user_valid.all():
                    part = np.where(self.user_valid, part, np.float32(np.nan))
                valid_somewhere |= np.isfinite(part).any(axis=0)
                count, mean, m2 = _merge_moments(count, mean, m2, part)
                with np.errstate(all="ignore"):
                    flat = part.reshape(-1, channels)
                    if np.isfinite(flat).any():
                        minimum = np.fmin(minimum, np.nanmin(flat, axis=0))
                        maximum = np.fmax(maximum, np.nanmax(flat, axis=0))
        return ScanResult(
            missing_per_frame=missing,
            valid_input_per_frame=valid_input,
            count=count,
            mean=mean,
            m2=m2,
            minimum=minimum,
            maximum=maximum,
            valid_somewhere=valid_somewhere,
            first_missing=first,
            code_count=code_count,
            suspicious=suspicious,
        )


def _suspicious_counts(raw, codes):
    """Values that look like missing-value codes but were not declared as such."""
    found = {}
    if raw.dtype.kind in "iu" and raw.dtype.itemsize >= 2:
        info = np.iinfo(raw.dtype)
        candidates = [info.max] + ([info.min] if raw.dtype.kind == "i" else [])
    elif raw.dtype.kind == "f":
        candidates = list(SUSPICIOUS_CODES)
    else:
        return found
    for value in candidates:
        if any(float(value) == float(c) for c in codes):
            continue
        n = int(np.count_nonzero(raw == np.asarray(value).astype(raw.dtype)))
        if n:
            found[float(value)] = n
    return found


def _merge_moments(count, mean, m2, values):
    """Chan et al.'s parallel update of per-channel count, mean and M2 (NaN skipped).

    Works on the float32 chunk with float64 accumulators, so no float64 copy
    of the chunk is made.
    """
    channels = values.shape[-1]
    flat = values.reshape(-1, channels)
    n_b = np.isfinite(flat).sum(axis=0).astype("float64")
    if not n_b.any():
        return count, mean, m2
    with np.errstate(all="ignore"):
        mean_b = np.nansum(flat, axis=0, dtype="float64") / np.maximum(n_b, 1)
        deviation = flat - mean_b.astype("float32")
        np.square(deviation, out=deviation)
        m2_b = np.nansum(deviation, axis=0, dtype="float64")
    del deviation
    n = count + n_b
    delta = mean_b - mean
    safe = np.maximum(n, 1)
    mean = mean + delta * n_b / safe
    m2 = m2 + m2_b + delta**2 * count * n_b / safe
    return n, mean, m2
