"""Streaming Keras metrics equal `openstl_metrics` over the batches they have seen."""

import keras
import numpy as np
import pytest

from keras_svq.metrics import LPIPS
from keras_svq.metrics import PSNR
from keras_svq.metrics import SSIM
from keras_svq.metrics import ForecastMAE
from keras_svq.metrics import ForecastMSE
from keras_svq.metrics import ForecastRMSE
from keras_svq.metrics import openstl_metrics


def _pair(shape, seed=0):
    rng = np.random.default_rng(seed)
    true = rng.random(shape).astype("float32")
    pred = (true + 0.2 * rng.standard_normal(shape)).astype("float32")
    return pred, true


def _stream(metric, pred, true, batch=2):
    for i in range(0, len(pred), batch):
        metric.update_state(true[i : i + batch], pred[i : i + batch])
    return float(metric.result())


CASES = [
    (ForecastMSE, {}, "frame_mse", {}),
    (ForecastMAE, {}, "frame_mae", {}),
    (ForecastRMSE, {}, "frame_rmse", {}),
    (ForecastMSE, {"spatial_norm": True}, "mse", {}),
    (ForecastMAE, {"spatial_norm": True}, "mae", {}),
    (
        ForecastRMSE,
        {"spatial_norm": True, "mean": [280.0, 1.0], "std": [3.0, 2.0]},
        "rmse",
        {"mean": [280.0, 1.0], "std": [3.0, 2.0]},
    ),
    (SSIM, {}, "ssim", {}),
    (SSIM, {"data_range": 2.0}, "ssim", {"ssim_data_range": 2.0}),
    (PSNR, {}, "psnr", {}),
]


@pytest.mark.parametrize("cls, kwargs, key, reference_kwargs", CASES)
def test_matches_openstl_metrics(cls, kwargs, key, reference_kwargs):
    pred, true = _pair((5, 3, 12, 14, 2))
    metric = cls(**kwargs)
    assert metric.name == key  # named by what it computes
    got = _stream(metric, pred, true)
    expected = openstl_metrics(pred, true, metrics=(key,), **reference_kwargs)[key]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    metric.reset_state()
    assert float(metric.result()) == 0.0 or key.endswith("rmse")
    clone = cls.from_config(metric.get_config())
    np.testing.assert_allclose(_stream(clone, pred, true), expected, rtol=1e-5)


def test_lpips_metric_matches_openstl_metrics():
    pred, true = _pair((2, 2, 32, 32, 1), seed=1)
    expected = openstl_metrics(pred, true, metrics=("lpips",))["lpips"]
    np.testing.assert_allclose(
        _stream(LPIPS(), pred, true, batch=1), expected, rtol=1e-5
    )


def test_sample_weight_weights_sequences():
    pred, true = _pair((4, 2, 8, 8, 1), seed=2)
    metric = ForecastMSE()
    metric.update_state(true, pred, sample_weight=np.array([1.0, 1.0, 0.0, 0.0]))
    expected = openstl_metrics(pred[:2], true[:2])["frame_mse"]
    np.testing.assert_allclose(float(metric.result()), expected, rtol=1e-5)


def test_usable_in_compile_and_saved_model(tmp_path):
    inputs = keras.Input((2, 8, 8, 1))
    model = keras.Model(inputs, keras.layers.Conv3D(1, 1)(inputs))
    model.compile(
        optimizer="sgd",
        loss="mse",
        metrics=[
            ForecastMSE(),
            ForecastMAE(),
            ForecastRMSE(spatial_norm=True),
            SSIM(),
            PSNR(),
        ],
    )
    pred, true = _pair((4, 2, 8, 8, 1))
    history = model.fit(pred, true, batch_size=2, epochs=1, verbose=0)
    # Keras' "mse" beside the loss would be a per-element mean: OpenSTL's
    # per-frame sum is logged as "frame_mse".
    assert {"frame_mse", "frame_mae", "rmse", "ssim", "psnr"} <= set(history.history)
    assert "mse" not in history.history
    scores = model.evaluate(pred, true, batch_size=4, verbose=0, return_dict=True)
    reference = openstl_metrics(
        np.asarray(model.predict(pred, verbose=0)), true, metrics=("frame_mse", "ssim")
    )
    np.testing.assert_allclose(scores["frame_mse"], reference["frame_mse"], rtol=1e-4)
    np.testing.assert_allclose(scores["ssim"], reference["ssim"], rtol=1e-4)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert [m.name for m in reloaded.metrics]  # reloads without custom_objects


def test_lpips_in_compiled_evaluate():
    inputs = keras.Input((1, 32, 32, 1))
    model = keras.Model(inputs, keras.layers.Conv3D(1, 1)(inputs))
    model.compile(loss="mse", metrics=[LPIPS()])
    pred, true = _pair((2, 1, 32, 32, 1), seed=4)
    scores = model.evaluate(pred, true, batch_size=2, verbose=0, return_dict=True)
    expected = openstl_metrics(model.predict(pred, verbose=0), true, metrics=("lpips",))
    np.testing.assert_allclose(scores["lpips"], expected["lpips"], rtol=1e-4)
