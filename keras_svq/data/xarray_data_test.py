"""`from_xarray`: lazy frames from Datasets/DataArrays, checked against a recording `from_array`."""

import sys
import warnings

import numpy as np
import pytest

from keras_svq.data.xarray_data import XarrayFrames
from keras_svq.data.xarray_data import from_xarray

xr = pytest.importorskip("xarray")

TIMES = np.arange("2001-01-01T00", "2001-01-02T00", 6, dtype="datetime64[h]")


@pytest.fixture
def calls(monkeypatch):
    """The arguments of every `from_array` call (which returns "splits")."""
    recorded = []

    def fake_from_array(array, **kwargs):
        recorded.append({"array": array, **kwargs})
        return "splits"

    monkeypatch.setattr("keras_svq.data.own_data.from_array", fake_from_array)
    return recorded


def _field(*shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


def _dataset():
    t2m = _field(4, 3, 5)
    u10 = _field(4, 5, 3, seed=1)  # stored (time, lon, lat)
    return xr.Dataset(
        {
            "t2m": (("time", "lat", "lon"), t2m, {"units": "K"}),
            "u10": (("time", "lon", "lat"), u10, {"units": "m s-1"}),
            "orography": (("lat", "lon"), _field(3, 5)),  # no time: not a channel
        },
        coords={
            "time": TIMES.astype("datetime64[ns]"),
            "lat": [50.0, 51.0, 52.0],
            "lon": np.arange(5.0),
        },
    )


def test_dataset_variables_become_channels(calls):
    ds = _dataset()
    assert from_xarray(ds, input_length=2, output_length=1, batch_size=2) == "splits"
    (call,) = calls
    frames = call["array"]
    assert isinstance(frames, XarrayFrames)
    assert frames.shape == (4, 3, 5, 2) and frames.ndim == 4 and len(frames) == 4
    assert frames.dtype == np.float32
    expected = np.stack([ds.t2m.values, ds.u10.values.transpose(0, 2, 1)], axis=-1)
    np.testing.assert_array_equal(frames[np.array([3, 0, 1])], expected[[3, 0, 1]])
    np.testing.assert_array_equal(frames[1:3], expected[1:3])
    np.testing.assert_array_equal(frames[2], expected[2])
    np.testing.assert_array_equal(frames[1:3, ..., 1], expected[1:3, ..., 1])
    np.testing.assert_array_equal(np.asarray(frames), expected)
    assert call["variables"] == ["t2m", "u10"]
    assert call["units"] == ["K", "m s-1"]
    assert call["name"] == "t2m_u10"
    assert (call["input_length"], call["output_length"], call["batch_size"]) == (
        2,
        1,
        2,
    )
    assert call["coords"] is frames.coords and set(frames.coords) == {
        "time",
        "lat",
        "lon",
    }
    np.testing.assert_array_equal(frames.coords["time"], TIMES.astype("datetime64[s]"))
    assert frames.coords["time"].dtype == np.dtype("datetime64[s]")
    np.testing.assert_array_equal(frames.coords["lat"], [50.0, 51.0, 52.0])

    from_xarray(ds, variables=["u10"], name="wind", units=["kn"], input_length=2)
    assert calls[1]["array"].shape == (4, 3, 5, 1)
    assert (calls[1]["name"], calls[1]["units"]) == ("wind", ["kn"])


def test_data_array_with_channel_dim(calls):
    data = _field(4, 3, 2, 2)
    da = xr.DataArray(
        data,
        dims=("time", "level", "y", "x"),
        coords={"level": [850.0, 500.0, 250.0], "y": [0.0, 1.0], "x": [10.0, 20.0]},
        name="t",
        attrs={"units": "K"},
    )
    from_xarray(da, channel_dim="level", input_length=1)
    frames = calls[0]["array"]
    assert frames.shape == (4, 2, 2, 3)
    np.testing.assert_array_equal(
        frames[np.array([2])], data[[2]].transpose(0, 2, 3, 1)
    )
    assert calls[0]["variables"] == ["t_850", "t_500", "t_250"]
    assert calls[0]["units"] == ["K"] * 3
    assert set(frames.coords) == {"y", "x"}  # no time coordinate
    np.testing.assert_array_equal(frames.coords["x"], [10.0, 20.0])


def test_sequence_dim_gives_many_sequences(calls):
    data = _field(3, 4, 2, 5)  # (event, time, lat, lon)
    da = xr.DataArray(
        data,
        dims=("event", "time", "latitude", "longitude"),
        coords={"time": np.arange(4) * 6.0, "longitude": np.arange(5.0)},
    )
    from_xarray(da, sequence_dim="event", input_length=2)
    frames = calls[0]["array"]
    assert frames.shape == (3, 4, 2, 5, 1) and len(frames) == 3
    np.testing.assert_array_equal(frames[np.array([2, 0])], data[[2, 0], ..., None])
    assert calls[0]["variables"] == ["channel_0"] and calls[0]["name"] == "xarray"
    np.testing.assert_array_equal(frames.coords["time"], [0.0, 6.0, 12.0, 18.0])
    assert set(frames.coords) == {"time", "lon"}


def test_descending_latitude_keeps_north_first(calls):
    ds = _dataset().sortby("lat", ascending=False)
    from_xarray(ds, variables=["t2m", "u10"])
    frames = calls[0]["array"]
    np.testing.assert_array_equal(frames.coords["lat"], [52.0, 51.0, 50.0])
    np.testing.assert_array_equal(frames[:][:, 0, :, 0], ds.t2m.sel(lat=52.0).values)
    np.testing.assert_array_equal(
        frames[np.array([1])][0, :, 2, 1], ds.u10.isel(time=1).sel(lon=2.0).values
    )


def test_errors_name_the_problem(calls, monkeypatch):
    da = xr.DataArray(_field(2, 3, 2, 2), dims=("time", "level", "lat", "lon"))
    with pytest.raises(
        ValueError, match=r"\['level'\].*isel\(level=0\).*channel_dim='level'"
    ):
        from_xarray(da)
    with pytest.raises(ValueError, match="Received: time_dim='valid_time'"):
        from_xarray(da, time_dim="valid_time", channel_dim="level")
    with pytest.raises(ValueError, match="needs two grid dimensions"):
        from_xarray(xr.DataArray(_field(2, 3), dims=("time", "lat")))
    with pytest.raises(
        ValueError, match=r"Data variables present: \['t2m', 'u10', 'orography'\]"
    ):
        from_xarray(_dataset(), variables=["t2m", "tp"])
    with pytest.raises(
        ValueError, match="`variables` picks data variables of a Dataset"
    ):
        from_xarray(da, variables=["t"])
    with pytest.raises(TypeError, match="Received: type\\(obj\\)=ndarray"):
        from_xarray(np.zeros((2, 2, 2)))
    assert not calls
    monkeypatch.setitem(sys.modules, "xarray", None)
    with pytest.raises(ImportError, match=r'pip install "keras-svq\[xarray\]"'):
        from_xarray(da)


def _packed_dataset():
    ds = _dataset()[["t2m", "u10"]]
    ds["t2m"][1, 0, 0] = np.nan
    encoding = {
        "t2m": {
            "dtype": "int16",
            "scale_factor": 0.001,
            "add_offset": 0.0,
            "_FillValue": -32767,
        }
    }
    return ds, encoding


def _check_lazy(opened, calls):
    assert not opened.t2m.variable._in_memory
    from_xarray(opened, input_length=2)
    frames = calls[-1]["array"]
    assert not opened.t2m.variable._in_memory  # building the frames read nothing
    values = frames[np.array([3, 1])]
    assert not opened.t2m.variable._in_memory  # nor did reading two frames load all
    expected = np.stack(
        [opened.t2m.values, opened.u10.values.transpose(0, 2, 1)], axis=-1
    )
    assert np.isnan(values[1, 0, 0, 0])
    np.testing.assert_allclose(values, expected[[3, 1]], rtol=1e-6)
    np.testing.assert_array_equal(frames.coords["time"], TIMES.astype("datetime64[s]"))
    assert calls[-1]["units"] == ["K", "m s-1"]


def test_reads_a_netcdf_file_lazily(calls, tmp_path):
    pytest.importorskip("netCDF4")
    ds, encoding = _packed_dataset()
    path = tmp_path / "era5.nc"
    ds.to_netcdf(path, engine="netcdf4", encoding=encoding)
    with xr.open_dataset(path, engine="netcdf4") as opened:
        _check_lazy(opened, calls)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_reads_a_zarr_store_lazily(calls, tmp_path, zarr_format):
    pytest.importorskip("zarr")
    ds, encoding = _packed_dataset()
    path = tmp_path / "era5.zarr"
    with warnings.catch_warnings():
        # xarray consolidates v3 metadata too, which zarr warns is not yet standard.
        warnings.filterwarnings("ignore", message="Consolidated metadata")
        ds.to_zarr(path, zarr_format=zarr_format, encoding=encoding)
    with xr.open_dataset(path, engine="zarr", chunks=None) as opened:
        _check_lazy(opened, calls)


def test_real_era5_through_from_array_with_coordinate_crop(tmp_path):
    """The shipped ERA5 sample as a zarr store, end to end with the real `from_array`."""
    from keras_svq.metrics import evaluate_forecast
    from keras_svq.metrics import persistence_forecast
    from keras_svq.testing.reference import shared_data_path

    pytest.importorskip("zarr")
    with np.load(shared_data_path("era5_t2m_uk_2019-03_hourly.npz")) as data:
        t2m, lat, lon = data["t2m"][:120], data["lat"], data["lon"]
        time = data["time"][:120].astype("datetime64[s]")
    ds = xr.Dataset(
        {"t2m": (("time", "latitude", "longitude"), t2m, {"units": "K"})},
        coords={"time": time, "latitude": lat, "longitude": lon},
    )
    ds.to_zarr(tmp_path / "era5.zarr")
    opened = xr.open_zarr(tmp_path / "era5.zarr")
    splits = from_xarray(
        opened,
        input_length=3,
        output_length=3,
        batch_size=8,
        crop={"lat": [56, 52], "lon": [-6, 0]},
    )
    rows = (lat <= 56) & (lat >= 52)
    cols = (lon >= -6) & (lon <= 0)
    assert splits.frame_shape == (rows.sum(), cols.sum(), 1)
    np.testing.assert_allclose(splits.coords["lat"], lat[rows])
    assert splits.info.units == ("K",) and splits.info.variables == ("t2m",)
    train = t2m[:84][:, rows][:, :, cols]
    np.testing.assert_allclose(splits.mean, train.mean(), rtol=1e-6)
    scores = evaluate_forecast(
        lambda x: persistence_forecast(x, 3), splits, latitudes=splits.coords["lat"]
    )
    assert scores["rmse_lat_weighted"] != scores["rmse"]
    assert len(scores["per_lead_time"]["rmse_lat_weighted"]) == 3
