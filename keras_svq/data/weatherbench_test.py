"""WeatherBench loaders on tiny files written in its netCDF layout by the test."""

import h5py
import numpy as np
import pytest

from keras_svq.data import load_dataset
from keras_svq.data.weatherbench import expected_file

LEVELS = np.array([50, 150, 250, 500, 850, 1000], "int32")
H, W = 4, 8


def _write_netcdf4(path, name, data, levels=None):
    """A netCDF-4 (HDF5) file as xarray writes it: coordinates as dimension scales."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        coords = [("time", np.arange(data.shape[0], dtype="int64"))]
        if levels is not None:
            coords.append(("level", levels))
        coords += [
            ("lat", np.linspace(-87.1875, 87.1875, H)),
            ("lon", np.linspace(0, 354.375, W)),
        ]
        for coord, values in coords:
            f[coord] = values
            f[coord].make_scale(coord)
        ds = f.create_dataset(name, data=data, compression="gzip")
        for axis, (coord, _) in enumerate(coords):
            ds.dims[axis].attach_scale(f[coord])
        ds.attrs["units"] = "K"


def _write_netcdf3(path, name, data, levels):
    from scipy.io import netcdf_file

    path.parent.mkdir(parents=True, exist_ok=True)
    with netcdf_file(path, "w") as f:
        for dim, size in (
            ("time", data.shape[0]),
            ("level", len(levels)),
            ("lat", H),
            ("lon", W),
        ):
            f.createDimension(dim, size)
        f.createVariable("level", "i4", ("level",))[:] = levels
        f.createVariable(name, "f4", ("time", "level", "lat", "lon"))[:] = data


YEARS = {"train": ("2010", "2011"), "val": ("2012", "2012"), "test": ("2013", "2013")}
HOURS = {2010: 40, 2011: 36, 2012: 30, 2013: 31}


def _single_level(root, variable, offset=0.0):
    series = {}
    for year, hours in HOURS.items():
        rng = np.random.default_rng(year)
        data = (rng.standard_normal((hours, H, W)) + 280 + offset).astype("float32")
        _write_netcdf4(expected_file(root, variable, year), variable, data)
        series[year] = data
    return series


def test_weather_t2m_reference_indexing_and_train_statistics(tmp_path):
    root = tmp_path / "weather_5_625deg"
    series = _single_level(root, "t2m")
    splits = load_dataset(
        "weather_t2m",
        data_dir=tmp_path,
        batch_size=4,
        seed=0,
        years=YEARS,
        input_length=3,
        output_length=2,
    )
    train = np.concatenate([series[2010], series[2011]])[
        :-1
    ]  # the reference drops the last hour
    np.testing.assert_allclose(splits.mean, [train.mean()], rtol=1e-6)
    np.testing.assert_allclose(splits.std, [train.std()], rtol=1e-5)
    # anchors range(2, N - 2 - 1): N - 5 examples
    assert splits.num_examples == {
        "train": len(train) - 5,
        "val": 29 - 5,
        "test": 30 - 5,
    }
    x, y = splits.arrays("val")
    val = (series[2012][:-1, ..., None] - splits.mean) / splits.std
    np.testing.assert_allclose(x[0], val[0:3], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        y[-1], val[-3:-1], rtol=1e-5, atol=1e-5
    )  # last frame never used
    bx, by = next(iter(splits[0]))
    assert bx.shape == (4, 3, H, W, 1) and by.shape == (4, 2, H, W, 1)
    assert splits.info.spatial_norm and splits.info.metrics == ("mse", "rmse", "mae")


def test_weather_uv10_two_channels(tmp_path):
    u = _single_level(tmp_path, "u10")
    v = _single_level(tmp_path, "v10", offset=10.0)
    splits = load_dataset("weather_uv10", data_dir=tmp_path, batch_size=4, years=YEARS)
    assert (
        splits.frame_shape == (H, W, 2)
        and splits.input_length == 12
        and splits.output_length == 12
    )
    x, _ = splits.arrays("test")
    np.testing.assert_allclose(
        splits.normalizer.denormalize(x[0, 0]),
        np.stack([u[2013][0], v[2013][0]], -1),
        rtol=1e-5,
    )


def test_weather_mv_levels_and_six_hourly_indexing(tmp_path):
    rng = np.random.default_rng(0)
    hours = {2010: 200, 2011: 200, 2012: 240, 2013: 240}
    data = {}
    for name in ("r", "t", "u", "v"):
        for year, n in hours.items():
            values = rng.standard_normal((n, len(LEVELS), H, W)).astype("float32")
            _write_netcdf3(expected_file(tmp_path, name, year), name, values, LEVELS)
            data[name, year] = values
    splits = load_dataset("weather_mv", data_dir=tmp_path, batch_size=2, years=YEARS)
    assert (
        splits.frame_shape == (H, W, 12)
        and splits.input_length == 4
        and splits.output_length == 4
    )
    frames = np.concatenate(
        [
            np.concatenate([data[n, y][:, [1, 3, 4]] for n in ("r", "t", "u", "v")], 1)
            for y in (2012,)
        ]
    )[:-1:6]  # 150, 500, 850 hPa; every 6 h; last hour dropped
    frames = np.moveaxis(frames, 1, -1)
    n = len(frames)
    assert splits.num_examples["val"] == n - 19 - 1 - 17
    x, y = splits.arrays("val")
    z = (frames - splits.mean) / splits.std
    np.testing.assert_allclose(x[0], z[[0, 6, 12, 17]], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(y[0], z[[18, 24, 30, 36]], rtol=1e-4, atol=1e-5)


def test_weather_hmv_110_channels_in_the_reference_order(tmp_path):
    from keras_svq.data.dataset_info import HMV_LEVELS

    levels = np.array(HMV_LEVELS, "int32")
    hours = {2010: 120, 2011: 120, 2012: 240, 2013: 240}
    multi = ("z", "pv", "r", "q", "t", "u", "v", "vo")
    single = ("u10", "v10", "t2m", "tisr", "tcc", "tp")
    data = {}
    for index, name in enumerate(multi + single):
        for year, n in hours.items():
            shape = (n, len(levels), H, W) if name in multi else (n, H, W)
            # Channel c of the reference's layout holds values around 10 * c.
            values = np.random.default_rng(year).standard_normal(shape)
            if name in multi:
                values += 10 * (13 * index + np.arange(13))[:, None, None]
            else:
                values += 10 * (104 + index - len(multi))
            path = expected_file(tmp_path, name, year)
            levels_of = levels if name in multi else None
            _write_netcdf4(path, name, values.astype("float32"), levels_of)
            data[name, year] = values
    years = {
        "train": ("2010", "2011"),
        "val": ("2012", "2012"),
        "test": ("2013", "2013"),
    }
    splits = load_dataset("weather_hmv", data_dir=tmp_path, batch_size=2, years=years)
    assert splits.frame_shape == (H, W, 110)
    assert (splits.input_length, splits.output_length) == (4, 4)
    assert splits.info.variables[0] == "z50" and splits.info.variables[-1] == "tp"
    np.testing.assert_allclose(splits.mean, 10 * np.arange(110), atol=0.5)
    x, _ = splits.arrays("val")
    physical = np.asarray(splits.normalizer.denormalize(x[0, -1]))
    anchor = 17 * 6  # the first example's last input frame, 6-hourly
    np.testing.assert_allclose(
        physical[..., 13 * 4 + 7], data["t", 2012][anchor, 7], rtol=1e-4, atol=1e-3
    )  # t at 500 hPa
    np.testing.assert_allclose(
        physical[..., 106], data["t2m", 2012][anchor], rtol=1e-4, atol=1e-3
    )


def test_missing_files_and_variables(tmp_path):
    with pytest.raises(
        FileNotFoundError, match="2m_temperature/2m_temperature_2010_5.625deg.nc"
    ):
        load_dataset("weather_t2m", data_dir=tmp_path, batch_size=2, years=YEARS)
    for year in HOURS:
        _write_netcdf4(
            expected_file(tmp_path, "t2m", year),
            "temperature_2m",
            np.zeros((30, H, W), "float32"),
        )
    with pytest.raises(
        ValueError,
        match=r"'t2m' is not in .*Variables present: \['lat', 'lon', 'temperature_2m', 'time'\]",
    ):
        load_dataset("weather_t2m", data_dir=tmp_path, batch_size=2, years=YEARS)


def test_nan_in_training_files_is_reported(tmp_path):
    for year, hours in HOURS.items():
        data = np.full((hours, H, W), 280.0, "float32")
        if year == 2011:
            data[5, 1, 2] = np.nan
        _write_netcdf4(expected_file(tmp_path, "t2m", year), "t2m", data)
    with pytest.raises(
        ValueError, match="1 NaN/Inf values.*first at frame 45, row 1, col 2"
    ):
        load_dataset("weather_t2m", data_dir=tmp_path, batch_size=2, years=YEARS)
