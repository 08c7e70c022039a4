"""A small lazy netCDF reader (netCDF-4/HDF5 through h5py, netCDF-3 through scipy).

Only what the loaders need: list the variables of a file and slice one lazily
along its first axis, with CF packing (`scale_factor`, `add_offset`) and
`_FillValue`/`missing_value` (turned into NaN) applied. Nothing is read until
a slice is asked for (netCDF-4 through h5py, netCDF-3 memory-mapped), so files
larger than memory stream from disk. xarray is not required.
"""

import pathlib

import numpy as np


class NetCDFVariable:
    """A lazily-read netCDF variable: `shape`, `dtype`, `dims`, `attrs`, `var[index]`."""

    def __init__(self, raw, attrs, dims, handle=None):
        self._raw = raw
        self._handle = handle  # keeps the file open as long as the variable lives
        self.attrs = attrs
        self.dims = tuple(dims)
        self.shape = tuple(int(s) for s in raw.shape)
        packed = "scale_factor" in attrs or "add_offset" in attrs
        native = np.dtype(raw.dtype).newbyteorder("=")  # netCDF-3 is big-endian on disk
        self.dtype = np.dtype("float32") if packed else native
        if (
            any(k in attrs for k in ("_FillValue", "missing_value"))
            and self.dtype.kind != "f"
        ):
            self.dtype = np.dtype("float32")

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        if isinstance(index, np.ndarray) and index.ndim == 1 and len(index):
            data = self._read_rows(index)
        else:
            data = np.asarray(self._raw[index])
        return self._decode(data)

    def _read_rows(self, rows, max_gap=32):
        """Rows along axis 0 (any order), read as a few contiguous slices.

        h5py wants increasing indices and is fastest on slices: sorted rows are
        grouped into runs whose gaps are at most `max_gap`, each run is one read.
        """
        order = np.argsort(rows, kind="stable")
        ordered = rows[order]
        breaks = np.flatnonzero(np.diff(ordered) > max_gap) + 1
        parts = []
        for run in np.split(ordered, breaks):
            lo, hi = int(run[0]), int(run[-1]) + 1
            parts.append(np.asarray(self._raw[lo:hi])[run - lo])
        data = np.concatenate(parts)
        result = np.empty_like(data)
        result[order] = data
        return result

    def _decode(self, data):
        attrs = self.attrs
        fill = [attrs[k] for k in ("_FillValue", "missing_value") if k in attrs]
        if fill or self.dtype != data.dtype:
            data = data.astype(self.dtype)
        for value in fill:
            data = np.where(
                data == np.asarray(value).astype(data.dtype).item(), np.nan, data
            )
        if "scale_factor" in attrs:
            data = data * np.float32(attrs["scale_factor"])
        if "add_offset" in attrs:
            data = data + np.float32(attrs["add_offset"])
        return data


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
    """`{name: NetCDFVariable}` of a netCDF file (format detected from its magic bytes)."""
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
        return variables
    if magic.startswith(b"CDF"):
        handle = _open_netcdf3(path)
        return {
            name: NetCDFVariable(
                var.data,
                {k: _attr(v) for k, v in var._attributes.items()},
                var.dimensions,
                handle,
            )
            for name, var in handle.variables.items()
        }
    raise ValueError(
        f"{path} is not a netCDF file (neither netCDF-3 'CDF' nor netCDF-4/HDF5 magic bytes)."
    )


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
