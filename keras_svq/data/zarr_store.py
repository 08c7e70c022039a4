"""Zarr stores read lazily, like netCDF files: `read_zarr(path, variable)`.

Reads zarr v2 and v3 stores (directories `*.zarr`) as written by
`xarray.Dataset.to_zarr` or by `zarr` itself. Only the rows asked for are
read; CF packing and fill values are decoded as in `keras_svq.data.netcdf`,
and the dimension names xarray records (`_ARRAY_DIMENSIONS` in v2,
`dimension_names` in v3) give the array its `coords`. Needs `zarr`
(`pip install "keras-svq[xarray]"`), imported only when a store is opened.
"""

import base64
import pathlib
import struct

import numpy as np

from keras_svq.data.netcdf import NetCDFVariable
from keras_svq.data.netcdf import dimension_coords

_INSTALL = 'pip install "keras-svq[xarray]"'


class ZarrVariable(NetCDFVariable):
    """A lazily-read zarr array: `shape`, `dtype`, `ndim`, `dims`, `attrs`, `coords`.

    Indexing (`var[rows]`) takes what a zarr array takes along the first
    axis, or a 1-D integer array of rows in any order (read as a few
    contiguous slices), and returns decoded values: `_FillValue` and
    `missing_value` are NaN, CF packing (`scale_factor`, `add_offset`) is
    undone, `dtype` is the decoded dtype.

    Args:
        array: a `zarr.Array`.
        attrs: dict. Its CF attributes (with the fill value xarray would use).
        dims: sequence of str. Its dimension names.
        coords: dict or None. `"time"`, `"lat"`, `"lon"`, `"y"`, `"x"` -> 1-D
            numpy array, for the dimensions the store has values of.
            Defaults to none.

    Example:

    ```python
    var = read_zarr("era5.zarr", "t2m")   # metadata only
    frames = var[np.arange(12, 24)]       # (12, H, W) float32
    var.coords["lat"][:2]
    ```
    """

    def __init__(self, array, attrs, dims, coords=None):
        super().__init__(array, attrs, dims, coords=coords)

    def __repr__(self):
        return f"ZarrVariable(dims={self.dims}, shape={self.shape}, dtype={self.dtype})"


def _import_zarr():
    try:
        import zarr
    except ImportError as error:
        raise ImportError(f"Reading zarr stores needs zarr: {_INSTALL}") from error
    return zarr


def _variable(array):
    """A `ZarrVariable` with the attributes and dims xarray would read."""
    attrs = dict(array.attrs)
    xarray_dims = attrs.pop("_ARRAY_DIMENSIONS", None)
    metadata = getattr(array, "metadata", None)
    zarr_format = getattr(metadata, "zarr_format", 2)
    dims = xarray_dims or getattr(metadata, "dimension_names", None)
    dims = list(dims) if dims else [f"dim_{i}" for i in range(len(array.shape))]
    dtype = np.dtype(array.dtype)
    if zarr_format == 2:
        # xarray writes v2 fill values into the array's `fill_value` and reads
        # them back as `_FillValue`. Plain zarr arrays default to 0 there,
        # which is a value, not a gap: only xarray's stores are decoded so.
        if xarray_dims and array.fill_value is not None:
            attrs.setdefault("_FillValue", array.fill_value)
    elif isinstance(attrs.get("_FillValue"), str) and dtype.kind == "f":
        # xarray stores float fill values of v3 stores as base64 doubles.
        raw = base64.standard_b64decode(attrs["_FillValue"])
        attrs["_FillValue"] = struct.unpack("<d", raw)[0]
    return ZarrVariable(array, attrs, dims)


def _data_variables(variables):
    frames = [name for name, var in variables.items() if var.ndim >= 3]
    return frames or [name for name, var in variables.items() if var.dims != (name,)]


def read_zarr(path, variable=None):
    """The lazy variable `variable` of a zarr store (v2 or v3).

    Nothing but metadata and the 1-D coordinate arrays is read: frames are
    read when indexed.

    Args:
        path: str or path. A zarr store directory (`*.zarr`), holding a group
            of arrays (as `xarray.Dataset.to_zarr` writes) or a single array.
        variable: str or None. The array to read. Optional when the store
            holds one data variable (or is a single array).

    Returns:
        `ZarrVariable` with `shape`, `dtype` (decoded), `ndim`, `coords`, and
        indexing along the first axis.

    Raises:
        FileNotFoundError: the store does not exist.
        ValueError: the path is not a zarr store, or `variable` is missing
            (the message lists the data variables present).
        ImportError: zarr is not installed.

    Example:

    ```python
    ds.to_zarr("era5.zarr")                       # with xarray
    t2m = read_zarr("era5.zarr", "t2m")
    t2m.shape, t2m.coords["time"][:2]
    ```
    """
    zarr = _import_zarr()
    path = pathlib.Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"Zarr store not found: {path}. Expected a directory written by "
            "xarray.Dataset.to_zarr or zarr."
        )
    try:
        root = zarr.open(str(path), mode="r")
    except (FileNotFoundError, KeyError, ValueError) as error:
        raise ValueError(f"{path} is not a zarr store: {error}") from error
    if not hasattr(root, "arrays"):  # the store is one array
        return _variable(root)
    variables = {name: _variable(array) for name, array in root.arrays()}
    data_vars = _data_variables(variables)
    if variable is None and len(data_vars) == 1:
        variable = data_vars[0]
    if variable not in variables:
        raise ValueError(
            f"Variable {variable!r} is not in {path}. Data variables present: "
            f"{sorted(data_vars)} (all arrays: {sorted(variables)}). Pass one of "
            f"them as `variable=`. Received: variable={variable!r}"
        )
    var = variables[variable]
    var.coords = dimension_coords(var.dims, variables)
    return var
