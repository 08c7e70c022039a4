"""Zarr stores read lazily: v2 and v3, from xarray and from zarr, CF decoding, coords."""

import sys
import warnings

import numpy as np
import pytest

from keras_svq.data.zarr_store import read_zarr

zarr = pytest.importorskip("zarr")

TIMES = np.array(
    ["2000-01-01T00", "2000-01-01T06", "2000-01-01T12", "2000-01-01T18", "2000-01-02"],
    "datetime64[ns]",
)


def _xarray_store(path, zarr_format):
    xr = pytest.importorskip("xarray")
    rng = np.random.default_rng(0)
    field = (270 + 10 * rng.random((5, 3, 4))).astype("float32")
    field[1, 0, 0] = np.nan
    ds = xr.Dataset(
        {
            "t2m": (("time", "lat", "lon"), field, {"units": "K"}),
            "sp": (("time", "lat", "lon"), field * 100),
        },
        coords={"time": TIMES, "lat": [50.0, 49.0, 48.0], "lon": np.arange(4.0)},
    )
    encoding = {
        "t2m": {
            "dtype": "int16",
            "scale_factor": 0.01,
            "add_offset": 270.0,
            "_FillValue": -32767,
        }
    }
    with warnings.catch_warnings():
        # xarray consolidates v3 metadata too, which zarr warns is not yet standard.
        warnings.filterwarnings("ignore", message="Consolidated metadata")
        ds.to_zarr(path, mode="w", zarr_format=zarr_format, encoding=encoding)
    return xr.open_zarr(path)


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_xarray_store_decodes_like_xarray(tmp_path, zarr_format):
    path = tmp_path / "era5.zarr"
    reference = _xarray_store(path, zarr_format)["t2m"].values
    var = read_zarr(path, "t2m")
    assert var.shape == (5, 3, 4) and var.ndim == 3 and var.dtype == np.float32
    assert var.dims == ("time", "lat", "lon")
    rows = np.array([4, 1, 0])
    values = var[rows]
    assert np.isnan(values[1, 0, 0])
    np.testing.assert_allclose(values, reference[rows], rtol=1e-6)
    np.testing.assert_allclose(var[1:3], reference[1:3], rtol=1e-6)
    np.testing.assert_array_equal(var.coords["time"], TIMES.astype("datetime64[s]"))
    np.testing.assert_array_equal(var.coords["lat"], [50.0, 49.0, 48.0])
    np.testing.assert_array_equal(var.coords["lon"], np.arange(4.0))
    assert read_zarr(path, "sp").dtype == np.float32  # unpacked float: NaN fill only


def test_rows_are_read_as_contiguous_slices(tmp_path):
    path = tmp_path / "big.zarr"
    data = np.arange(200 * 4, dtype="float32").reshape(200, 2, 2)
    zarr.create_array(path, data=data, chunks=(1, 2, 2))
    var = read_zarr(path)
    reads = []
    stored = var._raw

    class Recorder:
        shape = stored.shape

        def __getitem__(self, index):
            reads.append(index)
            return stored[index]

    var._raw = Recorder()
    rows = np.array([150, 10, 11, 12, 151])
    np.testing.assert_array_equal(var[rows], data[rows])
    assert reads == [slice(10, 13), slice(150, 152)]


def test_zarr_written_arrays(tmp_path):
    path = tmp_path / "plain.zarr"
    group = zarr.open_group(path, mode="w", zarr_format=3)
    raw = np.arange(24, dtype="int16").reshape(4, 2, 3)
    raw[2, 1, 1] = -1
    array = group.create_array(
        "u", shape=raw.shape, dtype="int16", dimension_names=("t", "y", "x")
    )
    array[:] = raw
    array.attrs.update({"scale_factor": 0.5, "missing_value": -1})
    group.create_array("x", shape=(3,), dtype="float64", dimension_names=("x",))[:] = [
        1.0,
        2.0,
        3.0,
    ]
    var = read_zarr(path)  # the only data variable
    assert var.dims == ("t", "y", "x") and var.dtype == np.float32
    values = var[np.array([2])]
    assert np.isnan(values[0, 1, 1]) and values[0, 0, 0] == raw[2, 0, 0] * 0.5
    np.testing.assert_array_equal(var.coords["x"], [1.0, 2.0, 3.0])
    assert set(var.coords) == {"x"}

    # zarr's own v2 arrays default to fill_value 0: a value, not a gap.
    v2 = tmp_path / "v2.zarr"
    zarr.create_array(v2, data=np.zeros((3, 2, 2), "int16"), zarr_format=2)
    var = read_zarr(v2)
    assert var.dtype == np.int16 and (var[np.array([0, 2])] == 0).all()


def test_errors(tmp_path, monkeypatch):
    path = tmp_path / "era5.zarr"
    _xarray_store(path, 3)
    with pytest.raises(ValueError, match=r"Data variables present: \['sp', 't2m'\]"):
        read_zarr(path, "tp")
    with pytest.raises(ValueError, match="Received: variable=None"):
        read_zarr(path)  # two data variables: one must be named
    with pytest.raises(FileNotFoundError, match="Zarr store not found"):
        read_zarr(tmp_path / "missing.zarr")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="is not a zarr store"):
        read_zarr(tmp_path / "empty")
    monkeypatch.setitem(sys.modules, "zarr", None)
    with pytest.raises(ImportError, match=r'pip install "keras-svq\[xarray\]"'):
        read_zarr(path, "t2m")
