"""xarray data -> train/val/test windows, read lazily: `from_xarray(ds, ...)`.

```python
ds = xarray.open_dataset("era5.nc")           # or open_zarr / open_mfdataset
train, val, test = keras_svq.data.from_xarray(
    ds, variables=["t2m", "u10"], input_length=12, output_length=12,
    batch_size=16, seed=0)
```

The variables (or the levels of one variable) become the channels
`(time, H, W, C)`; nothing is read up front: each batch of windows reads its
frames through `isel`, so files larger than memory stream from disk (with or
without dask). Needs xarray (`pip install "keras-svq[xarray]"`).
"""

import numpy as np

from keras_svq.data.netcdf import coordinate_key
from keras_svq.data.netcdf import decode_time
from keras_svq.data.netcdf import read_rows

_INSTALL = 'pip install "keras-svq[xarray]"'
# Grid dimension names, (rows, columns): the frames are (time, rows, columns).
_GRID_DIMS = (("lat", "lon"), ("latitude", "longitude"), ("y", "x"))


def _import_xarray():
    try:
        import xarray
    except ImportError as error:
        raise ImportError(f"Reading xarray objects needs xarray: {_INSTALL}") from error
    return xarray


def _label(value):
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # levels 850.0 -> "t_850"
    return str(value)


def _grid_dims(dims):
    """`(rows, columns, others)` of the dims left once time/sequence/channel are out."""
    lower = {str(d).lower(): d for d in dims}
    for row, column in _GRID_DIMS:
        if row in lower and column in lower:
            grid = (lower[row], lower[column])
            return grid + ([d for d in dims if d not in grid],)
    if len(dims) == 2:  # unnamed grid (e.g. rlat/rlon): keep the stored order
        return dims[0], dims[1], []
    if len(dims) < 2:
        return None, None, []
    return None, None, list(dims)


class XarrayFrames:
    """xarray variables as one lazy frame array `(time, H, W, C)` or `(N, time, H, W, C)`.

    Each variable gives one channel, or one per value of `channel_dim`, in
    order. Indexing along the first axis (a slice, an int, or a 1-D integer
    array of rows in any order, read as a few contiguous slices) selects with
    `isel`, transposes to `(time, H, W)` and only then loads `.values`, so
    only the frames asked for are read.

    Args:
        arrays: list of `xarray.DataArray` sharing their time (and sequence)
            and grid dimensions.
        time_dim: str. The time dimension. Defaults to "time".
        sequence_dim: str or None. A dimension of independent sequences
            (e.g. "event", "member", "sample"): the frames are then
            `(N, time, H, W, C)`. Defaults to None.
        channel_dim: str or None. A dimension stacked as channels (e.g.
            "level"); arrays without it give one channel. Defaults to None.

    Attributes:
        shape, dtype, ndim: of the decoded frames.
        coords: dict. `"time"` (`datetime64[s]` when the times are dates,
            else numbers) and `"lat"`/`"lon"` (or `"y"`/`"x"`) -> 1-D array,
            where the object has those coordinates.
        channel_names, channel_units: lists of str, one per channel.

    Raises:
        ValueError: a dimension is missing, or one is left over besides time,
            the sequences, the channels and the grid (the message names it).

    Example:

    ```python
    frames = XarrayFrames([ds["t2m"], ds["u10"]])   # nothing read yet
    frames.shape                                    # (T, H, W, 2)
    window = frames[np.arange(12, 24)]              # 12 frames read
    ```
    """

    def __init__(self, arrays, *, time_dim="time", sequence_dim=None, channel_dim=None):
        if not arrays:
            raise ValueError("`arrays` is empty: pass at least one DataArray.")
        self.time_dim = time_dim
        self.sequence_dim = sequence_dim
        self.channel_dim = channel_dim
        grid = None
        for array in arrays:
            grid = self._check_dims(array, grid)
        if channel_dim is not None and not any(channel_dim in a.dims for a in arrays):
            raise ValueError(
                f"No variable has the channel dimension {channel_dim!r}; their dims "
                f"are {[tuple(a.dims) for a in arrays]}. Received: "
                f"channel_dim={channel_dim!r}"
            )
        self._arrays = list(arrays)
        self.dims = ((sequence_dim,) if sequence_dim else ()) + (time_dim,) + grid
        self.channel_names, self.channel_units = [], []
        for array in arrays:
            name = "" if array.name is None else str(array.name)
            if channel_dim in array.dims:
                values = (
                    array[channel_dim].values
                    if channel_dim in array.coords
                    else range(array.sizes[channel_dim])
                )
                labels = [f"{name}_{_label(v)}" if name else _label(v) for v in values]
            else:
                labels = [name or f"channel_{len(self.channel_names)}"]
            self.channel_names += labels
            self.channel_units += [str(array.attrs.get("units", ""))] * len(labels)
        sizes = arrays[0].sizes
        self.shape = tuple(int(sizes[d]) for d in self.dims) + (
            len(self.channel_names),
        )
        self.dtype = np.result_type(*[a.dtype for a in arrays])
        self.coords = self._coords(arrays[0], grid)

    def _check_dims(self, array, grid):
        label = (
            f"Variable {array.name!r}" if array.name is not None else "The DataArray"
        )
        dims = list(array.dims)
        for arg, dim in (
            ("time_dim", self.time_dim),
            ("sequence_dim", self.sequence_dim),
        ):
            if dim is not None and dim not in dims:
                raise ValueError(
                    f"{label} has no dimension {dim!r}; its dims are {tuple(dims)}. "
                    f"Received: {arg}={dim!r}"
                )
        if np.dtype(array.dtype).kind not in "biuf":
            raise ValueError(
                f"{label} holds {array.dtype} values, not numbers: it cannot be a frame."
            )
        used = (self.time_dim, self.sequence_dim, self.channel_dim)
        rows, columns, others = _grid_dims([d for d in dims if d not in used])
        if others:
            other = others[0]
            raise ValueError(
                f"{label} has the dimension(s) {others} besides time {self.time_dim!r}"
                + (f" and the grid ({rows!r}, {columns!r})" if rows else "")
                + f": frames are (time, H, W[, C]). Select one value with "
                f"`.isel({other}=0)`, stack it as channels with channel_dim={other!r}, "
                f"or make it independent sequences with sequence_dim={other!r}."
            )
        if rows is None:
            raise ValueError(
                f"{label} needs two grid dimensions (lat/lon, latitude/longitude or "
                f"y/x) besides time {self.time_dim!r}; its dims are {tuple(dims)}."
            )
        if grid is not None and (rows, columns) != grid:
            raise ValueError(
                f"{label} lies on the grid ({rows!r}, {columns!r}), the first variable "
                f"on {grid}: all variables need the same grid."
            )
        return rows, columns

    def _coords(self, array, grid):
        coords = {}
        if self.time_dim in array.coords and array[self.time_dim].ndim == 1:
            time = array[self.time_dim]
            values = np.asarray(time.values)
            try:
                if values.dtype.kind == "M":
                    coords["time"] = values.astype("datetime64[s]")
                elif values.dtype.kind in "iuf":  # opened with decode_times=False
                    coords["time"] = decode_time(values, time.attrs)
                else:  # cftime dates: kept when numpy can hold them
                    coords["time"] = np.array(
                        [np.datetime64(v.isoformat(), "s") for v in values]
                    )
            except (AttributeError, TypeError, ValueError):
                pass
        for dim in grid:
            key = coordinate_key(dim)
            if key and dim in array.coords and array[dim].ndim == 1:
                values = np.asarray(array[dim].values)
                if values.dtype.kind in "iuf":
                    coords[key] = values
        return coords

    @property
    def ndim(self):
        return len(self.shape)

    def __len__(self):
        return self.shape[0]

    def _read(self, selection):
        parts = []
        for array in self._arrays:
            part = array.isel({self.dims[0]: selection})
            has_channels = self.channel_dim in part.dims
            order = self.dims + ((self.channel_dim,) if has_channels else ())
            values = np.asarray(part.transpose(*order).values, self.dtype)
            parts.append(values if has_channels else values[..., None])
        return np.concatenate(parts, axis=-1) if len(parts) > 1 else parts[0]

    def __getitem__(self, index):
        if isinstance(index, tuple):
            head, rest = index[0], index[1:]
            keeps_axis = not isinstance(head, (int, np.integer))
            return self[head][(slice(None),) + rest if keeps_axis else rest]
        if index is Ellipsis:
            return self._read(slice(None))
        if isinstance(index, (int, np.integer)):
            row = int(index) + (self.shape[0] if index < 0 else 0)
            if not 0 <= row < self.shape[0]:
                raise IndexError(f"row {index} out of range for {self.shape[0]} rows")
            return self._read(slice(row, row + 1))[0]  # isel(int) would drop the axis
        if isinstance(index, slice):
            return self._read(index)
        rows = np.asarray(index)
        if rows.ndim != 1 or (len(rows) and rows.dtype.kind not in "iu"):
            raise IndexError(
                "XarrayFrames takes an int, a slice or a 1-D integer array of rows. "
                f"Received: index={index!r}"
            )
        if not len(rows):
            return self._read(rows.astype("int64"))
        rows = np.where(rows < 0, rows + self.shape[0], rows)
        return read_rows(self, rows)

    def __array__(self, dtype=None, copy=None):
        data = self._read(slice(None))
        return data if dtype is None else data.astype(dtype)

    def __repr__(self):
        return (
            f"XarrayFrames(dims={self.dims}, channels={self.channel_names}, "
            f"shape={self.shape}, dtype={self.dtype})"
        )


def from_xarray(
    obj,
    *,
    variables=None,
    time_dim="time",
    sequence_dim=None,
    channel_dim=None,
    **kwargs,
):
    """Train/val/test windows from an `xarray.Dataset` or `DataArray`, read lazily.

    The frames are an `XarrayFrames` (nothing is loaded by this call): the
    chosen variables become channels in order, the grid is the two remaining
    dimensions (lat/lon, latitude/longitude or y/x, rows first whatever their
    stored order; a descending latitude stays as stored), and the time,
    latitude and longitude values go to `from_array` as `coords`.

    Args:
        obj: `xarray.Dataset` or `xarray.DataArray` (e.g. from
            `xarray.open_dataset` or `open_zarr`).
        variables: list of str or None. Data variables of a Dataset, stacked
            as channels in this order. Defaults to every data variable that
            has `time_dim`.
        time_dim: str. The time dimension. Defaults to "time".
        sequence_dim: str or None. A dimension of independent sequences
            (e.g. "event", "member", "sample"): the frames are then
            `(N, time, H, W, C)`. Defaults to None.
        channel_dim: str or None. A dimension stacked as channels (e.g.
            "level"), named `<variable>_<value>`. Defaults to None.
        **kwargs: passed to `keras_svq.data.from_array` (`input_length`,
            `output_length`, `batch_size`, `split`, ...). `name`, `units`
            and `coords` default to the object's name, the variables'
            `units` attributes and the coordinates found.

    Returns:
        What `from_array` returns: `Splits` `(train, val, test)` of
        `(x, y)` batches, `x: (B, T_in, H, W, C)`, `y: (B, T_out, H, W, C)`.

    Raises:
        ImportError: xarray is not installed.
        TypeError: `obj` is neither a Dataset nor a DataArray.
        ValueError: a variable or dimension is missing, or a dimension is
            left over (the message names it and how to handle it).

    Example:

    ```python
    ds = xarray.open_dataset("era5_levels.nc")
    splits = from_xarray(ds["t"], channel_dim="level", input_length=4,
                         output_length=4, batch_size=8, seed=0)
    ```
    """
    xr = _import_xarray()
    if isinstance(obj, xr.DataArray):
        if variables is not None:
            raise ValueError(
                "`variables` picks data variables of a Dataset; a DataArray is one "
                f"variable (use channel_dim= for its levels). Received: variables={variables!r}"
            )
        arrays = [obj]
        name = "xarray" if obj.name is None else str(obj.name)
    elif isinstance(obj, xr.Dataset):
        present = [str(n) for n in obj.data_vars]
        if variables is None:
            variables = [n for n in present if time_dim in obj[n].dims]
            if not variables:
                raise ValueError(
                    f"No data variable has the time dimension {time_dim!r}; the "
                    f"dataset's dims are {tuple(obj.sizes)}. Received: time_dim={time_dim!r}"
                )
        elif isinstance(variables, str):
            variables = [variables]
        missing = [v for v in variables if v not in obj.data_vars]
        if missing:
            raise ValueError(
                f"Variables {missing} are not in the dataset. Data variables present: "
                f"{present}. Received: variables={list(variables)!r}"
            )
        arrays = [obj[v] for v in variables]
        name = "_".join(variables)
    else:
        raise TypeError(
            "Expected an xarray.Dataset or xarray.DataArray. "
            f"Received: type(obj)={type(obj).__name__}"
        )
    frames = XarrayFrames(
        arrays, time_dim=time_dim, sequence_dim=sequence_dim, channel_dim=channel_dim
    )
    from keras_svq.data.own_data import from_array

    options = {
        "coords": frames.coords,
        "variables": frames.channel_names,
        "units": frames.channel_units,
        "name": name,
        **kwargs,
    }
    return from_array(frames, **options)
