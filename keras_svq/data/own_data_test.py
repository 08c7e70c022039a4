"""Users' own data: windows, chronological splits, train-only statistics, NaN handling."""

import logging

import numpy as np
import pytest

from keras_svq.data import from_array
from keras_svq.data import load_array


def _series(t=60, h=6, w=5, c=None, seed=0):
    rng = np.random.default_rng(seed)
    shape = (t, h, w) if c is None else (t, h, w, c)
    return (rng.standard_normal(shape) * 3 + 10).astype("float32")


def test_windows_split_and_statistics():
    series = _series(c=2)
    splits = from_array(
        series, input_length=3, output_length=2, batch_size=4, split=(40, 10, 10)
    )
    train, val, test = splits
    # 40 training frames -> 36 windows of 5; 10 frames -> 6 windows.
    assert splits.num_examples == {"train": 36, "val": 6, "test": 6}
    assert (
        splits.frame_shape == (6, 5, 2)
        and splits.input_length == 3
        and splits.output_length == 2
    )
    np.testing.assert_allclose(splits.mean, series[:40].mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(splits.std, series[:40].std(axis=(0, 1, 2)), rtol=1e-5)
    x, y = splits.arrays("val")
    expected = (series[40:45] - splits.mean) / splits.std
    np.testing.assert_allclose(x[0], expected[:3], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y[0], expected[3:5], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        splits.normalizer.denormalize(y[0]), series[43:45], rtol=1e-5
    )
    bx, by = next(iter(test))
    assert (
        bx.shape == (4, 3, 6, 5, 2)
        and by.shape == (4, 2, 6, 5, 2)
        and bx.dtype == "float32"
    )
    np.testing.assert_allclose(bx.numpy(), splits.arrays("test")[0][:4], rtol=1e-6)
    assert sum(b[0].shape[0] for b in train) == 36


def test_fractions_stride_and_channel_axis_added():
    splits = from_array(
        _series(t=100), input_length=4, output_length=4, batch_size=8, stride=4
    )
    assert splits.frame_shape == (6, 5, 1)
    assert splits.num_examples == {"train": 16, "val": 2, "test": 2}  # 70/15/15 frames
    assert splits.info.splits == {"train": 70, "val": 15, "test": 15}


def test_seeded_shuffle_is_deterministic_and_reshuffles():
    series = _series(t=80)

    def first_batches(seed):
        train = from_array(
            series, input_length=2, output_length=2, batch_size=4, seed=seed
        )[0]
        return [next(iter(train))[0].numpy() for _ in range(2)]

    a, b = first_batches(7), first_batches(7)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], a[1])  # a new order every epoch
    assert not np.array_equal(a[0], first_batches(8)[0])


def test_cache_gives_same_examples():
    series = _series(t=40)
    plain = from_array(series, input_length=2, output_length=1, batch_size=64)
    cached = from_array(
        series, input_length=2, output_length=1, batch_size=64, cache=True
    )
    for a, b in zip(plain[2], cached[2]):
        np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())


def test_minmax_and_no_normalisation():
    series = _series(t=40, c=2)
    minmax = from_array(
        series, input_length=2, output_length=2, batch_size=4, normalization="minmax"
    )
    x, _ = minmax.arrays("train")
    assert x.min() >= -1e-6 and x.max() <= 1 + 1e-6
    raw = from_array(
        series, input_length=2, output_length=2, batch_size=4, normalization="none"
    )
    np.testing.assert_array_equal(raw.arrays("train")[0][0], series[:2])


def test_nan_raise_reports_count_and_location():
    series = _series()
    series[7, 2, 3] = np.nan
    series[9, 0, 0] = np.inf
    with pytest.raises(
        ValueError,
        match=r"2 NaN/Inf values \(first at time=7, row=2, col=3, channel=0\)",
    ):
        from_array(series, input_length=2, output_length=2, batch_size=4)


def test_nan_fill_uses_training_mean(caplog):
    series = _series()
    series[7, 2, 3] = np.nan
    with caplog.at_level(logging.WARNING):
        splits = from_array(
            series, input_length=2, output_length=2, batch_size=4, nan_policy="fill"
        )
    assert "Filling 1 NaN/Inf" in caplog.text
    x, y = splits.arrays("train")
    assert np.isfinite(x).all() and np.isfinite(y).all()
    np.testing.assert_allclose(splits.mean, np.nanmean(series[:42]), rtol=1e-5)
    assert x[7, 0, 2, 3, 0] == pytest.approx(
        0.0, abs=1e-6
    )  # the mean is 0 in model space


def test_nan_mask_drops_windows(caplog):
    series = _series()
    series[10] = np.nan
    with caplog.at_level(logging.WARNING):
        splits = from_array(
            series, input_length=2, output_length=2, batch_size=4, nan_policy="mask"
        )
    assert "Left out 4 train windows" in caplog.text
    assert splits.num_examples["train"] == 42 - 3 - 4
    for x, y in splits[0]:
        assert np.isfinite(x.numpy()).all() and np.isfinite(y.numpy()).all()


def test_too_short_series_says_how_long():
    with pytest.raises(
        ValueError,
        match="one window needs input_length \\+ output_length = 24.*at least 160 frames",
    ):
        from_array(_series(t=100), input_length=12, output_length=12, batch_size=4)
    with pytest.raises(
        ValueError, match="The train part has 10 frames.*at least 24 frames"
    ):
        from_array(
            _series(t=10),
            input_length=12,
            output_length=12,
            batch_size=4,
            split=(10, 0, 0),
        )
    all_nan = _series(t=20)
    all_nan[::3] = np.nan
    with pytest.raises(ValueError, match="No training window.*free of NaN/Inf"):
        from_array(
            all_nan,
            input_length=2,
            output_length=2,
            batch_size=4,
            split=(20, 0, 0),
            nan_policy="mask",
        )


def test_bad_arguments():
    with pytest.raises(ValueError, match="nan_policy"):
        from_array(
            _series(), input_length=2, output_length=2, batch_size=4, nan_policy="drop"
        )
    with pytest.raises(ValueError, match=r"\(time, H, W\) or \(time, H, W, C\)"):
        from_array(np.zeros((10, 4)), input_length=2, output_length=2, batch_size=4)
    with pytest.raises(ValueError, match="sum to 1"):
        from_array(
            _series(),
            input_length=2,
            output_length=2,
            batch_size=4,
            split=(0.5, 0.2, 0.2),
        )


def test_load_array_formats(tmp_path):
    series = _series(t=30)
    np.save(tmp_path / "a.npy", series)
    np.savez(tmp_path / "b.npz", field=series, other=series[:1])
    np.testing.assert_array_equal(load_array(tmp_path / "a.npy"), series)
    np.testing.assert_array_equal(
        load_array(tmp_path / "b.npz", variable="field"), series
    )
    with pytest.raises(ValueError, match=r"Keys present: \['field', 'other'\]"):
        load_array(tmp_path / "b.npz", variable="t2m")
    with pytest.raises(ValueError, match="several arrays"):
        load_array(tmp_path / "b.npz")
    with pytest.raises(FileNotFoundError, match="missing.npy"):
        load_array(tmp_path / "missing.npy")
    # A memory-mapped .npy goes through from_array without a full copy.
    splits = from_array(
        load_array(tmp_path / "a.npy"), input_length=2, output_length=2, batch_size=4
    )
    assert splits.num_examples["train"] == 18


def test_load_array_netcdf(tmp_path):
    from scipy.io import netcdf_file

    series = _series(t=30)
    path = tmp_path / "field.nc"
    with netcdf_file(path, "w") as f:
        f.createDimension("time", 30)
        f.createDimension("lat", 6)
        f.createDimension("lon", 5)
        var = f.createVariable("t2m", "f4", ("time", "lat", "lon"))
        var[:] = series
    np.testing.assert_array_equal(load_array(path, variable="t2m")[:], series)
    assert load_array(path, variable="t2m")[:2].dtype.isnative
    with pytest.raises(ValueError, match=r"Variables present: \['t2m'\]"):
        load_array(path, variable="tp")
    splits = from_array(
        load_array(path, variable="t2m"), input_length=2, output_length=2, batch_size=4
    )
    assert splits.frame_shape == (6, 5, 1)
