"""The lazy netCDF reader: CF packing, fill values, netCDF-4 and netCDF-3."""

import h5py
import numpy as np

from keras_svq.data.netcdf import open_netcdf


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
