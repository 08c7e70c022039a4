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


# ---------------------------------------------------------------- masks
def _masked_arrays(shape=(6, 3, 8, 10, 2), seed=3):
    """Inputs, targets with NaN (missing values) and a static land-sea mask."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype("float32")
    y = (x + 0.5 * rng.standard_normal(shape)).astype("float32")
    y[rng.random(shape) < 0.1] = np.nan
    sea = rng.random(shape[2:4] + (1,)) > 0.25
    return x, y, sea


def _in_batches(x, y, size):
    return [(x[i : i + size], y[i : i + size]) for i in range(0, len(x), size)]


@pytest.mark.parametrize("spatial_norm", [True, False])
def test_masked_streaming_equals_openstl_metrics_and_numpy(spatial_norm):
    x, y, sea = _masked_arrays()
    # Per-element means, or the reference's per-frame sums.
    prefix = "" if spatial_norm else "frame_"
    metrics = (f"{prefix}mse", f"{prefix}rmse", f"{prefix}mae")
    scores = evaluate_forecast(
        lambda a: a,
        _in_batches(x, y, 4),  # batches of 4 and 2
        metrics=metrics,
        mask=sea,
    )
    expected = openstl_metrics(x, y, mask=sea, metrics=metrics)
    for key, value in expected.items():
        np.testing.assert_allclose(scores[key], value, rtol=1e-6, err_msg=key)
    valid = np.broadcast_to(sea, y.shape) & ~np.isnan(y)
    np.testing.assert_allclose(scores["valid_fraction"], valid.mean())
    for step in range(3):
        v = valid[:, step]
        err = x[:, step][v].astype("float64") - y[:, step][v]
        if spatial_norm:
            mse, mae = np.mean(err**2), np.mean(np.abs(err))
        else:  # per-frame sums, averaged over the examples
            mse, mae = np.sum(err**2) / len(x), np.sum(np.abs(err)) / len(x)
        lead = scores["per_lead_time"]
        np.testing.assert_allclose(lead[f"{prefix}mse"][step], mse, rtol=1e-6)
        np.testing.assert_allclose(lead[f"{prefix}mae"][step], mae, rtol=1e-6)
        np.testing.assert_allclose(lead[f"{prefix}rmse"][step], np.sqrt(mse), rtol=1e-6)
    one_batch = evaluate_forecast(lambda a: a, (x, y), metrics=metrics, mask=sea)
    for key in metrics:
        np.testing.assert_allclose(scores[key], one_batch[key], rtol=1e-12)


def test_masked_quality_metrics_and_invalid_predictions():
    rng = np.random.default_rng(4)
    y = rng.random((3, 2, 32, 32, 1)).astype("float32")
    x = np.clip(y + 0.1 * rng.standard_normal(y.shape), 0, 1).astype("float32")
    mask = rng.random((32, 32, 1)) > 0.3
    metrics = ("mse", "psnr", "snr", "ssim", "lpips")
    scores = evaluate_forecast(
        lambda a: a, _in_batches(x, y, 2), metrics=metrics, mask=mask
    )
    expected = openstl_metrics(x, y, mask=mask, metrics=metrics)
    for key, value in expected.items():
        np.testing.assert_allclose(scores[key], value, rtol=1e-5, err_msg=key)
    noisy = np.where(mask, x, 5.0).astype("float32")
    changed = evaluate_forecast(
        lambda a: a, _in_batches(noisy, y, 2), metrics=metrics, mask=mask
    )
    for key in metrics:
        np.testing.assert_allclose(changed[key], scores[key], rtol=1e-6, err_msg=key)


def test_split_mask_is_taken_batch_by_batch_and_equals_nan_targets():
    x, y, _ = _masked_arrays(seed=5)
    mask = np.random.default_rng(5).random(y.shape) > 0.3  # varies per example
    clean = np.nan_to_num(y, nan=0.0)
    by_mask = evaluate_forecast(
        lambda a: a,
        _in_batches(x, clean, 4),
        spatial_norm=True,
        mask=mask & ~np.isnan(y),
    )
    by_nan = evaluate_forecast(
        lambda a: a,
        _in_batches(x, np.where(mask, y, np.nan), 4),
        spatial_norm=True,
    )
    for key in ("mse", "mae", "valid_fraction"):
        np.testing.assert_allclose(by_mask[key], by_nan[key], rtol=1e-12)
    assert by_mask["per_lead_time"] == by_nan["per_lead_time"]
    with pytest.raises(ValueError, match="`mask` covers 4 examples"):
        evaluate_forecast(lambda a: a, _in_batches(x, clean, 4), mask=mask[:4])


def test_all_valid_mask_equals_the_unmasked_result():
    x, y, _ = _masked_arrays(seed=6)
    y = np.nan_to_num(y)
    plain = evaluate_forecast(lambda a: a, (x, y), spatial_norm=True)
    masked = evaluate_forecast(
        lambda a: a, (x, y), spatial_norm=True, mask=np.ones((8, 10, 1), bool)
    )
    assert masked == plain and "valid_fraction" not in plain


def test_latitude_weighted_errors():
    x, y, sea = _masked_arrays(seed=7)
    lat = np.linspace(70.0, -70.0, 8)
    scores = evaluate_forecast(
        lambda a: a,
        _in_batches(x, y, 4),
        spatial_norm=True,
        mask=sea,
        latitudes=lat,
    )
    weights = np.cos(np.deg2rad(lat)) / np.cos(np.deg2rad(lat)).mean()
    valid = np.broadcast_to(sea, y.shape) & ~np.isnan(y)
    w = np.broadcast_to(weights[None, None, :, None, None], y.shape)
    err = np.where(valid, x.astype("float64") - y, 0.0)
    lead = scores["per_lead_time"]
    for step in range(3):
        ws, vs, es = w[:, step], valid[:, step], err[:, step]
        mse = np.sum(ws[vs] * es[vs] ** 2) / np.sum(ws[vs])
        mae = np.sum(ws[vs] * np.abs(es[vs])) / np.sum(ws[vs])
        np.testing.assert_allclose(lead["mse_lat_weighted"][step], mse, rtol=1e-10)
        np.testing.assert_allclose(lead["mae_lat_weighted"][step], mae, rtol=1e-10)
        np.testing.assert_allclose(
            lead["rmse_lat_weighted"][step], np.sqrt(mse), rtol=1e-10
        )
    mse = np.sum(w[valid] * err[valid] ** 2) / np.sum(w[valid])
    np.testing.assert_allclose(scores["mse_lat_weighted"], mse, rtol=1e-10)
    np.testing.assert_allclose(scores["rmse_lat_weighted"], np.sqrt(mse), rtol=1e-10)
    # The unweighted figures are unchanged by `latitudes`.
    plain = evaluate_forecast(lambda a: a, (x, y), spatial_norm=True, mask=sea)
    np.testing.assert_allclose(scores["mse"], plain["mse"], rtol=1e-12)


def test_legacy_names_with_spatial_norm_false_keep_their_values():
    x, y, _ = _masked_arrays(seed=8)
    y = np.nan_to_num(y)
    with pytest.warns(FutureWarning, match="now named 'frame_mae'"):
        legacy = evaluate_forecast(
            lambda a: a, (x, y), metrics=("mae",), spatial_norm=False
        )
    named = evaluate_forecast(lambda a: a, (x, y), metrics=("frame_mae", "mae"))
    assert legacy["mae"] == named["frame_mae"]
    assert legacy["per_lead_time"]["mae"] == named["per_lead_time"]["frame_mae"]
    np.testing.assert_allclose(named["mae"], np.mean(np.abs(x - y)), rtol=1e-6)
