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
        match=r"2 missing values \(NaN/Inf; first at time=7, row=2, col=3, channel=0\)"
        r".*nan_policy='fill'.*nan_policy='drop'",
    ):
        from_array(series, input_length=2, output_length=2, batch_size=4)


def test_nan_fill_fills_inputs_and_keeps_targets_missing(caplog):
    series = _series()
    series[7, 2, 3] = np.nan
    with caplog.at_level(logging.WARNING):
        splits = from_array(
            series, input_length=2, output_length=2, batch_size=4, nan_policy="fill"
        )
    assert "1 missing values (first at time=7, row=2, col=3" in caplog.text
    x, y = splits.arrays("train")
    assert np.isfinite(x).all()
    # Window 7 has the missing frame as input, window 5 as its second target.
    assert x[7, 0, 2, 3, 0] == pytest.approx(0.0, abs=1e-6)  # the training mean
    assert np.isnan(y[5, 0, 2, 3, 0]) and np.isfinite(np.delete(y.ravel(), 0)).sum()
    assert int(np.isnan(y).sum()) == 2  # windows 4 and 5 hold frame 7 as a target
    np.testing.assert_allclose(splits.mean, np.nanmean(series[:42]), rtol=1e-5)
    np.testing.assert_allclose(splits.std, np.nanstd(series[:42]), rtol=1e-5)
    bx, by = next(iter(splits[0]))
    assert np.isfinite(bx.numpy()).all()


def test_nan_drop_leaves_out_windows(caplog):
    series = _series()
    series[10] = np.nan
    with caplog.at_level(logging.WARNING):
        splits = from_array(
            series, input_length=2, output_length=2, batch_size=4, nan_policy="drop"
        )
    assert "Left out 4 train windows" in caplog.text
    assert splits.num_examples["train"] == 42 - 3 - 4
    for x, y in splits[0]:
        assert np.isfinite(x.numpy()).all() and np.isfinite(y.numpy()).all()
    # The old name still works, with a note.
    with caplog.at_level(logging.WARNING):
        old = from_array(
            series, input_length=2, output_length=2, batch_size=4, nan_policy="mask"
        )
    assert "now called 'drop'" in caplog.text
    assert old.num_examples == splits.num_examples


def test_drop_with_a_fixed_mask_explains_and_points_to_fill():
    series = _series()
    series[:, 0, 0] = np.nan  # "land": missing in every frame
    with pytest.raises(
        ValueError, match="1 pixel/channel positions are missing in every"
    ):
        from_array(series, input_length=2, output_length=2, batch_size=4)
    with pytest.raises(
        ValueError,
        match="No training window.*missing in every frame.*nan_policy='fill'",
    ):
        from_array(
            series, input_length=2, output_length=2, batch_size=4, nan_policy="drop"
        )
    splits = from_array(
        series, input_length=2, output_length=2, batch_size=4, nan_policy="fill"
    )
    assert not splits.valid_mask[0, 0, 0] and splits.valid_mask.sum() == 29


def test_missing_value_codes_and_suspicious_values(caplog):
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 50, size=(40, 4, 4, 1)).astype("uint16")
    counts[3, 1, 1, 0] = 65535
    with caplog.at_level(logging.WARNING):
        plain = from_array(counts, input_length=2, output_length=2, batch_size=4)
    assert "1 values equal 65535, which looks like a missing-value code" in caplog.text
    assert plain.mean[0] > 100  # the code was taken as data, as the warning says
    with pytest.raises(
        ValueError, match=r"1 missing values \(NaN/Inf or missing_value"
    ):
        from_array(
            counts, input_length=2, output_length=2, batch_size=4, missing_value=65535
        )
    splits = from_array(
        counts,
        input_length=2,
        output_length=2,
        batch_size=4,
        missing_value=[65535, 9999],
        nan_policy="fill",
    )
    train = counts[:28].astype("float64")
    train[train == 65535] = np.nan
    np.testing.assert_allclose(splits.mean, np.nanmean(train), rtol=1e-6)
    with pytest.raises(ValueError, match="missing_value` must be a number"):
        from_array(
            counts, input_length=2, output_length=2, batch_size=4, missing_value="x"
        )


def test_static_mask_is_applied_to_inputs_and_targets():
    series = _series(t=40)
    mask = np.ones((6, 5), bool)
    mask[:2] = False  # two rows of "land"
    splits = from_array(
        series, input_length=2, output_length=2, batch_size=4, mask=mask
    )
    x, y = splits.arrays("test")
    assert np.isfinite(x).all() and (x[:, :, :2] == 0).all()
    assert np.isnan(y[:, :, :2]).all() and np.isfinite(y[:, :, 2:]).all()
    # Statistics ignore the masked pixels.
    np.testing.assert_allclose(splits.mean, series[:28, 2:].mean(), rtol=1e-5)
    assert splits.valid_mask.shape == (6, 5, 1) and splits.valid_mask.sum() == 20
    with pytest.raises(ValueError, match="must be boolean"):
        from_array(
            series, input_length=2, output_length=2, batch_size=4, mask=mask * 1.0
        )
    with pytest.raises(ValueError, match=r"must be \(40, 6, 5\)"):
        from_array(series, input_length=2, output_length=2, batch_size=4, mask=mask[:3])


def test_per_frame_mask():
    series = _series(t=40)
    mask = np.ones((40, 6, 5), bool)
    mask[20, 3, 3] = False
    splits = from_array(
        series, input_length=2, output_length=2, batch_size=4, mask=mask
    )
    x, y = splits.arrays("train")
    assert np.isnan(y[17, 1, 3, 3, 0]) and int(np.isnan(y).sum()) == 2
    assert x[19, 1, 3, 3, 0] == 0.0


def test_many_sequences_never_cross_and_split_by_sequence():
    videos = _series(t=6 * 10, c=1).reshape(6, 10, 6, 5, 1)
    splits = from_array(
        videos, input_length=3, output_length=2, batch_size=4, split=(4, 1, 1)
    )
    # 6 windows of 5 frames per 10-frame video; 4 / 1 / 1 videos.
    assert splits.num_examples == {"train": 24, "val": 6, "test": 6}
    assert splits.info.splits == {"train": 4, "val": 1, "test": 1}
    x, y = splits.arrays("test")
    expected = splits.normalizer.normalize(videos[5])
    for i in range(6):  # every window lies inside video 5
        np.testing.assert_allclose(x[i], expected[i : i + 3], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(y[i], expected[i + 3 : i + 5], rtol=1e-5, atol=1e-5)
    explicit = from_array(
        videos,
        input_length=3,
        output_length=2,
        batch_size=4,
        split={"train": [0, 2, 3, 4], "val": [5], "test": [1]},
    )
    np.testing.assert_allclose(
        explicit.arrays("test")[0][0],
        explicit.normalizer.normalize(videos[1][:3]),
        rtol=1e-5,
        atol=1e-5,
    )
    with pytest.raises(ValueError, match="puts a sequence into two splits"):
        from_array(
            videos,
            input_length=3,
            output_length=2,
            batch_size=4,
            split={"train": [0, 1], "val": [1], "test": [2]},
        )
    with pytest.raises(ValueError, match=r"names sequences \[9\]"):
        from_array(
            videos,
            input_length=3,
            output_length=2,
            batch_size=4,
            split={"train": [0], "val": [9], "test": [2]},
        )


def test_list_of_sequences_of_different_lengths_split_by_time():
    events = [_series(t=t, seed=t) for t in (20, 30, 40)]
    splits = from_array(
        events,
        input_length=2,
        output_length=2,
        batch_size=4,
        split=(0.6, 0.2, 0.2),
        split_by="time",
    )
    # train parts 12, 18, 24 frames -> 9 + 15 + 21 windows; val 4, 6, 8 -> 1 + 3 + 5
    assert splits.num_examples == {"train": 45, "val": 9, "test": 9}
    train = np.concatenate([e[:n] for e, n in zip(events, (12, 18, 24))])
    np.testing.assert_allclose(splits.mean, train.mean(), rtol=1e-5)
    with pytest.raises(ValueError, match=r"same frame shape.*array\[1\]"):
        from_array(
            [_series(t=20), _series(t=20, h=4)],
            input_length=2,
            output_length=2,
            batch_size=4,
        )


def test_channels_first_is_refused_with_the_transpose():
    with pytest.raises(
        ValueError, match=r"channels-first.*array.transpose\(0, 2, 3, 1\)"
    ):
        from_array(
            np.zeros((20, 2, 32, 32), "float32"),
            input_length=2,
            output_length=2,
            batch_size=4,
        )
    with pytest.raises(ValueError, match=r"transpose\(0, 1, 3, 4, 2\)"):
        from_array(
            np.zeros((3, 20, 1, 32, 32), "float32"),
            input_length=2,
            output_length=2,
            batch_size=4,
        )


def test_crop_coarsen_and_pad_in_from_array():
    series = _series(t=40, h=9, w=10)
    lat = np.linspace(60, 52, 9)
    splits = from_array(
        series,
        input_length=2,
        output_length=2,
        batch_size=4,
        coords={"lat": lat, "lon": np.arange(10.0)},
        crop={"lat": [59, 53], "cols": [0, 10]},
        coarsen=2,
        pad_to_multiple=4,
    )
    # rows 1..7 (7 rows) -> coarsened 3 x 5 (one row dropped) -> padded 4 x 8
    assert splits.frame_shape == (4, 8, 1)
    assert splits.valid_mask[:3, :5].all() and not splits.valid_mask[3:].any()
    x, y = splits.arrays("val")
    block = series[28:30, 1:3, 0:2].mean(axis=(1, 2))
    np.testing.assert_allclose(
        splits.normalizer.denormalize(x[0])[:, 0, 0, 0], block, rtol=1e-5
    )
    assert np.isnan(y[:, :, 3:]).all() and np.isnan(y[:, :, :, 5:]).all()
    np.testing.assert_allclose(splits.coords["lat"][:3], [58.5, 56.5, 54.5])


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
    with pytest.raises(ValueError, match="No training window.*free of missing values"):
        from_array(
            all_nan,
            input_length=2,
            output_length=2,
            batch_size=4,
            split=(20, 0, 0),
            nan_policy="drop",
        )


def test_bad_arguments():
    with pytest.raises(ValueError, match="nan_policy"):
        from_array(
            _series(), input_length=2, output_length=2, batch_size=4, nan_policy="zero"
        )
    with pytest.raises(ValueError, match=r"\(time, H, W, C\), many sequences"):
        from_array(np.zeros((10, 4)), input_length=2, output_length=2, batch_size=4)
    with pytest.raises(ValueError, match="sum to 1"):
        from_array(
            _series(),
            input_length=2,
            output_length=2,
            batch_size=4,
            split=(0.5, 0.2, 0.2),
        )
    with pytest.raises(ValueError, match="input_length=4.5"):
        from_array(_series(), input_length=4.5, output_length=2, batch_size=4)
    with pytest.raises(ValueError, match="split_by"):
        from_array(
            _series(), input_length=2, output_length=2, batch_size=4, split_by="x"
        )


def test_load_array_formats(tmp_path):
    series = _series(t=30)
    np.save(tmp_path / "a.npy", series)
    np.savez(tmp_path / "b.npz", field=series, other=series[:1])
    np.testing.assert_array_equal(np.asarray(load_array(tmp_path / "a.npy")), series)
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


def test_large_npy_builds_a_pipeline_without_loading_it(tmp_path):
    """A 128 MiB file: the pipeline reads windows from disk (RSS: bench/big_npy_pipeline.py)."""
    from keras_svq.data.frame_series import FrameSeries

    frames, h, w = 2048, 128, 128
    path = tmp_path / "big.npy"
    header = {"descr": "<f4", "fortran_order": False, "shape": (frames, h, w)}
    with open(path, "wb") as f:
        np.lib.format.write_array_header_2_0(f, header)
        for lo in range(0, frames, 512):
            f.write(np.full((512, h, w), lo, "<f4").tobytes())
    splits = from_array(load_array(path), input_length=2, output_length=2, batch_size=4)
    source = splits.sources["train"]
    assert isinstance(source.frames, FrameSeries) and not source.in_memory
    x, _ = splits.arrays("test")
    expected = splits.normalizer.normalize(np.full((h, w, 1), 1536.0, "float32"))
    np.testing.assert_allclose(x[0, 0], expected, rtol=1e-5)


def test_load_array_reads_a_zarr_store_with_its_coordinates(tmp_path):
    xr = pytest.importorskip("xarray")
    pytest.importorskip("zarr")
    series = _series(t=30)
    lat, lon = np.linspace(60, 50, 6), np.linspace(-5, 5, 5)
    xr.Dataset(
        {"sst": (("time", "lat", "lon"), series)}, coords={"lat": lat, "lon": lon}
    ).to_zarr(tmp_path / "sst.zarr")
    array = load_array(tmp_path / "sst.zarr", variable="sst")
    np.testing.assert_allclose(array[np.arange(3, 7)], series[3:7])
    splits = from_array(
        array, input_length=2, output_length=2, batch_size=4, crop={"lat": [58, 52]}
    )
    assert splits.frame_shape == (4, 5, 1)
    np.testing.assert_allclose(splits.coords["lat"], lat[1:5])
