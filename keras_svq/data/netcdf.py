"""A small lazy netCDF reader (netCDF-4/HDF5 through h5py, netCDF-3 through scipy).

Only what the loaders need: list the variables of a file and slice one lazily
along its first axis, with CF packing (`scale_factor`, `add_offset`) and
`_FillValue`/`missing_value` (turned into NaN) applied. Nothing is read until
a slice is asked for (netCDF-4 through h5py, netCDF-3 memory-mapped), so files
larger than memory stream from disk. xarray is not required.

The CF helpers below (`decoded_dtype`, `decode_values`, `read_rows`,
`read_decoded`, `dimension_coords`, `decode_time`) are shared with the other
lazy stores (`keras_svq.data.zarr_store`).
"""

import pathlib
import re

import numpy as np

# Dimension names (lower case) -> the key of their values in a lazy array's `coords`.
COORD_KEYS = {
    "time": "time",
    "valid_time": "time",
    "t": "time",
    "lat": "lat",
    "latitude": "lat",
    "lon": "lon",
    "longitude": "lon",
    "y": "y",
    "x": "x",
}

_SECONDS_PER_UNIT = {
    **dict.fromkeys(("microseconds", "microsecond", "us", "usec", "usecs"), 1e-6),
    **dict.fromkeys(("milliseconds", "millisecond", "ms", "msec", "msecs"), 1e-3),
    **dict.fromkeys(("seconds", "second", "s", "sec", "secs"), 1.0),
    **dict.fromkeys(("minutes", "minute", "min", "mins"), 60.0),
    **dict.fromkeys(("hours", "hour", "h", "hr", "hrs"), 3600.0),
    **dict.fromkeys(("days", "day", "d"), 86400.0),
    **dict.fromkeys(("weeks", "week"), 604800.0),
}
_GREGORIAN_START = np.datetime64("1582-10-15", "s")
_ORIGIN = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ]+(\d{1,2})(?::(\d{1,2})(?::(\d{1,2})(?:\.\d*)?)?)?)?"
    r"\s*(?:([+-])(\d{1,2})(?::?(\d{2}))?)?"
)


# ------------------------------------------------------------ CF decoding
def decoded_dtype(raw_dtype, attrs):
    """The dtype of a variable's values once `decode_values` has run.

    float32 when CF packing or a fill value applies to non-float data, the
    stored dtype in native byte order otherwise.
    """
    dtype = np.dtype(raw_dtype).newbyteorder("=")  # netCDF-3 is big-endian on disk
    if "scale_factor" in attrs or "add_offset" in attrs:
        return np.dtype("float32")
    if any(k in attrs for k in ("_FillValue", "missing_value")) and dtype.kind != "f":
        return np.dtype("float32")
    return dtype


def decode_values(data, attrs, dtype):
    """Stored values -> physical ones: fill/missing values to NaN, then CF unpacking."""
    fill = [attrs[k] for k in ("_FillValue", "missing_value") if k in attrs]
    # Compared in the stored dtype: in float32 neighbours of a large integer
    # fill value would compare equal to it.
    missing = _fill_mask(data, fill) if fill else None
    if dtype != data.dtype:
        data = data.astype(dtype)
    if missing is not None and missing.any():
        data = np.where(missing, np.nan, data)
    if "scale_factor" in attrs:
        data = data * np.float32(attrs["scale_factor"])
    if "add_offset" in attrs:
        data = data + np.float32(attrs["add_offset"])
    return data


def _fill_mask(data, fill_values):
    mask = np.zeros(data.shape, bool)
    for value in fill_values:
        for item in np.asarray(value).reshape(-1):  # `missing_value` may be a list
            if item.dtype.kind not in "biuf" or not np.isfinite(item):
                continue  # NaN fills are NaN already
            if data.dtype.kind in "iu":
                info = np.iinfo(data.dtype)
                if not info.min <= item <= info.max:
                    continue  # cannot occur in the stored values
            mask |= data == item.astype(data.dtype)
    return mask


def read_rows(array, rows, max_gap=32):
    """Rows along axis 0 of `array` (any order), read as a few contiguous slices.

    h5py and zarr want increasing indices and are fastest on slices: sorted
    rows are grouped into runs whose gaps are at most `max_gap`, each run is
    one `array[lo:hi]` read.
    """
    order = np.argsort(rows, kind="stable")
    ordered = rows[order]
    breaks = np.flatnonzero(np.diff(ordered) > max_gap) + 1
    parts = []
    for run in np.split(ordered, breaks):
        lo, hi = int(run[0]), int(run[-1]) + 1
        parts.append(np.asarray(array[lo:hi])[run - lo])
    data = np.concatenate(parts)
    result = np.empty_like(data)
    result[order] = data
    return result


def read_decoded(raw, index, attrs, dtype):
    """`raw[index]` decoded; a 1-D integer array of rows goes through `read_rows`."""
    if isinstance(index, list):
        index = np.asarray(index)
    if (
        isinstance(index, np.ndarray)
        and index.ndim == 1
        and index.dtype.kind in "iu"
        and len(index)
    ):
        index = np.where(index < 0, index + raw.shape[0], index)
        data = read_rows(raw, index)
    else:
        data = np.asarray(raw[index])
    return decode_values(data, attrs, dtype)


# ------------------------------------------------------------ coordinates
def coordinate_key(dim):
    """`"time"`, `"lat"`, `"lon"`, `"y"` or `"x"` for a dimension name, else None."""
    return COORD_KEYS.get(str(dim).lower())


def _parse_origin(text):
    text = text.strip().upper().replace("UTC", "").strip()
    text = text[:-1] if text.endswith("Z") else text
    match = _ORIGIN.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, sign, tz_hour, tz_minute = match.groups()
    try:
        origin = np.datetime64(
            f"{year}-{int(month):02d}-{int(day):02d}T{int(hour or 0):02d}:"
            f"{int(minute or 0):02d}:{int(second or 0):02d}",
            "s",
        )
    except ValueError:
        return None
    if sign:
        offset = np.timedelta64(int(tz_hour) * 3600 + int(tz_minute or 0) * 60, "s")
        origin = origin - offset if sign == "+" else origin + offset
    return origin


def decode_time(values, attrs):
    """CF time values (`units="hours since 1979-01-01"`) -> `datetime64[s]`.

    Returns `values` unchanged when the units do not parse or the calendar is
    not the (proleptic) Gregorian one numpy uses. Non-finite values become NaT.

    Example:

    ```python
    decode_time(np.array([0, 6]), {"units": "hours since 1979-01-01"})
    # array(['1979-01-01T00:00:00', '1979-01-01T06:00:00'], dtype='datetime64[s]')
    ```
    """
    units = attrs.get("units")
    calendar = str(attrs.get("calendar", "standard")).lower()
    values = np.asarray(values)
    if not isinstance(units, str) or values.dtype.kind not in "iuf":
        return values
    if calendar not in ("standard", "gregorian", "proleptic_gregorian"):
        return values
    match = re.fullmatch(r"\s*([A-Za-z]+)\s+since\s+(.+)", units)
    if match is None:
        return values
    seconds = _SECONDS_PER_UNIT.get(match[1].lower())
    origin = _parse_origin(match[2])
    if seconds is None or origin is None:
        return values
    if calendar != "proleptic_gregorian" and origin < _GREGORIAN_START:
        return values  # the mixed Julian/Gregorian calendar differs from numpy's
    finite = np.isfinite(values)
    offsets = np.round(np.where(finite, values, 0).astype("float64") * seconds)
    result = origin + offsets.astype("int64").astype("timedelta64[s]")
    result[~finite] = np.datetime64("NaT")
    return result


def dimension_coords(dims, variables):
    """`coords` of a variable with `dims`, from the 1-D variables of its file.

    Args:
        dims: sequence of str. The variable's dimension names.
        variables: dict name -> lazy variable (`shape`, `attrs`, `var[:]`).

    Returns:
        dict: `"time"` (`datetime64[s]` when its CF units parse, else numbers),
        `"lat"`, `"lon"`, `"y"`, `"x"` -> 1-D numpy array, for the dimensions
        that have a coordinate variable of the same name.
    """
    coords = {}
    for dim in dims:
        key = coordinate_key(dim)
        var = variables.get(dim)
        if key is None or key in coords or var is None or len(var.shape) != 1:
            continue
        values = np.asarray(var[:])
        coords[key] = decode_time(values, var.attrs) if key == "time" else values
    return coords


# ---------------------------------------------------------------- netCDF
class NetCDFVariable:
    """A lazily-read netCDF variable: `shape`, `dtype`, `ndim`, `dims`, `attrs`, `coords`.

    Indexing (`var[rows]`) takes what h5py/numpy take along the first axis, or
    a 1-D integer array of rows in any order (read as a few contiguous
    slices), and returns decoded values: fill and missing values are NaN, CF
    packing is undone, `dtype` is the decoded dtype.

    Args:
        raw: the stored array (an h5py dataset or a memory-mapped array).
        attrs: dict. The variable's attributes.
        dims: sequence of str. Its dimension names.
        handle: the open file, kept alive as long as the variable.
        coords: dict or None. `"time"`, `"lat"`, `"lon"`, `"y"`, `"x"` -> 1-D
            numpy array, for the dimensions the file has values of (see
            `dimension_coords`). Defaults to none.

    Example:

    ```python
    var = open_netcdf("era5.nc")["t2m"]   # nothing read yet
    frames = var[np.arange(12, 24)]       # (12, H, W) float32
    var.coords["time"][:2]                # datetime64[s]
    ```
    """

    def __init__(self, raw, attrs, dims, handle=None, coords=None):
        self._raw = raw
        self._handle = handle  # keeps the file open as long as the variable lives
        self.attrs = attrs
        self.dims = tuple(dims)
        self.shape = tuple(int(s) for s in raw.shape)
        self.dtype = decoded_dtype(raw.dtype, attrs)
        self.coords = dict(coords or {})

    @property
    def ndim(self):
        return len(self.shape)

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        return read_decoded(self._raw, index, self.attrs, self.dtype)


def _attr(value):
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray) and value.size == 1:
        return value.reshape(()).item()
    return value


def _open_netcdf3(path):
    """scipy's memory-mapped netCDF-3 reader, without its close-on-delete warning.

    The arrays point into the memory map; it is released when the last of them
    is, so there is nothing to close explicitly.
    """
    from scipy.io import netcdf_file

    class _File(netcdf_file):
        def __del__(self):
            pass

    return _File(path, "r", mmap=True)


def open_netcdf(path):
    """`{name: NetCDFVariable}` of a netCDF file (format detected from its magic bytes).

    Each variable's `coords` holds the values of its dimensions that the file
    has a 1-D variable of (`"time"` decoded to `datetime64[s]` when its CF
    units parse, `"lat"`, `"lon"`, `"y"`, `"x"`).
    """
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"netCDF file not found: {path}")
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic.startswith(b"\x89HDF"):
        import h5py

        handle = h5py.File(path, "r")
        variables = {}
        for name, ds in handle.items():
            if not isinstance(ds, h5py.Dataset):
                continue
            attrs = {
                k: _attr(v)
                for k, v in ds.attrs.items()
                if k
                not in (
                    "DIMENSION_LIST",
                    "REFERENCE_LIST",
                    "CLASS",
                    "NAME",
                    "_Netcdf4Dimid",
                )
            }
            if str(_attr(ds.attrs.get("NAME", ""))).startswith(
                "This is a netCDF dimension"
            ):
                continue  # a bare dimension, not a variable
            dims = []
            for i, proxy in enumerate(ds.dims):
                labels = [
                    pathlib.PurePosixPath(scale.name).name for scale in proxy.values()
                ]
                dims.append(labels[0] if labels else f"dim_{i}")
            variables[name] = NetCDFVariable(ds, attrs, dims, handle)
    elif magic.startswith(b"CDF"):
        handle = _open_netcdf3(path)
        variables = {
            name: NetCDFVariable(
                var.data,
                {k: _attr(v) for k, v in var._attributes.items()},
                var.dimensions,
                handle,
            )
            for name, var in handle.variables.items()
        }
    else:
        raise ValueError(
            f"{path} is not a netCDF file (neither netCDF-3 'CDF' nor netCDF-4/HDF5 "
            "magic bytes)."
        )
    _attach_coords(variables)
    return variables


def _attach_coords(variables):
    """Fills the `coords` of every variable of `{name: variable}` (values read once per dim)."""
    found = {}
    for var in variables.values():
        coords = {}
        for dim in var.dims:
            if dim not in found:
                found[dim] = dimension_coords([dim], variables)
            for key, values in found[dim].items():
                coords.setdefault(key, values)
        var.coords = coords


def read_variable(path, variable):
    """The lazy variable `variable` of a netCDF file; a missing one lists those present."""
    variables = open_netcdf(path)
    if variable is None or variable not in variables:
        data_vars = [n for n, v in variables.items() if len(v.shape) >= 3] or list(
            variables
        )
        raise ValueError(
            f"Variable {variable!r} is not in {path}. Variables present: {sorted(variables)} "
            f"(data variables: {sorted(data_vars)}). Pass one of them as `variable=`."
        )
    return variables[variable]
