"""Baselines on the shipped samples, against independent numpy computations."""

import importlib.util

import numpy as np
import pytest

from keras_svq.data import load_sample
from keras_svq.data.samples import ASSETS
from keras_svq.metrics.baselines import build_baselines
from keras_svq.metrics.baselines import step_seconds


def test_step_seconds_parses_dataset_time_steps():
    assert step_seconds("1h") == 3600
    assert step_seconds("30min") == 1800
    assert step_seconds("6h") == 21600
    assert step_seconds("2 hours") == 7200
    assert step_seconds("1 frame") is None
    assert step_seconds("") is None


def test_era5_climatology_is_the_hourly_mean_of_the_training_frames():
    splits = load_sample(
        "era5_t2m_uk", input_length=12, output_length=12, batch_size=8, stride=1
    )
    baselines = build_baselines(splits)
    assert baselines["climatology"].slots == 24
    x, y = splits.arrays("test")
    forecast = splits.normalizer.denormalize(
        baselines["climatology"].forecast(x, np.arange(len(x)))
    )
    # Independent: the raw file, 70 % of its 744 hourly frames for training,
    # each hour of the day averaged over the training days.
    with np.load(ASSETS / "era5_t2m_uk_2019-03_hourly.npz") as data:
        t2m = data["t2m"].astype("float64")
        hours = (data["time"] - data["time"][0]) // 3600 % 24
    n_train = round(0.7 * 744)
    n_val = round(0.15 * 744)
    hourly = np.stack(
        [t2m[:n_train][hours[:n_train] == h].mean(axis=0) for h in range(24)]
    )
    test_rows = n_train + n_val + np.arange(len(x))[:, None] + 12 + np.arange(12)
    expected = hourly[hours[test_rows]]
    np.testing.assert_allclose(forecast[..., 0], expected, atol=2e-3)
    # Persistence: the last input frame, in the same model space.
    persistence = baselines["persistence"].forecast(x, np.arange(len(x)))
    np.testing.assert_array_equal(persistence, np.repeat(x[:, -1:], 12, axis=1))


def test_taxi_climatology_has_half_hour_slots_and_uses_only_training_frames():
    splits = load_sample("nyc_taxi_flow", input_length=4, output_length=4, batch_size=8)
    climatology = build_baselines(splits, ["climatology"])["climatology"]
    assert climatology.slots == 48
    with np.load(ASSETS / "nyc_taxi_flow_30min.npz") as data:
        flow = data["taxi_flow"].astype("float64")
        n_train = int(data["taxi_split"][0])
    slot = np.arange(len(flow)) % 48
    expected_fields = np.stack(
        [flow[:n_train][slot[:n_train] == s].mean(axis=0) for s in range(48)]
    )
    fields = splits.normalizer.denormalize(climatology.climatology.fields)
    np.testing.assert_allclose(fields, expected_fields, rtol=1e-4, atol=1e-2)
    # A change in the test frames does not move it: test data are never read.
    x, _ = splits.arrays("test")
    a = climatology.forecast(x, np.arange(3))
    b = climatology.forecast(x * 0 + 7, np.arange(3))
    np.testing.assert_array_equal(a, b)


def test_moving_mnist_climatology_is_the_training_mean_field():
    splits = load_sample(
        "moving_mnist",
        input_length=4,
        output_length=4,
        batch_size=8,
        num_train=64,
        num_val=4,
        num_test=8,
        image_size=32,
        digit_size=14,
    )
    climatology = build_baselines(splits, ["climatology"])["climatology"]
    assert climatology.slots == 1
    x, y = splits.sources["train"].numpy()
    expected = np.concatenate([x, y], axis=1).mean(axis=(0, 1))
    forecast = climatology.forecast(None, np.arange(2))
    assert forecast.shape == (2, 4, 32, 32, 1)
    np.testing.assert_allclose(forecast[1, 3], expected, atol=1e-6)


def test_half_resolution_moving_mnist_averages_digit_pixels():
    splits = load_sample(
        "moving_mnist",
        input_length=2,
        output_length=2,
        batch_size=2,
        num_train=4,
        num_val=2,
        num_test=2,
        image_size=32,
        digit_size=14,
    )
    assert splits.frame_shape == (32, 32, 1)
    with pytest.raises(ValueError, match="must divide 28"):
        load_sample(
            "moving_mnist",
            input_length=2,
            output_length=2,
            batch_size=2,
            num_train=4,
            digit_size=10,
        )


def test_unknown_baseline_and_missing_pysteps_are_named():
    splits = load_sample("nyc_taxi_flow", input_length=4, output_length=4, batch_size=8)
    with pytest.raises(ValueError, match="Unknown baseline 'climatolgy'"):
        build_baselines(splits, ["climatolgy"])
    if importlib.util.find_spec("pysteps") is None:
        with pytest.raises(ImportError, match="pip install 'keras-svq\\[pysteps\\]'"):
            build_baselines(splits, ["optical_flow"])
    else:  # the real thing: advection of the last frames
        flow = build_baselines(splits, ["optical_flow"])["optical_flow"]
        x, _ = splits.arrays("test")
        forecast = flow.forecast(x[:2], np.arange(2))
        assert forecast.shape == (2, 4, 16, 12, 2)
        assert np.isfinite(forecast).all()
