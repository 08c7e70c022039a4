"""Spatial preprocessing of a run: crop, coarsen, pad, and the exact way back."""

import copy
import logging

import numpy as np

logger = logging.getLogger(__name__)

PAD_MODES = ("reflect", "constant")
CROP_KEYS = ("rows", "cols", "lat", "lon", "y", "x")
_ROW_VALUE_KEYS = ("lat", "y")
_COL_VALUE_KEYS = ("lon", "x")
# Remainder warnings already logged, so that a run warns once per grid, not per chunk.
_WARNED = set()


class Preprocessing:
    """Crops, coarsens and pads raw frames; `undo` maps forecasts back.

    The map is applied in a fixed order, crop -> coarsen -> pad, to channels-last
    frames `(..., H, W, C)` with any leading axes (`(T, H, W, C)`,
    `(N, T, H, W, C)`), in numpy (`apply`, `undo`) or with TensorFlow ops inside a
    graph (`tf_apply`, `tf_undo`); both give the same numbers. NaN marks a missing
    value throughout.

    - Crop keeps a rectangle of the raw `(H, W)` grid, given by index or by
      coordinate value. Coordinate crops need the grid's coordinate vectors and
      are turned into index form by `resolve(frame_shape, coords)`.
    - Coarsen averages `fh x fw` blocks, ignoring missing values: a block is the
      mean of its finite values, NaN if it has none. When the cropped size is not
      a multiple of the factor, the trailing rows/columns that do not fill a block
      are dropped (a warning is logged once).
    - Pad grows the coarsened grid at the bottom/right to the next multiple of
      `pad_to_multiple` (e.g. `2 ** (num_layers // 2)` for SimVP). Padded pixels
      are invalid in `apply_mask`, whatever the mode.

    `undo` removes the padding, repeats each block value over its block and puts
    the crop back into a NaN-filled raw grid (pixels outside the crop and dropped
    remainders are NaN). Every map but `is_identity` needs a resolved object
    (call `resolve` first, or pass `input_shape`).

    Args:
        crop: None, dict or list. None keeps the full grid. A dict
            `{"rows": [r0, r1], "cols": [c0, c1]}` gives half-open index ranges
            (as Python slices, `0 <= r0 < r1`); a dict `{"lat": [a, b],
            "lon": [c, d]}` (or `"y"`/`"x"`) gives inclusive coordinate ranges in
            either order (descending latitude grids work; ranges do not wrap
            around the dateline). A missing key keeps the full extent of that
            axis; index and value keys may be mixed across axes. The legacy list
            `[H, W]` keeps the top-left `H x W` pixels. Defaults to None.
        coarsen: None, int or `[fh, fw]`. Block-mean factors (>= 1). Defaults to
            None.
        pad_to_multiple: None or int >= 1. After crop and coarsen, pads H and W
            to the next multiple. Defaults to None.
        pad_mode: str. `"reflect"` mirrors the grid without repeating its edge
            (as `np.pad(mode="reflect")` / `tf.pad(mode="REFLECT")`); along an
            axis whose pad is larger than its size minus one, the edge value is
            repeated instead. `"constant"` pads with NaN (missing), for the
            pipeline to fill. Defaults to `"reflect"`.
        input_shape: None or `(H, W)`. The raw grid, set by `resolve`. With an
            index crop (or none) it makes the object resolved at once; it is how
            `from_config` restores a resolved object. Defaults to None.

    Example:

    ```python
    prep = Preprocessing(crop={"lat": [60, 30], "lon": [-10, 30]}, coarsen=2,
                         pad_to_multiple=4)
    prep = prep.resolve(frames.shape[1:], coords={"lat": lat, "lon": lon})
    small = prep.apply(frames)                    # (T, h, w, C)
    mask = prep.apply_mask(np.isfinite(frames))   # (T, h, w, C), False on padding
    back = prep.undo(forecast)                    # (..., H, W, C), NaN off the crop
    config = prep.get_config()                    # JSON, restored by from_config
    ```
    """

    def __init__(
        self,
        crop=None,
        coarsen=None,
        pad_to_multiple=None,
        pad_mode="reflect",
        input_shape=None,
    ):
        self.crop = _validate_crop(crop)
        self.coarsen = _validate_coarsen(coarsen)
        if pad_to_multiple is not None and not (
            _is_int(pad_to_multiple) and pad_to_multiple >= 1
        ):
            raise ValueError(
                "`pad_to_multiple` must be None or an integer >= 1. "
                f"Received: pad_to_multiple={pad_to_multiple!r}"
            )
        self.pad_to_multiple = None if pad_to_multiple is None else int(pad_to_multiple)
        if pad_mode not in PAD_MODES:
            raise ValueError(
                f"Unknown `pad_mode`. Valid: {', '.join(map(repr, PAD_MODES))}. "
                f"Received: pad_mode={pad_mode!r}"
            )
        self.pad_mode = pad_mode
        self._input_shape = None
        if input_shape is not None:
            self._set_geometry(_validate_frame_shape(input_shape, "input_shape"))

    # ------------------------------------------------------------- resolving
    def resolve(self, frame_shape, coords=None):
        """A copy with the crop in index form and the raw grid remembered.

        Args:
            frame_shape: `(H, W)` or `(H, W, C)`. The raw frame shape.
            coords: None or dict. 1-D coordinate vectors `"lat"`/`"y"` (length H)
                and `"lon"`/`"x"` (length W); needed by a coordinate crop.

        Returns:
            A resolved `Preprocessing` whose crop is `{"rows": [r0, r1],
            "cols": [c0, c1]}`.
        """
        shape = _validate_frame_shape(frame_shape, "frame_shape")
        crop = self.crop or {}
        resolved = {}
        for axis, index_key, value_keys, size in (
            ("rows", "rows", _ROW_VALUE_KEYS, shape[0]),
            ("cols", "cols", _COL_VALUE_KEYS, shape[1]),
        ):
            value_key = next((k for k in value_keys if k in crop), None)
            if index_key in crop:
                resolved[axis] = list(crop[index_key])
            elif value_key is not None:
                resolved[axis] = _crop_by_value(
                    crop[value_key], value_key, value_keys, coords, size, shape
                )
            else:
                resolved[axis] = [0, size]
        config = self.get_config()
        config.update(crop=resolved, input_shape=list(shape))
        return type(self).from_config(config)

    def _set_geometry(self, shape):
        """Checks the index crop against the raw grid and derives every size."""
        crop = self.crop or {}
        value_keys = [k for k in crop if k in _ROW_VALUE_KEYS + _COL_VALUE_KEYS]
        if value_keys:
            raise ValueError(
                f"A crop by coordinate value ({', '.join(map(repr, value_keys))}) "
                "needs the grid's coordinates: call `resolve(frame_shape, coords)` "
                "instead of passing `input_shape`. "
                f"Received: crop={self.crop!r}, input_shape={shape}"
            )
        fh, fw = self.coarsen or (1, 1)
        spans = []
        for key, size, factor in (("rows", shape[0], fh), ("cols", shape[1], fw)):
            start, stop = crop.get(key, [0, size])
            if stop > size:
                raise ValueError(
                    f"`crop` {key} [{start}, {stop}) fall outside the frame of shape "
                    f"(H, W)={shape}. Received: crop={self.crop!r}"
                )
            blocks = (stop - start) // factor
            if blocks == 0:
                raise ValueError(
                    f"`coarsen` factor {factor} is larger than the cropped {key} "
                    f"({stop - start}) of the frame of shape (H, W)={shape}. "
                    f"Received: coarsen={self.coarsen!r}, crop={self.crop!r}"
                )
            spans.append((start, blocks))
        (self._r0, self._hc), (self._c0, self._wc) = spans
        dropped = (
            crop.get("rows", [0, shape[0]])[1] - self._r0 - self._hc * fh,
            crop.get("cols", [0, shape[1]])[1] - self._c0 - self._wc * fw,
        )
        key = (shape, repr(self.crop), (fh, fw))
        if any(dropped) and key not in _WARNED:
            _WARNED.add(key)
            logger.warning(
                "Coarsening by (%d, %d) drops the last %d row(s) and %d column(s) of "
                "the cropped grid, which do not fill a block; `undo` returns NaN there.",
                fh,
                fw,
                *dropped,
            )
        multiple = self.pad_to_multiple or 1
        self._ph = -self._hc % multiple
        self._pw = -self._wc % multiple
        self._input_shape = shape

    def _require_resolved(self, method):
        if self._input_shape is None:
            raise ValueError(
                f"`Preprocessing.{method}` needs a resolved object: call "
                "`resolve(frame_shape, coords)` first (or pass `input_shape`). "
                f"Received: {self!r}"
            )

    @property
    def is_resolved(self):
        return self._input_shape is not None

    @property
    def input_shape(self):
        """`(H, W)` of the raw grid."""
        self._require_resolved("input_shape")
        return self._input_shape

    @property
    def output_shape(self):
        """`(h, w)` of the processed grid."""
        self._require_resolved("output_shape")
        return (self._hc + self._ph, self._wc + self._pw)

    @property
    def is_identity(self):
        """True when `apply` and `undo` leave frames unchanged."""
        if self._input_shape is not None:
            return (
                self.coarsen in (None, (1, 1))
                and (self._r0, self._c0, self._ph, self._pw) == (0, 0, 0, 0)
                and (self._hc, self._wc) == self._input_shape
            )
        return (
            self.crop is None
            and self.coarsen in (None, (1, 1))
            and self.pad_to_multiple in (None, 1)
        )

    # ------------------------------------------------------------ index maps
    def _pad_indices(self):
        """Per axis: the source index of each output pixel and whether it is real."""
        maps = []
        for size, pad in ((self._hc, self._ph), (self._wc, self._pw)):
            i = np.arange(size + pad)
            if self.pad_mode == "reflect" and pad <= size - 1:
                source = np.where(i < size, i, 2 * (size - 1) - i)
            else:  # edge; for "constant" the padded values are masked to NaN
                source = np.minimum(i, size - 1)
            maps.append((source.astype("int32"), i < size))
        return maps

    def _undo_indices(self):
        """Per axis: the processed pixel each raw pixel copies and whether it can."""
        fh, fw = self.coarsen or (1, 1)
        maps = []
        for size, start, blocks, factor in (
            (self._input_shape[0], self._r0, self._hc, fh),
            (self._input_shape[1], self._c0, self._wc, fw),
        ):
            i = np.arange(size)
            source = np.clip((i - start) // factor, 0, blocks - 1)
            maps.append(
                (source.astype("int32"), (i >= start) & (i < start + blocks * factor))
            )
        return maps

    def _check_grid(self, shape, expected, what, layout="(..., H, W, C)"):
        if len(shape) < 3 or tuple(shape[-3:-1]) != tuple(expected):
            raise ValueError(
                f"`{what}` must be {layout} with (H, W)={tuple(expected)}. "
                f"Received: {what}.shape={tuple(shape)}"
            )

    # ------------------------------------------------------------ numpy maps
    def apply(self, frames):
        """Raw `(..., H, W, C)` -> processed `(..., h, w, C)` float32."""
        self._require_resolved("apply")
        frames = np.asarray(frames)
        self._check_grid(frames.shape, self._input_shape, "frames")
        fh, fw = self.coarsen or (1, 1)
        x = frames[
            ...,
            self._r0 : self._r0 + self._hc * fh,
            self._c0 : self._c0 + self._wc * fw,
            :,
        ].astype("float32")
        if (fh, fw) != (1, 1):
            blocks = x.reshape(x.shape[:-3] + (self._hc, fh, self._wc, fw, x.shape[-1]))
            valid = np.isfinite(blocks)
            total = np.where(valid, blocks, 0).sum(axis=(-4, -2), dtype="float32")
            count = valid.sum(axis=(-4, -2)).astype("float32")
            with np.errstate(invalid="ignore", divide="ignore"):
                x = np.where(count > 0, total / count, np.float32(np.nan))
        (rows, row_real), (cols, col_real) = self._pad_indices()
        if self._ph:
            x = np.take(x, rows, axis=-3)
        if self._pw:
            x = np.take(x, cols, axis=-2)
        if self.pad_mode == "constant" and (self._ph or self._pw):
            real = row_real[:, None, None] & col_real[None, :, None]
            x = np.where(real, x, np.float32(np.nan))
        return x.astype("float32", copy=False)

    def apply_mask(self, mask):
        """A validity mask (True = valid) onto the processed grid.

        Args:
            mask: bool array `(..., H, W)` or `(..., H, W, C)`. When both readings
                fit the trailing axes (`H == W == C`), it is read as
                `(..., H, W)`.

        Returns:
            bool array `(..., h, w)` or `(..., h, w, C)`: a coarsened block is
            valid when any of its pixels is; padded pixels are False.
        """
        self._require_resolved("apply_mask")
        mask = np.asarray(mask, dtype=bool)
        spatial_last = mask.ndim >= 2 and tuple(mask.shape[-2:]) == self._input_shape
        if spatial_last:
            mask = mask[..., None]
        self._check_grid(
            mask.shape, self._input_shape, "mask", "(..., H, W) or (..., H, W, C)"
        )
        fh, fw = self.coarsen or (1, 1)
        m = mask[
            ...,
            self._r0 : self._r0 + self._hc * fh,
            self._c0 : self._c0 + self._wc * fw,
            :,
        ]
        if (fh, fw) != (1, 1):
            m = m.reshape(m.shape[:-3] + (self._hc, fh, self._wc, fw, m.shape[-1]))
            m = m.any(axis=(-4, -2))
        if self._ph or self._pw:
            pad = [(0, 0)] * (m.ndim - 3) + [(0, self._ph), (0, self._pw), (0, 0)]
            m = np.pad(m, pad, constant_values=False)
        return m[..., 0] if spatial_last else m

    def apply_coords(self, coords):
        """Crops, block-averages and pads 1-D coordinate vectors.

        Args:
            coords: dict. `"lat"`/`"y"` (length H) and `"lon"`/`"x"` (length W)
                are mapped; padding extends them linearly with the grid step.
                Other keys (e.g. `"time"`) pass through unchanged.

        Returns:
            A new dict with float64 vectors on the processed grid.
        """
        self._require_resolved("apply_coords")
        fh, fw = self.coarsen or (1, 1)
        out = dict(coords)
        for keys, size, start, blocks, factor, pad in (
            (_ROW_VALUE_KEYS, self._input_shape[0], self._r0, self._hc, fh, self._ph),
            (_COL_VALUE_KEYS, self._input_shape[1], self._c0, self._wc, fw, self._pw),
        ):
            for key in keys:
                if key not in coords:
                    continue
                values = _coordinate_vector(coords[key], key, size, self._input_shape)
                raw = values[start : start + blocks * factor]
                vector = raw.reshape(blocks, factor).mean(axis=1)
                if pad:
                    if blocks >= 2:
                        step = vector[-1] - vector[-2]
                    elif len(raw) >= 2:
                        step = (raw[-1] - raw[-2]) * factor
                    else:  # one raw pixel: no step to extrapolate with
                        step = 0.0
                    vector = np.concatenate(
                        [vector, vector[-1] + step * np.arange(1, pad + 1)]
                    )
                out[key] = vector
        return out

    def undo(self, forecast):
        """Processed `(..., h, w, C)` -> raw grid `(..., H, W, C)` float32.

        Padding is removed, each block value is repeated over its block, and
        pixels outside the crop (or in a dropped remainder) are NaN.
        """
        self._require_resolved("undo")
        forecast = np.asarray(forecast, dtype="float32")
        self._check_grid(forecast.shape, self.output_shape, "forecast")
        (rows, row_real), (cols, col_real) = self._undo_indices()
        x = np.take(np.take(forecast, rows, axis=-3), cols, axis=-2)
        real = row_real[:, None, None] & col_real[None, :, None]
        if not real.all():
            x = np.where(real, x, np.float32(np.nan))
        return x

    # ------------------------------------------------------- TensorFlow maps
    def tf_apply(self, tensor):
        """`apply` with TensorFlow ops: `(N, T, H, W, C)` -> `(N, T, h, w, C)`.

        Traces inside a `tf.function` with a free batch (and time) dimension; any
        rank >= 3 with static H, W works.
        """
        import tensorflow as tf

        self._require_resolved("tf_apply")
        x = tf.cast(tf.convert_to_tensor(tensor), "float32")
        self._check_grid(x.shape, self._input_shape, "tensor")
        fh, fw = self.coarsen or (1, 1)
        x = x[
            ...,
            self._r0 : self._r0 + self._hc * fh,
            self._c0 : self._c0 + self._wc * fw,
            :,
        ]
        if (fh, fw) != (1, 1):
            shape = tf.shape(x)
            blocks = tf.reshape(
                x,
                tf.concat(
                    [shape[:-3], [self._hc, fh, self._wc, fw], shape[-1:]], axis=0
                ),
            )
            valid = tf.math.is_finite(blocks)
            total = tf.reduce_sum(
                tf.where(valid, blocks, tf.zeros_like(blocks)), axis=[-4, -2]
            )
            count = tf.reduce_sum(tf.cast(valid, "float32"), axis=[-4, -2])
            x = tf.where(
                count > 0,
                total / tf.maximum(count, 1.0),
                tf.constant(np.nan, "float32"),
            )
        (rows, row_real), (cols, col_real) = self._pad_indices()
        if self._ph:
            x = tf.gather(x, rows, axis=-3)
        if self._pw:
            x = tf.gather(x, cols, axis=-2)
        if self.pad_mode == "constant" and (self._ph or self._pw):
            real = row_real[:, None, None] & col_real[None, :, None]
            x = tf.where(real, x, tf.constant(np.nan, "float32"))
        return x

    def tf_undo(self, tensor):
        """`undo` with TensorFlow ops: `(N, T, h, w, C)` -> `(N, T, H, W, C)`."""
        import tensorflow as tf

        self._require_resolved("tf_undo")
        x = tf.cast(tf.convert_to_tensor(tensor), "float32")
        self._check_grid(x.shape, self.output_shape, "tensor")
        (rows, row_real), (cols, col_real) = self._undo_indices()
        x = tf.gather(tf.gather(x, rows, axis=-3), cols, axis=-2)
        real = row_real[:, None, None] & col_real[None, :, None]
        if not real.all():
            x = tf.where(real, x, tf.constant(np.nan, "float32"))
        return x

    # ---------------------------------------------------------------- config
    def get_config(self):
        return {
            "crop": copy.deepcopy(self.crop),
            "coarsen": None if self.coarsen is None else list(self.coarsen),
            "pad_to_multiple": self.pad_to_multiple,
            "pad_mode": self.pad_mode,
            "input_shape": None
            if self._input_shape is None
            else list(self._input_shape),
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"Preprocessing({args})"


# ------------------------------------------------------------------ validation
def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value):
    return (
        isinstance(value, (int, float, np.integer, np.floating))
        and not isinstance(value, bool)
        and np.isfinite(value)
    )


def _validate_crop(crop):
    """Normalises `crop` to None or a dict of `[start, stop]` lists."""
    if crop is None:
        return None
    if isinstance(crop, (list, tuple)):
        if len(crop) != 2 or not all(_is_int(v) and v >= 1 for v in crop):
            raise ValueError(
                "A list `crop` must be `[H, W]` (two positive integers, the top-left "
                "H x W pixels are kept); use a dict for other crops. "
                f"Received: crop={crop!r}"
            )
        return {"rows": [0, int(crop[0])], "cols": [0, int(crop[1])]}
    if not isinstance(crop, dict):
        raise ValueError(
            "`crop` must be None, a dict such as {'rows': [r0, r1], 'cols': [c0, c1]} "
            f"or {{'lat': [a, b], 'lon': [c, d]}}, or a list [H, W]. Received: crop={crop!r}"
        )
    unknown = [k for k in crop if k not in CROP_KEYS]
    if unknown:
        raise ValueError(
            f"Unknown `crop` key(s) {', '.join(map(repr, unknown))}. "
            f"Valid: {', '.join(map(repr, CROP_KEYS))}. Received: crop={crop!r}"
        )
    for axis, keys in (
        ("row", ("rows",) + _ROW_VALUE_KEYS),
        ("column", ("cols",) + _COL_VALUE_KEYS),
    ):
        given = [k for k in keys if crop.get(k) is not None]
        if len(given) > 1:
            raise ValueError(
                f"`crop` gives the {axis} range more than once "
                f"({', '.join(map(repr, given))}); keep one. Received: crop={crop!r}"
            )
    result = {}
    for key, value in crop.items():
        if value is None:  # a YAML `rows: null` keeps the full extent
            continue
        if not isinstance(value, (list, tuple)) or len(value) != 2:
            raise ValueError(
                f"`crop['{key}']` must be a pair [start, stop]. Received: crop={crop!r}"
            )
        if key in ("rows", "cols"):
            if not all(_is_int(v) for v in value) or not 0 <= value[0] < value[1]:
                raise ValueError(
                    f"`crop['{key}']` must be a non-empty half-open index range "
                    f"[start, stop) with 0 <= start < stop. Received: crop={crop!r}"
                )
            result[key] = [int(value[0]), int(value[1])]
        else:
            if not all(_is_number(v) for v in value):
                raise ValueError(
                    f"`crop['{key}']` must be two finite coordinate values. "
                    f"Received: crop={crop!r}"
                )
            result[key] = [float(value[0]), float(value[1])]
    return result or None


def _validate_coarsen(coarsen):
    if coarsen is None:
        return None
    factors = (
        list(coarsen) if isinstance(coarsen, (list, tuple)) else [coarsen, coarsen]
    )
    if len(factors) != 2 or not all(_is_int(f) and f >= 1 for f in factors):
        raise ValueError(
            "`coarsen` must be None, an integer factor >= 1 or a pair [fh, fw] of "
            f"them. Received: coarsen={coarsen!r}"
        )
    return (int(factors[0]), int(factors[1]))


def _validate_frame_shape(shape, name):
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        dims = ()
    if len(dims) not in (2, 3) or not all(d >= 1 for d in dims):
        raise ValueError(
            f"`{name}` must be (H, W) or (H, W, C) with positive sizes. "
            f"Received: {name}={shape!r}"
        )
    return dims[:2]


def _coordinate_vector(values, key, size, shape):
    values = np.asarray(values, dtype="float64")
    if values.shape != (size,):
        raise ValueError(
            f"Coordinate `{key}` must be a 1-D vector of length {size} for the frame "
            f"of shape (H, W)={shape}. Received: {key}.shape={values.shape}"
        )
    return values


def _crop_by_value(bounds, key, synonyms, coords, size, shape):
    """The index range `[start, stop)` of the coordinates within `bounds`."""
    found = next((k for k in (key,) + synonyms if coords and k in coords), None)
    if found is None:
        raise ValueError(
            f"A crop by coordinate value ('{key}') needs the grid's coordinates: pass "
            f"`coords={{'{key}': ...}}` to `resolve` (loaders from xarray or netCDF "
            "provide them), or crop by index with 'rows'/'cols'. "
            f"Received: coords={None if coords is None else sorted(coords)}"
        )
    values = _coordinate_vector(coords[found], found, size, shape)
    low, high = min(bounds), max(bounds)
    steps = np.abs(np.diff(values))
    tolerance = 1e-6 * (float(np.median(steps)) if len(steps) else 1.0)
    inside = np.flatnonzero((values >= low - tolerance) & (values <= high + tolerance))
    if len(inside) == 0:
        raise ValueError(
            f"`crop['{key}']`={list(bounds)} selects no pixel of the frame of shape "
            f"(H, W)={shape}, whose {found} spans [{values.min()}, {values.max()}]. "
            f"Received: crop['{key}']={list(bounds)}"
        )
    start, stop = int(inside[0]), int(inside[-1]) + 1
    if stop - start != len(inside):
        raise ValueError(
            f"`crop['{key}']` needs monotonic coordinates, but {found} is not "
            f"monotonic over the range. Received: crop['{key}']={list(bounds)}"
        )
    return [start, stop]
