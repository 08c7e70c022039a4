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


def _named(metrics, spatial_norm):
    """The names of what the reference's `spatial_norm` computes: without it,
    its MSE/MAE/RMSE are the per-frame sums `frame_*`."""
    if spatial_norm:
        return tuple(metrics)
    return tuple(f"frame_{m}" if m in ("mse", "mae", "rmse") else m for m in metrics)


def _renamed(reference, spatial_norm):
    names = dict(zip(ALL, _named(ALL, spatial_norm)))
    return {names.get(key, key): value for key, value in reference.items()}


@pytest.mark.parametrize("spatial_norm", [False, True])
@pytest.mark.parametrize(
    "shape", [(2, 3, 16, 16, 1), (3, 2, 12, 20, 2), (1, 2, 9, 11, 3)]
)
def test_random_arrays_match_reference(shape, spatial_norm):
    pred, true = _pair(shape)
    got = openstl_metrics(pred, true, metrics=_named(ALL, spatial_norm))
    reference = _reference(pred, true, metrics=ALL, spatial_norm=spatial_norm)
    _assert_close(got, _renamed(reference, spatial_norm))
    assert list(got) == list(_named(ALL, spatial_norm))
    assert all(isinstance(v, float) for v in got.values())


def test_names_say_what_they_compute():
    pred, true = _pair((2, 3, 8, 6, 2), seed=7)
    got = openstl_metrics(
        pred, true, metrics=("mse", "frame_mse", "mae", "frame_mae", "frame_rmse")
    )
    error = pred.astype("float64") - true
    np.testing.assert_allclose(got["mse"], np.mean(error**2), rtol=1e-5)
    np.testing.assert_allclose(got["mae"], np.mean(np.abs(error)), rtol=1e-5)
    np.testing.assert_allclose(got["frame_mse"], got["mse"] * 8 * 6 * 2, rtol=1e-5)
    np.testing.assert_allclose(got["frame_mae"], got["mae"] * 8 * 6 * 2, rtol=1e-5)
    np.testing.assert_allclose(got["frame_rmse"], np.sqrt(got["frame_mse"]))
    # The reference's `spatial_norm=True` does not change what a name means.
    assert openstl_metrics(pred, true, metrics=("frame_mse",), spatial_norm=True) == {
        "frame_mse": got["frame_mse"]
    }


def test_legacy_names_with_spatial_norm_false_warn_and_keep_their_values():
    pred, true = _pair((2, 2, 8, 8, 1), seed=8)
    with pytest.warns(FutureWarning, match="now named 'frame_mse'"):
        legacy = openstl_metrics(pred, true, metrics=("mse",), spatial_norm=False)
    assert legacy == {"mse": openstl_metrics(pred, true)["frame_mse"]}


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
    got = openstl_metrics(pred, true, metrics=_named(metrics, False))
    _assert_close(got, _renamed(_reference(pred, true, metrics=metrics), False))


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
    got = openstl_metrics(pred, true, metrics=("frame_mae", "psnr"))
    np.testing.assert_allclose(got["frame_mae"], 64.0)  # unclipped, frame sum
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


# ---------------------------------------------------------------- masks
def _masked_reference(pred, true, valid, metrics, spatial_norm=False, data_range=1.0):
    """The masked rules, frame by frame with boolean indexing."""
    pred = pred.astype("float64")
    true = true.astype("float64")
    n, t = pred.shape[:2]
    out = {}
    for name, fn in (("mse", np.square), ("mae", np.abs)):
        if spatial_norm:  # total valid error over the valid count
            out[name] = fn(pred[valid] - true[valid]).sum() / valid.sum()
        else:  # per-frame sums over the valid pixels, averaged over all frames
            frame_sums = [
                fn(pred[b, f][valid[b, f]] - true[b, f][valid[b, f]]).sum()
                for b in range(n)
                for f in range(t)
            ]
            out[name] = np.mean(frame_sums)
    out["rmse"] = np.sqrt(out["mse"])
    clipped = np.clip(pred, 0.0, 1.0)
    psnr, snr, ssim = [], [], []
    for b in range(n):
        for f in range(t):
            v = valid[b, f]
            if not v.any():
                continue
            p, y = clipped[b, f][v], true[b, f][v]
            mse = np.mean((p.astype("float32") - y.astype("float32")) ** 2)
            psnr.append(20.0 * np.log10(1.0 / np.sqrt(mse)))
            snr.append(10.0 * np.log10(np.mean(y**2) / np.mean((y - p) ** 2)))
            ssim.append(
                structural_similarity(
                    np.where(v, clipped[b, f], 0.0),
                    np.where(v, true[b, f], 0.0),
                    channel_axis=-1,
                    data_range=data_range,
                )
            )
    out.update(psnr=np.mean(psnr), snr=np.mean(snr), ssim=np.mean(ssim))
    return {key: out[key] for key in metrics}


def _masked_pair(shape, seed=0):
    """A prediction, targets with NaN, the static mask and the validity."""
    pred, true = _pair(shape, seed=seed)
    rng = np.random.default_rng(seed + 100)
    mask = rng.random(shape[2:4] + (1,)) > 0.3  # a static "land-sea" mask
    true[rng.random(shape) < 0.1] = np.nan  # and missing values
    valid = np.broadcast_to(mask, shape) & ~np.isnan(true)
    return pred, true, mask, valid


@pytest.mark.parametrize("spatial_norm", [False, True])
def test_masked_figures_match_reference(spatial_norm):
    pred, true, mask, valid = _masked_pair((2, 3, 16, 16, 2))
    names = _named(ALL, spatial_norm)
    got = openstl_metrics(pred, true, mask=mask, metrics=names)
    reference = _masked_reference(pred, true, valid, ALL, spatial_norm=spatial_norm)
    _assert_close(got, _renamed(reference, spatial_norm))
    assert list(got) == list(names)


def test_masked_denormalised_and_channel_groups():
    pred, true, mask, valid = _masked_pair((2, 2, 8, 8, 4), seed=1)
    mean, std = np.array([280.0, 5.0, 1.0, 0.0]), np.array([3.0, 0.5, 2.0, 1.0])
    got = openstl_metrics(
        pred,
        true,
        mask=mask,
        mean=mean,
        std=std,
        metrics=("mse", "mae", "rmse"),
        spatial_norm=True,
        channel_names=["a", "b"],
    )
    pred, true = pred * std + mean, true * std + mean
    for name, part in (("a", slice(0, 2)), ("b", slice(2, 4))):
        expected = _masked_reference(
            pred[..., part],
            true[..., part],
            valid[..., part],
            ("mse", "mae", "rmse"),
            spatial_norm=True,
        )
        for key, value in expected.items():
            np.testing.assert_allclose(got[f"{key}_{name}"], value, rtol=1e-5)
    np.testing.assert_allclose(got["mse"], (got["mse_a"] + got["mse_b"]) / 2)


def test_predictions_at_invalid_pixels_change_nothing():
    pred, true, mask, valid = _masked_pair((2, 2, 16, 16, 1), seed=2)
    other = np.where(valid, pred, 123.0).astype("float32")
    for spatial_norm in (False, True):
        names = _named(ALL, spatial_norm)
        first = openstl_metrics(pred, true, mask=mask, metrics=names)
        assert first == openstl_metrics(other, true, mask=mask, metrics=names)


def test_nan_targets_and_an_explicit_mask_give_the_same_figures():
    pred, true = _pair((2, 3, 12, 12, 1), seed=3)
    mask = np.random.default_rng(3).random(true.shape) > 0.2
    with_nan = np.where(mask, true, np.nan).astype("float32")
    for spatial_norm in (False, True):
        names = _named(ALL, spatial_norm)
        by_mask = openstl_metrics(pred, true, mask=mask, metrics=names)
        by_nan = openstl_metrics(pred, with_nan, metrics=names)
        _assert_close(by_mask, by_nan, rtol=1e-12)


def test_all_valid_mask_equals_the_unmasked_result():
    pred, true = _pair((2, 2, 10, 10, 2), seed=4)
    mask = np.ones((10, 10, 1), bool)
    assert openstl_metrics(pred, true, mask=mask, metrics=ALL) == openstl_metrics(
        pred, true, metrics=ALL
    )


def test_frames_without_valid_pixels_leave_the_quality_averages():
    pred, true = _pair((1, 3, 8, 8, 1), seed=5)
    mask = np.ones(true.shape, bool)
    mask[0, 1] = False  # the whole second frame is invalid
    got = openstl_metrics(pred, true, mask=mask, metrics=("frame_mse", "psnr"))
    kept = [0, 2]
    expected = _reference(pred[:, kept], true[:, kept], metrics=("mse", "psnr"))
    np.testing.assert_allclose(got["psnr"], expected["psnr"], rtol=1e-6)
    # Per-frame sums average over all frames; the empty one adds 0.
    np.testing.assert_allclose(got["frame_mse"], expected["mse"] * 2 / 3, rtol=1e-6)
    nothing = openstl_metrics(
        pred, true, mask=np.zeros_like(mask), metrics=_named(ALL, False)
    )
    assert all(np.isnan(nothing[key]) for key in ("psnr", "snr", "ssim"))
    assert nothing["frame_mse"] == 0.0


def test_mask_errors_name_the_problem():
    pred, true = _pair((1, 2, 8, 8, 1))
    with pytest.raises(ValueError, match="boolean array .* mask.dtype=float64"):
        openstl_metrics(pred, true, mask=np.ones((8, 8, 1)))
    with pytest.raises(ValueError, match="broadcastable .* mask.shape=\\(7, 8\\)"):
        openstl_metrics(pred, true, mask=np.ones((7, 8), bool))
