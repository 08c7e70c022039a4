"""`evaluate_forecast` equals `openstl_metrics` on the concatenated predictions."""

import keras
import numpy as np
import pytest

from keras_svq.data import from_array
from keras_svq.metrics import evaluate_forecast
from keras_svq.metrics import openstl_metrics
from keras_svq.metrics import persistence_forecast


def _splits(spatial_norm=True):
    rng = np.random.default_rng(0)
    series = (
        np.cumsum(rng.standard_normal((120, 8, 8, 2)), axis=0).astype("float32") + 280.0
    )
    return from_array(
        series,
        input_length=3,
        output_length=4,
        batch_size=8,
        seed=0,
        spatial_norm=spatial_norm,
    )


def test_weather_defaults_from_splits_and_per_lead_time():
    splits = _splits()
    scores = evaluate_forecast(lambda x: persistence_forecast(x, 4), splits)
    x, y = splits.arrays("test")
    expected = openstl_metrics(
        persistence_forecast(x, 4),
        y,
        mean=splits.mean,
        std=splits.std,
        metrics=("mse", "rmse", "mae"),
        spatial_norm=True,
    )
    for key, value in expected.items():
        np.testing.assert_allclose(scores[key], value, rtol=1e-5)
    assert scores["num_examples"] == splits.num_examples["test"]
    lead = scores["per_lead_time"]
    assert set(lead) == {"mse", "rmse", "mae"} and all(
        len(v) == 4 for v in lead.values()
    )
    # Persistence gets worse with lead time on a random walk.
    assert lead["mse"][0] < lead["mse"][-1]
    for step in range(4):
        one = openstl_metrics(
            persistence_forecast(x, 4)[:, step : step + 1],
            y[:, step : step + 1],
            mean=splits.mean,
            std=splits.std,
            metrics=("mse",),
            spatial_norm=True,
        )
        np.testing.assert_allclose(lead["mse"][step], one["mse"], rtol=1e-5)
    np.testing.assert_allclose(np.mean(lead["mse"]), scores["mse"], rtol=1e-6)


def test_keras_model_dataset_and_video_metrics():
    rng = np.random.default_rng(1)
    x = rng.random((6, 2, 32, 32, 1)).astype("float32")
    y = rng.random((6, 2, 32, 32, 1)).astype("float32")
    inputs = keras.Input((2, 32, 32, 1))
    model = keras.Model(inputs, keras.layers.Conv3D(1, 1)(inputs))
    metrics = ("mse", "mae", "ssim", "psnr", "lpips")
    scores = evaluate_forecast(model, (x, y), metrics=metrics)
    expected = openstl_metrics(model.predict(x, verbose=0), y, metrics=metrics)
    for key, value in expected.items():
        np.testing.assert_allclose(scores[key], value, rtol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="Unsupported metrics"):
        evaluate_forecast(lambda x: x, _splits(), metrics=("nope",))
    with pytest.raises(ValueError, match="must match"):
        evaluate_forecast(lambda x: x, _splits())  # 3 input frames, 4 targets
    with pytest.raises(ValueError, match="at least 31x31"):
        evaluate_forecast(
            lambda x: x, (np.zeros((1, 1, 16, 16, 1)),) * 2, metrics=("lpips",)
        )
    with pytest.raises(ValueError, match="output_length"):
        persistence_forecast(np.zeros((1, 2, 4, 4, 1)), 0)


def test_channel_groups_like_weatherbench_m():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 2, 8, 8, 4)).astype("float32")
    y = rng.standard_normal((5, 2, 8, 8, 4)).astype("float32")
    metrics = ("mse", "rmse", "mae")
    scores = evaluate_forecast(
        lambda a: a,
        (x, y),
        metrics=metrics,
        spatial_norm=True,
        channel_names=["r", "t"],
    )
    expected = openstl_metrics(
        x, y, metrics=metrics, spatial_norm=True, channel_names=["r", "t"]
    )
    for key, value in expected.items():
        np.testing.assert_allclose(scores[key], value, rtol=1e-5, err_msg=key)
    assert list(scores)[:3] == ["mse", "mse_r", "mse_t"]
