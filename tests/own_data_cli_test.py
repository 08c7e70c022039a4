"""Own data with a real land/sea mask, end to end: train -> evaluate -> predict -> export.

The field is the shipped ERA5 2 m temperature over the UK; land pixels come
from a real land/sea mask (`global-land-mask`, GLOBE 1 km land data, NOAA) at
the grid's coordinates. Two runs:

- "sst": land is NaN in every frame, as in a sea-surface-temperature file
  (`nan_policy: fill`), on the raw 33 x 49 grid padded to 34 x 50;
- "mask": the full field with the land/sea mask given as `data.mask`, so
  the land values are real numbers the model must not see or be scored on.
"""

import json

import numpy as np
import pytest
from cli_fixtures import tiny_config
from cli_fixtures import write_config

from keras_svq.cli import main
from keras_svq.testing.reference import shared_data_path
from keras_svq.testing.test_case import run_saved_model_in_fresh_process

pytestmark = pytest.mark.integration

globe = pytest.importorskip("global_land_mask.globe")

FRAMES = 160


def _era5():
    with np.load(shared_data_path("era5_t2m_uk_2019-03_hourly.npz")) as data:
        t2m, lat, lon = data["t2m"][:FRAMES], data["lat"], data["lon"]
    lon_grid, lat_grid = np.meshgrid(lon, lat)
    land = globe.is_land(lat_grid, lon_grid)
    return t2m.astype("float32"), lat, lon, land


def _config(array, extra):
    config = tiny_config(array, svq=False, steps_per_epoch=4, validation_steps=2)
    config["model"].update(height=34, width=50)
    config["data"].update(batch_size=8, **extra)
    return config


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("own_data")
    t2m, lat, lon, land = _era5()
    sst = t2m.copy()
    sst[:, land] = np.nan
    np.savez(root / "sst.npz", sst=sst, lat=lat, lon=lon)
    np.save(root / "t2m.npy", t2m)
    np.save(root / "sea.npy", ~land)
    setups = {
        "sst": (root / "sst.npz", {"nan_policy": "fill", "pad_to_multiple": 2}),
        "mask": (
            root / "t2m.npy",
            {"mask": str(root / "sea.npy"), "pad_to_multiple": 2},
        ),
    }
    out = {"root": root, "t2m_field": t2m, "sst_field": sst, "land": land}
    for name, (array, extra) in setups.items():
        config = write_config(root / f"{name}.yaml", _config(array, extra))
        run = root / f"run_{name}"
        argv = ["train", "--config", str(config), "--output-dir", str(run), "--quiet"]
        assert main(argv) == 0
        out[name] = run
    return out


def _test_windows(field, n=6):
    """Raw windows of the test split (the last 15% of the frames), and targets."""
    start = FRAMES - int(round(0.15 * FRAMES))
    x = np.stack([field[start + i : start + i + 4] for i in range(n)])[..., None]
    y = np.stack([field[start + i + 4 : start + i + 8] for i in range(n)])[..., None]
    return x.astype("float32"), y.astype("float32")


def _predict(run, x, path, *extra):
    np.savez(path.with_suffix(".in.npz"), inputs=x)
    argv = ["predict", "--run", str(run), "--input", str(path.with_suffix(".in.npz"))]
    assert main([*argv, "--output", str(path), "--overwrite", *extra]) == 0
    with np.load(path) as data:
        return data["forecast"]


def test_run_folder_remembers_the_transform(runs):
    info = json.loads((runs["sst"] / "run.json").read_text())
    transform = info["forecast_transform"]
    assert transform["preprocessing"]["input_shape"] == [33, 49]
    assert transform["preprocessing"]["pad_to_multiple"] == 2
    assert len(info["coords"]["lat"]) == 34  # the padded model grid
    with np.load(runs["sst"] / "data_masks.npz") as masks:
        valid = masks["valid_mask"]
    assert valid.shape == (34, 50, 1)
    np.testing.assert_array_equal(valid[:33, :49, 0], ~runs["land"])
    assert not valid[33].any() and not valid[:, 49].any()  # padding


def test_evaluate_scores_valid_pixels_only(runs, capsys):
    run = runs["sst"]
    assert main(["evaluate", "--run", str(run), "--num-plots", "0"]) == 0
    printed = capsys.readouterr().out
    assert "over valid pixels only" in printed and "Unmasked" in printed
    assert "rmse_lat_weighted" in printed
    metrics = json.loads((run / "evaluation/metrics.json").read_text())
    sea_fraction = (~runs["land"]).sum() / (34 * 50)
    assert metrics["valid_fraction"] == pytest.approx(sea_fraction, rel=1e-6)
    assert metrics["latitude_weighted"] is True
    assert set(metrics["masked"]) == {"model", "persistence", "climatology"}
    # The persistence baseline: an independent numpy computation over the sea.
    x, y = _test_windows(runs["sst_field"], n=metrics["num_test_examples"])
    persistence = np.repeat(x[:, -1:], 4, axis=1)
    sea = np.broadcast_to(~runs["land"][None, None, :, :, None], y.shape)
    error = (persistence - y)[sea]
    expected_mse = float(np.mean(error.astype("float64") ** 2))
    assert metrics["persistence_physical"]["mse"] == pytest.approx(
        expected_mse, rel=1e-4
    )
    assert metrics["masked"]["persistence"]["mae"] == pytest.approx(
        float(np.mean(np.abs(error))), rel=1e-4
    )
    # The model's masked scores equal numpy's on the forecasts `predict` gives.
    forecast = _predict(run, x, runs["root"] / "eval_forecast.npz")
    model_error = (forecast - y)[sea].astype("float64")
    assert metrics["physical"]["mse"] == pytest.approx(
        float(np.mean(model_error**2)), rel=1e-3
    )
    lead_mse = [np.mean(((forecast - y)[:, t][sea[:, t]]) ** 2) for t in range(4)]
    np.testing.assert_allclose(
        metrics["physical"]["per_lead_time"]["mse"], lead_mse, rtol=1e-3
    )
    # Unmasked figures score land at the training mean: they differ.
    assert metrics["unmasked"]["persistence"]["mse"] != pytest.approx(expected_mse)


def test_predict_fills_nan_inputs_and_returns_nan_on_land(runs):
    x, _ = _test_windows(runs["sst_field"])
    forecast = _predict(runs["sst"], x, runs["root"] / "forecast.npz")
    assert forecast.shape == (6, 4, 33, 49, 1)
    land = np.broadcast_to(runs["land"][None, None, :, :, None], forecast.shape)
    assert np.isfinite(forecast[~land]).all() and np.isnan(forecast[land]).all()
    assert 270 < np.nanmean(forecast) < 290  # kelvin
    processed = _predict(
        runs["sst"], x, runs["root"] / "processed.npz", "--processed-grid"
    )
    assert processed.shape == (6, 4, 34, 50, 1)
    np.testing.assert_allclose(processed[:, :, :33, :49], forecast, rtol=1e-6)
    coded = _predict(
        runs["sst"], x, runs["root"] / "coded.npz", "--fill-value", "-9999"
    )
    assert (coded[land] == -9999).all()
    np.testing.assert_allclose(coded[~land], forecast[~land], rtol=1e-6)
    empty = np.full_like(x[:1], np.nan)
    np.savez(runs["root"] / "empty.npz", inputs=empty)
    argv = ["predict", "--run", str(runs["sst"]), "--input"]
    argv += [str(runs["root"] / "empty.npz"), "--output", str(runs["root"] / "e.npz")]
    assert main(argv) == 2


def test_mask_hides_land_from_the_model(runs):
    x, _ = _test_windows(runs["t2m_field"])
    changed = x.copy()
    changed[:, :, runs["land"]] += 25.0  # nonsense over land only
    a = _predict(runs["mask"], x, runs["root"] / "a.npz")
    b = _predict(runs["mask"], changed, runs["root"] / "b.npz")
    sea = ~runs["land"]
    np.testing.assert_array_equal(a[:, :, sea], b[:, :, sea])
    assert np.isnan(a[:, :, runs["land"]]).all()


def test_saved_model_applies_the_run_transform(runs):
    run, root = runs["sst"], runs["root"]
    export_dir = root / "export_sst"
    assert main(["export", "--run", str(run), "--output", str(export_dir)]) == 0
    signature = json.loads((export_dir / "signature.json").read_text())
    assert signature["signatures"]["serving_default"]["inputs"]["shape"] == [
        None,
        4,
        33,
        49,
        1,
    ]
    x, _ = _test_windows(runs["sst_field"])
    result = run_saved_model_in_fresh_process(
        export_dir, x, root / "served.npy", endpoint="serving_default"
    )
    assert not result.get("keras_svq_imported") and not result.get("keras_imported")
    served = np.load(root / "served.npy")
    land = np.broadcast_to(runs["land"][None, None, :, :, None], served.shape)
    assert np.isfinite(served[~land]).all() and np.isnan(served[land]).all()
    expected = _predict(run, x, root / "forecast_for_export.npz")
    np.testing.assert_allclose(served[~land], expected[~land], rtol=1e-5, atol=1e-3)


def test_counts_in_many_sequences_with_codes_coarsened_and_nonnegative(tmp_path):
    """Real taxi counts, one sequence per day, with a sensor's 65535 dropout code."""
    with np.load(shared_data_path("nyc_taxi_flow_30min.npz")) as data:
        flow = data["taxi_flow"][: 30 * 48]
    days = flow.reshape(30, 48, 16, 12, 2).copy()
    days[3, 10:12, 4, 5, 0] = 65535  # a dropout
    np.save(tmp_path / "days.npy", days)
    config = tiny_config(tmp_path / "days.npy", svq=False, steps_per_epoch=3)
    config["model"].update(height=8, width=6, channels=2)
    config["model"]["output_constraint"] = "nonnegative"
    config["data"].update(
        batch_size=8,
        missing_value=65535,
        nan_policy="fill",
        coarsen=2,
        split=[20, 5, 5],
        normalization="minmax",
    )
    path = write_config(tmp_path / "days.yaml", config)
    run = tmp_path / "run"
    argv = ["train", "--config", str(path), "--output-dir", str(run), "--quiet"]
    assert main(argv) == 0
    info = json.loads((run / "run.json").read_text())
    assert info["dataset"]["splits"] == {"train": 20, "val": 5, "test": 5}
    assert info["forecast_transform"]["missing_value"] == [65535.0]
    # Raw windows on the original 16 x 12 grid, codes included.
    x = days[25:28, :4].astype("float32")
    x[0, 1, 4, 5, 0] = 65535
    forecast = _predict(run, x, tmp_path / "forecast.npz")
    assert forecast.shape == (3, 4, 16, 12, 2)
    assert np.isfinite(forecast).all() and forecast.min() >= 0.0
    # Each 2 x 2 block holds one value (coarsened, then repeated back).
    np.testing.assert_array_equal(
        forecast[:, :, 0::2, 0::2], forecast[:, :, 1::2, 1::2]
    )
