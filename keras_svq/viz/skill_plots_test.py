import numpy as np
import pytest

from keras_svq.metrics import persistence_forecast
from keras_svq.viz import skill_plots
from keras_svq.viz.figures import save_figure
from keras_svq.viz.viz_testing import assert_png
from keras_svq.viz.viz_testing import era5_windows


def test_skill_per_lead_matches_numpy():
    x, y, _ = era5_windows(num_examples=4)
    pred = np.asarray(persistence_forecast(x, y.shape[1]))
    skill = skill_plots.skill_per_lead_time(pred, y)
    expected = np.mean((pred - y) ** 2, axis=(0, 2, 3, 4))
    np.testing.assert_allclose(skill["mse"], expected, rtol=1e-4)
    assert len(skill["mae"]) == y.shape[1]


def test_skill_chart_with_baseline_and_image_metrics(tmp_path):
    rng = np.random.default_rng(0)
    true = rng.uniform(size=(3, 4, 16, 16, 1)).astype("float32")
    runs = {
        "noisy": skill_plots.skill_per_lead_time(
            np.clip(true + rng.normal(0, 0.1, true.shape), 0, 1),
            true,
            metrics=("mse", "mae", "ssim", "psnr"),
        ),
        "noisier": {
            "per_lead_time": skill_plots.skill_per_lead_time(
                np.clip(true + rng.normal(0, 0.2, true.shape), 0, 1),
                true,
                metrics=("mse", "mae", "ssim", "psnr"),
            )
        },
    }
    baseline = {"mse": [1.0, 2.0, 3.0, 4.0]}
    figure = skill_plots.plot_skill_by_lead(
        runs, baseline=baseline, time_step="1h", units="K"
    )
    assert len(figure.axes) == 4
    mse_axis = figure.axes[0]
    assert [line.get_label() for line in mse_axis.get_lines()] == [
        "noisy",
        "noisier",
        "persistence",
    ]
    assert "higher is better" in figure.axes[2].get_ylabel()
    assert_png(save_figure(figure, tmp_path / "skill.png"), figure)


def test_skill_chart_errors():
    with pytest.raises(ValueError, match="is empty"):
        skill_plots.plot_skill_by_lead({})
    with pytest.raises(ValueError, match="Missing"):
        skill_plots.plot_skill_by_lead(
            {"a": {"mse": [1]}, "b": {"mae": [1]}}, metrics=["mse"]
        )
    with pytest.raises(ValueError, match="per-lead-time lists"):
        skill_plots.plot_skill_by_lead({"a": [1, 2]})


def test_skill_chart_units_and_sample_size():
    runs = {"model": {"mse": [1.0, 2.0], "mae": [1.0, 1.5], "rmse": [1.0, 1.4]}}
    taxi = ("trips per 30 min", "trips per 30 min")
    figure = skill_plots.plot_skill_by_lead(
        runs, units=taxi, num_examples=(64, 857), title="Skill, test split"
    )
    assert [ax.get_ylabel() for ax in figure.axes] == [
        "MSE [(trips per 30 min)^2]",
        "MAE [trips per 30 min]",
        "RMSE [trips per 30 min]",
    ]
    assert figure._suptitle.get_text() == "Skill, test split (n=64 of 857)"
    figure = skill_plots.plot_skill_by_lead(runs, units="K", num_examples=(857, 857))
    assert figure.axes[0].get_ylabel() == "MSE [K^2]"
    assert figure._suptitle.get_text() == "Skill per lead time (n=857)"
    # Channels in different units: a channel-mean has no unit.
    figure = skill_plots.plot_skill_by_lead(runs, units=("K", "m/s"))
    assert figure.axes[0].get_ylabel() == "MSE"
    figure = skill_plots.plot_skill_scores(
        {"model": {"vs_persistence": [0.3, 0.6]}}, num_examples=857
    )
    assert figure._suptitle.get_text() == "MSE skill score (n=857)"
