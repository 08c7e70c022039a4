"""`keras-svq demo` end to end (minutes on 2 CPU cores: slow)."""

import json

import pytest

from keras_svq.cli import main


@pytest.mark.slow
def test_demo_prints_the_table_and_writes_plots(tmp_path, capsys):
    assert (
        main(["demo", "--output-dir", str(tmp_path), "--epochs", "1", "--quiet"]) == 0
    )
    out = capsys.readouterr().out
    for row in ("SimVP (gSTA)", "SimVP (gSTA) + SVQ", "persistence"):
        assert row in out
    assert "mse" in out and "rmse" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["units"] == "K"
    assert set(results["models"]) == {
        "SimVP (gSTA)",
        "SimVP (gSTA) + SVQ",
        "persistence",
    }
    for name in (
        "training_curves.png",
        "forecast_simvp_gsta.png",
        "forecast_simvp_gsta_svq_frozen.png",
    ):
        assert (tmp_path / name).stat().st_size > 0
    # Running it again reuses the finished runs; other files in the folder are refused.
    assert (
        main(["demo", "--output-dir", str(tmp_path), "--epochs", "1", "--quiet"]) == 0
    )
    (tmp_path / "mine.txt").write_text("x")
    assert main(["demo", "--output-dir", str(tmp_path), "--epochs", "1"]) == 2
