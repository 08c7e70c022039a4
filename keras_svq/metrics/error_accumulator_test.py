"""`ErrorAccumulator` and `latitude_weights` against numpy written from the definitions."""

import numpy as np
import pytest

from keras_svq.metrics import ErrorAccumulator
from keras_svq.metrics import latitude_weights


def _batch(shape=(4, 3, 5, 6, 2), seed=0, missing=0.15):
    """Predictions and targets in kelvin, with NaN at about `missing` of the targets."""
    rng = np.random.default_rng(seed)
    true = 280.0 + 5.0 * rng.standard_normal(shape)
    pred = true + rng.standard_normal(shape)
    true[rng.random(shape) < missing] = np.nan
    return pred.astype("float32"), true.astype("float32")


def _reference(pred, true, valid, weights=None):
    """Masked (weighted) MSE / MAE per lead time and overall, by boolean indexing."""
    pred = pred.astype("float64")
    true = true.astype("float64")
    w = np.ones(pred.shape[2]) if weights is None else np.asarray(weights)
    w = np.broadcast_to(w[None, None, :, None, None], pred.shape)
    out = {"mse": [], "mae": []}
    for step in range(pred.shape[1]):
        v = valid[:, step]
        e = pred[:, step][v] - true[:, step][v]
        ws = w[:, step][v]
        out["mse"].append(np.sum(ws * e**2) / np.sum(ws))
        out["mae"].append(np.sum(ws * np.abs(e)) / np.sum(ws))
    e = pred[valid] - true[valid]
    out["mse_all"] = np.sum(w[valid] * e**2) / np.sum(w[valid])
    out["mae_all"] = np.sum(w[valid] * np.abs(e)) / np.sum(w[valid])
    return out


def test_latitude_weights():
    np.testing.assert_allclose(
        latitude_weights([60.0, 0.0, -60.0]), np.array([0.5, 1.0, 0.5]) / (2 / 3)
    )
    lat = np.linspace(-87.5, 87.5, 36)
    weights = latitude_weights(lat)
    np.testing.assert_allclose(weights.mean(), 1.0)
    np.testing.assert_allclose(
        weights, np.cos(np.deg2rad(lat)) / np.mean(np.cos(np.deg2rad(lat)))
    )
    with pytest.raises(ValueError, match="1-D array of degrees in \\[-90, 90\\]"):
        latitude_weights([[0.0, 10.0]])
    with pytest.raises(ValueError, match="Received: latitudes=\\[0.0, 100.0\\]"):
        latitude_weights([0.0, 100.0])


def test_masked_figures_overall_and_per_lead_time():
    pred, true = _batch()
    mask = np.random.default_rng(1).random((5, 6, 1)) > 0.3  # static land-sea mask
    errors = ErrorAccumulator(output_length=3)
    errors.add(pred, true, mask)
    got = errors.result()
    valid = np.broadcast_to(mask, true.shape) & ~np.isnan(true)
    ref = _reference(pred, true, valid)
    np.testing.assert_allclose(got["mse"], ref["mse_all"], rtol=1e-12)
    np.testing.assert_allclose(got["mae"], ref["mae_all"], rtol=1e-12)
    np.testing.assert_allclose(got["rmse"], np.sqrt(ref["mse_all"]), rtol=1e-12)
    lead = got["per_lead_time"]
    np.testing.assert_allclose(lead["mse"], ref["mse"], rtol=1e-12)
    np.testing.assert_allclose(lead["mae"], ref["mae"], rtol=1e-12)
    np.testing.assert_allclose(lead["rmse"], np.sqrt(ref["mse"]), rtol=1e-12)
    np.testing.assert_allclose(got["valid_fraction"], valid.mean())
    assert list(got) == ["mse", "mae", "rmse", "valid_fraction", "per_lead_time"]


def test_latitude_weighted_figures():
    pred, true = _batch(seed=2)
    lat = [60.0, 30.0, 0.0, -30.0, -60.0]
    errors = ErrorAccumulator(3, latitudes=lat)
    errors.add(pred, true)
    got = errors.result()
    valid = ~np.isnan(true)
    ref = _reference(pred, true, valid, latitude_weights(lat))
    np.testing.assert_allclose(got["mse_lat_weighted"], ref["mse_all"], rtol=1e-12)
    np.testing.assert_allclose(got["mae_lat_weighted"], ref["mae_all"], rtol=1e-12)
    np.testing.assert_allclose(
        got["rmse_lat_weighted"], np.sqrt(ref["mse_all"]), rtol=1e-12
    )
    lead = got["per_lead_time"]
    np.testing.assert_allclose(lead["mse_lat_weighted"], ref["mse"], rtol=1e-12)
    np.testing.assert_allclose(lead["mae_lat_weighted"], ref["mae"], rtol=1e-12)
    np.testing.assert_allclose(
        lead["rmse_lat_weighted"], np.sqrt(ref["mse"]), rtol=1e-12
    )
    # Unweighted figures are there too, and differ.
    np.testing.assert_allclose(got["mse"], _reference(pred, true, valid)["mse_all"])
    assert got["mse"] != got["mse_lat_weighted"]


def test_streaming_equals_one_big_batch():
    pred, true = _batch(shape=(7, 3, 5, 6, 1), seed=3)
    whole = ErrorAccumulator(3, latitudes=np.linspace(50, -50, 5))
    whole.add(pred, true)
    streamed = ErrorAccumulator(3, latitudes=np.linspace(50, -50, 5))
    for start in range(0, 7, 3):
        streamed.add(pred[start : start + 3], true[start : start + 3])
    a, b = whole.result(), streamed.result()
    for key in a:
        if key != "per_lead_time":
            np.testing.assert_allclose(b[key], a[key], rtol=1e-12, err_msg=key)
    for key in a["per_lead_time"]:
        np.testing.assert_allclose(
            b["per_lead_time"][key], a["per_lead_time"][key], rtol=1e-12
        )


def test_invalid_predictions_change_nothing_and_nan_equals_mask():
    pred, true = _batch(seed=4, missing=0.0)
    mask = np.random.default_rng(4).random(true.shape) > 0.2
    by_mask = ErrorAccumulator(3, latitudes=np.zeros(5))
    by_mask.add(pred, true, mask)
    by_nan = ErrorAccumulator(3, latitudes=np.zeros(5))
    by_nan.add(np.where(mask, pred, 1e6), np.where(mask, true, np.nan))
    assert by_mask.result() == by_nan.result()


def test_all_valid_mask_equals_the_unmasked_figures():
    pred, true = _batch(seed=5, missing=0.0)
    plain = ErrorAccumulator(3)
    plain.add(pred, true)
    masked = ErrorAccumulator(3)
    masked.add(pred, true, np.ones((1, 1, 5, 6, 1), bool))
    assert plain.result() == masked.result()
    got = plain.result()
    error = pred.astype("float64") - true
    np.testing.assert_allclose(got["mse"], np.mean(error**2), rtol=1e-12)
    np.testing.assert_allclose(got["mae"], np.mean(np.abs(error)), rtol=1e-12)
    np.testing.assert_allclose(
        got["per_lead_time"]["mse"], np.mean(error**2, axis=(0, 2, 3, 4)), rtol=1e-12
    )
    assert got["valid_fraction"] == 1.0


def test_varying_masks_use_the_total_valid_count():
    pred, true = _batch(shape=(2, 2, 4, 4, 1), seed=6, missing=0.0)
    mask = np.ones(true.shape, bool)
    mask[:, 1, :3] = False  # the second step keeps a quarter of its pixels
    errors = ErrorAccumulator(2)
    errors.add(pred, true, mask)
    got = errors.result()
    error = (pred.astype("float64") - true)[mask]
    np.testing.assert_allclose(got["mse"], np.mean(error**2), rtol=1e-12)
    assert not np.isclose(got["mse"], np.mean(got["per_lead_time"]["mse"]))
    mask[:, 1] = False  # no valid pixel at all in the second step
    errors.reset()
    errors.add(pred, true, mask)
    assert np.isnan(errors.result()["per_lead_time"]["mse"][1])


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="Received: output_length=0"):
        ErrorAccumulator(0)
    errors = ErrorAccumulator(3, latitudes=[10.0, 0.0])
    with pytest.raises(ValueError, match="No batch was added"):
        errors.result()
    pred, true = _batch()
    with pytest.raises(ValueError, match="same shape"):
        errors.add(pred, true[:, :2])
    with pytest.raises(ValueError, match="Expected 2 lead times"):
        ErrorAccumulator(2).add(pred, true)
    with pytest.raises(
        ValueError, match="`latitudes` has 2 rows but the batch has H=5"
    ):
        errors.add(pred, true)
    with pytest.raises(ValueError, match="boolean array"):
        ErrorAccumulator(3).add(pred, true, np.ones((5, 6, 1)))
