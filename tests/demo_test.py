"""`keras-svq demo` end to end (minutes on 2 CPU cores: CI's integration pass)."""

import json

import pytest

from keras_svq.cli import main


@pytest.mark.integration
def test_demo_prints_every_lead_time_and_writes_results(tmp_path, capsys):
    args = ["demo", "--output-dir", str(tmp_path), "--epochs", "1", "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    models = (
        "SimVP (gSTA) residual",
        "SimVP (gSTA) residual + SVQ",
        "persistence",
        "climatology",
    )
    lines = out.splitlines()
    for lead in range(1, 13):
        for name in models:
            assert any(line.startswith(f"+{lead:>2} h  {name} ") for line in lines), (
                lead,
                name,
            )
    assert "MSESS vs persistence" in out
    assert "SVQ vs no quantizer" in out and "persistence at every lead time" in out
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["units"] == "K"
    assert set(results["per_lead_time"]["rmse"]) == set(models)
    for values in results["per_lead_time"]["rmse"].values():
        assert len(values) == 12
    assert set(results["baselines"]) == {"persistence", "climatology"}
    for name in (
        "training_curves.png",
        "skill_score.png",
        "comparison.png",
        "forecast_simvp_gsta_residual.png",
        "forecast_simvp_gsta_svq_frozen_residual.png",
    ):
        assert (tmp_path / name).stat().st_size > 0
    # Running it again reuses the finished runs; other files in the folder are refused.
    assert main(args) == 0
    assert "== training" not in capsys.readouterr().out
    (tmp_path / "mine.txt").write_text("x")
    assert main(args) == 2
