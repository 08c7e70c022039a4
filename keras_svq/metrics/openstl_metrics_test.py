"""`openstl_metrics` against an independent numpy re-implementation of OpenSTL's formulas."""

import numpy as np
import pytest
from skimage.metrics import structural_similarity

from keras_svq.metrics import openstl_metrics
from keras_svq.testing import shared_data_path


# ---------------------------------------------------------------- reference
# Written from OpenSTL's `openstl/core/metrics.py` formulas, on its channels-first
# (N, T, C, H, W) layout, one frame at a time where the reference loops.
def _reference(
    pred,
    true,
    mean=None,
    std=None,
    metrics=("mae", "mse"),
    spatial_norm=False,
    clip_range=(0, 1),
    data_range=1.0,
):
    pred = np.moveaxis(pred, -1, 2).astype("float64")
    true = np.moveaxis(true, -1, 2).astype("float64")
    if mean is not None:
        m = np.asarray(mean).reshape(1, 1, -1, 1, 1)
        s = np.asarray(std).reshape(1, 1, -1, 1, 1)
        pred, true = pred * s + m, true * s + m
    norm = pred.shape[-1] * pred.shape[-2] * pred.shape[-3] if spatial_norm else 1
    out = {}
    if "mse" in metrics:
        out["mse"] = np.mean((pred - true) ** 2 / norm, axis=(0, 1)).sum()
    if "mae" in metrics:
        out["mae"] = np.mean(np.abs(pred - true) / norm, axis=(0, 1)).sum()
    if "rmse" in metrics:
        out["rmse"] = np.sqrt(np.mean((pred - true) ** 2 / norm, axis=(0, 1)).sum())
    pred = np.minimum(np.maximum(pred, clip_range[0]), clip_range[1])
    n, t = pred.shape[:2]
    if "ssim" in metrics:
        total = 0.0
        for b in range(n):
            for f in range(t):
                total += structural_similarity(
                    pred[b, f].swapaxes(0, 2),
                    true[b, f].swapaxes(0, 2),
                    channel_axis=-1,
                    data_range=data_range,
                )
        out["ssim"] = total / (n * t)
    if "psnr" in metrics:
        total = 0.0
        for b in range(n):
            for f in range(t):
                mse = np.mean(
                    (pred[b, f].astype(np.float32) - true[b, f].astype(np.float32)) ** 2
                )
                total += 20.0 * np.log10(1.0 / np.sqrt(mse))
        out["psnr"] = total / (n * t)
    if "snr" in metrics:
        total = 0.0
        for b in range(n):
            for f in range(t):
                total += 10.0 * np.log10(
                    (true[b, f] ** 2).mean() / ((true[b, f] - pred[b, f]) ** 2).mean()
                )
        out["snr"] = total / (n * t)
    return out


def _assert_close(actual, expected, rtol=1e-5):
    assert set(expected) <= set(actual), (actual, expected)
    for key, value in expected.items():
        np.testing.assert_allclose(actual[key], value, rtol=rtol, err_msg=key)


def _pair(shape, seed=0, noise=0.2):
    rng = np.random.default_rng(seed)
    true = rng.random(shape).astype("float32")
    pred = (true + noise * rng.standard_normal(shape)).astype("float32")
    return pred, true


ALL = ("mse", "mae", "rmse", "ssim", "psnr", "snr")


@pytest.mark.parametrize("spatial_norm", [False, True])
@pytest.mark.parametrize(
    "shape", [(2, 3, 16, 16, 1), (3, 2, 12, 20, 2), (1, 2, 9, 11, 3)]
)
def test_random_arrays_match_reference(shape, spatial_norm):
    pred, true = _pair(shape)
    got = openstl_metrics(pred, true, metrics=ALL, spatial_norm=spatial_norm)
    _assert_close(got, _reference(pred, true, metrics=ALL, spatial_norm=spatial_norm))
    assert list(got) == list(ALL)
    assert all(isinstance(v, float) for v in got.values())


def test_denormalisation_like_reference():
    pred, true = _pair((2, 4, 10, 12, 2), seed=1)
    mean, std = np.array([280.0, 5.0]), np.array([3.0, 0.5])
    got = openstl_metrics(
        pred,
        true,
        mean=mean,
        std=std,
        metrics=("mse", "mae", "rmse"),
        spatial_norm=True,
    )
    _assert_close(
        got,
        _reference(pred, true, mean, std, ("mse", "mae", "rmse"), spatial_norm=True),
    )


def test_ssim_reference_data_range_of_two():
    pred, true = _pair((2, 2, 16, 16, 1), seed=2, noise=0.1)
    got = openstl_metrics(pred, true, metrics=("ssim",), ssim_data_range=2.0)
    _assert_close(got, _reference(pred, true, metrics=("ssim",), data_range=2.0))
    default = openstl_metrics(pred, true, metrics=("ssim",))
    assert default["ssim"] != got["ssim"]


def test_real_era5_windows():
    with np.load(shared_data_path("era5_t2m_uk_2019-03_hourly.npz")) as data:
        t2m = data["t2m"][:48, :, :, None]
    mean, std = t2m.mean(), t2m.std()
    z = (t2m - mean) / std
    true = np.stack([z[12:24], z[24:36]])
    pred = np.stack(
        [np.repeat(z[11:12], 12, 0), np.repeat(z[23:24], 12, 0)]
    )  # persistence
    got = openstl_metrics(
        pred,
        true,
        mean=[mean],
        std=[std],
        metrics=("mse", "rmse", "mae"),
        spatial_norm=True,
    )
    _assert_close(
        got,
        _reference(
            pred, true, [mean], [std], ("mse", "rmse", "mae"), spatial_norm=True
        ),
    )
    assert 0.1 < got["rmse"] < 10.0  # kelvin


def test_real_taxi_flows():
    with np.load(shared_data_path("nyc_taxi_flow_30min.npz")) as data:
        flow = data["taxi_flow"][:64].astype("float32") / 1518.0
    true = flow[8:].reshape(7, 8, 16, 12, 2)[:, 4:]
    pred = flow[:56].reshape(7, 8, 16, 12, 2)[:, 4:]
    metrics = ("mse", "mae", "ssim", "psnr")
    got = openstl_metrics(pred, true, metrics=metrics)
    _assert_close(got, _reference(pred, true, metrics=metrics))


def test_channel_names_groups():
    pred, true = _pair((2, 2, 8, 8, 4), seed=3)
    got = openstl_metrics(
        pred,
        true,
        metrics=("mse", "mae", "rmse"),
        channel_names=["a", "b"],
        spatial_norm=True,
    )
    first = _reference(
        pred[..., :2], true[..., :2], metrics=("mse",), spatial_norm=True
    )["mse"]
    second = _reference(
        pred[..., 2:], true[..., 2:], metrics=("mse",), spatial_norm=True
    )["mse"]
    np.testing.assert_allclose(got["mse_a"], first, rtol=1e-5)
    np.testing.assert_allclose(got["mse_b"], second, rtol=1e-5)
    np.testing.assert_allclose(got["mse"], (first + second) / 2, rtol=1e-5)
    np.testing.assert_allclose(
        got["rmse"], (np.sqrt(first) + np.sqrt(second)) / 2, rtol=1e-5
    )


def test_clip_applies_to_quality_metrics_only():
    true = np.full((1, 1, 8, 8, 1), 0.5, "float32")
    pred = np.full_like(true, 1.5)
    got = openstl_metrics(pred, true, metrics=("mae", "psnr"))
    np.testing.assert_allclose(got["mae"], 64.0)  # unclipped, summed over the frame
    np.testing.assert_allclose(
        got["psnr"], 20 * np.log10(1 / 0.5), rtol=1e-6
    )  # clipped to 1


def test_perfect_prediction_psnr_is_inf():
    _, true = _pair((1, 2, 8, 8, 1))
    assert openstl_metrics(true, true, metrics=("psnr",))["psnr"] == np.inf


def test_errors_name_the_problem():
    pred, true = _pair((1, 2, 8, 8, 1))
    with pytest.raises(ValueError, match="Unsupported metrics \\['bogus'\\]"):
        openstl_metrics(pred, true, metrics=("mse", "bogus"))
    with pytest.raises(ValueError, match="same shape"):
        openstl_metrics(pred, true[:, :1])
    with pytest.raises(ValueError, match="cannot be split into 3 groups"):
        openstl_metrics(pred, true, channel_names=["a", "b", "c"])
