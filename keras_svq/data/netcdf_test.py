"""The lazy netCDF reader: CF packing, fill values, coordinates, netCDF-4 and netCDF-3."""

import h5py
import numpy as np
import pytest

from keras_svq.data.netcdf import decode_time
from keras_svq.data.netcdf import decode_values
from keras_svq.data.netcdf import open_netcdf
from keras_svq.data.netcdf import read_variable


def test_packing_fill_and_row_reads(tmp_path):
    path = tmp_path / "packed.nc"
    raw = np.arange(60, dtype="int16").reshape(15, 2, 2)
    raw[3, 0, 0] = -32767
    with h5py.File(path, "w") as f:
        ds = f.create_dataset("t2m", data=raw)
        ds.attrs["scale_factor"] = np.float32(0.5)
        ds.attrs["add_offset"] = np.float32(250.0)
        ds.attrs["_FillValue"] = np.int16(-32767)
    var = open_netcdf(path)["t2m"]
    assert var.shape == (15, 2, 2) and var.dtype == np.float32
    rows = np.array([14, 3, 0, 13])
    values = var[rows]
    assert np.isnan(values[1, 0, 0])
    np.testing.assert_allclose(values[0], raw[14] * 0.5 + 250.0)
    np.testing.assert_allclose(values[2:], raw[[0, 13]] * 0.5 + 250.0)
    assert var.coords == {}  # no dimension scales, no coordinates


def test_large_integer_fill_value_masks_only_itself():
    # In float32, -2147483600 and the fill -2147483647 are the same number.
    data = np.array([-2147483647, -2147483600, 7], "int32")
    values = decode_values(data, {"_FillValue": -2147483647}, np.dtype("float32"))
    assert np.isnan(values[0]) and not np.isnan(values[1:]).any()
    values = decode_values(data, {"missing_value": [7, 8]}, np.dtype("float32"))
    assert np.isnan(values[2]) and not np.isnan(values[:2]).any()


def _write_netcdf3(path, hours, lat, lon, field):
    from scipy.io import netcdf_file

    with netcdf_file(path, "w") as f:
        for name, values in (("time", hours), ("lat", lat), ("lon", lon)):
            f.createDimension(name, len(values))
        time = f.createVariable("time", "i4", ("time",))
        time[:] = hours
        time.units = b"hours since 1979-01-01 00:00:00"
        for name, values in (("lat", lat), ("lon", lon)):
            f.createVariable(name, "f4", (name,))[:] = values
        f.createVariable("t2m", "f4", ("time", "lat", "lon"))[:] = field


def _write_netcdf4(path, days, lat, lon, field):
    # What netCDF-4 stores: coordinate variables as HDF5 dimension scales
    # attached to the data variable's axes.
    with h5py.File(path, "w") as f:
        scales = []
        for name, values in (
            ("valid_time", days),
            ("latitude", lat),
            ("longitude", lon),
        ):
            scale = f.create_dataset(name, data=values)
            scale.make_scale(name)
            scales.append(scale)
        scales[0].attrs["units"] = "days since 2000-01-01T00:00:00Z"
        t2m = f.create_dataset("t2m", data=field)
        for axis, scale in enumerate(scales):
            t2m.dims[axis].attach_scale(scale)


def test_coords_netcdf3(tmp_path):
    pytest.importorskip("scipy")
    path = tmp_path / "era5.nc"
    field = np.arange(24, dtype="float32").reshape(4, 2, 3)
    _write_netcdf3(path, [0, 6, 12, 18], [52.0, 51.0], [-1.0, 0.0, 1.0], field)
    variables = open_netcdf(path)
    var = variables["t2m"]
    assert var.ndim == 3 and var.dims == ("time", "lat", "lon")
    assert set(var.coords) == {"time", "lat", "lon"}
    assert var.coords["time"].dtype == np.dtype("datetime64[s]")
    assert str(var.coords["time"][1]) == "1979-01-01T06:00:00"
    np.testing.assert_array_equal(var.coords["lat"], [52.0, 51.0])  # north first
    np.testing.assert_array_equal(var.coords["lon"], [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(var[np.array([3, 0])], field[[3, 0]])
    assert set(variables["lat"].coords) == {"lat"}


def test_coords_netcdf4_long_names(tmp_path):
    path = tmp_path / "era5.nc"
    field = np.zeros((3, 2, 2), "float32")
    _write_netcdf4(path, np.array([0.0, 0.5, 1.0]), [10.0, 20.0], [0.0, 5.0], field)
    var = read_variable(path, "t2m")
    assert var.dims == ("valid_time", "latitude", "longitude")
    np.testing.assert_array_equal(
        var.coords["time"],
        np.array(["2000-01-01T00", "2000-01-01T12", "2000-01-02T00"], "datetime64[s]"),
    )
    np.testing.assert_array_equal(var.coords["lat"], [10.0, 20.0])
    np.testing.assert_array_equal(var.coords["lon"], [0.0, 5.0])


def test_coords_from_xarray_written_file(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("netCDF4")
    path = tmp_path / "xr.nc"
    times = np.array(["2020-03-01T00", "2020-03-01T03"], "datetime64[ns]")
    xr.Dataset(
        {"u": (("time", "y", "x"), np.ones((2, 2, 3), "float32"))},
        coords={"time": times, "y": [0.0, 1.0], "x": [0.0, 1.0, 2.0]},
    ).to_netcdf(path, engine="netcdf4")
    var = read_variable(path, "u")
    np.testing.assert_array_equal(var.coords["time"], times.astype("datetime64[s]"))
    np.testing.assert_array_equal(var.coords["x"], [0.0, 1.0, 2.0])
    assert set(var.coords) == {"time", "y", "x"}


@pytest.mark.parametrize(
    "units, expected",
    [
        ("hours since 1979-01-01", ["1979-01-01T00", "1979-01-01T06"]),
        ("days since 1900-1-1 00:00:0.0", ["1900-01-01T00", "1900-01-07T00"]),
        (
            "seconds since 1970-01-01T00:00:00Z",
            ["1970-01-01T00", "1970-01-01T00:00:06"],
        ),
        (
            "minutes since 2000-01-01 12:00 +01:00",
            ["2000-01-01T11", "2000-01-01T11:06"],
        ),
    ],
)
def test_decode_time_units(units, expected):
    decoded = decode_time(np.array([0, 6]), {"units": units})
    np.testing.assert_array_equal(decoded, np.array(expected, "datetime64[s]"))


def test_decode_time_keeps_numbers_it_cannot_convert():
    values = np.array([0.0, 1.0])
    for attrs in (
        {},
        {"units": "K"},
        {"units": "fortnights since 2000-01-01"},
        {"units": "days since 2000-01-01", "calendar": "360_day"},
        {"units": "days since 1500-01-01", "calendar": "standard"},
    ):
        assert decode_time(values, attrs) is values
    decoded = decode_time(np.array([np.nan, 1.0]), {"units": "days since 2000-01-01"})
    assert np.isnat(decoded[0]) and str(decoded[1]) == "2000-01-02T00:00:00"
