"""A small copy of the study in bench/RESULTS.md ("Does SVQ help?"): the same
`keras-svq compare` command on the shipped ERA5 sample, 2 seeds, 1 short epoch."""

import json

import pytest

from keras_svq.cli import main


@pytest.mark.slow
def test_small_study_on_era5(tmp_path, capsys):
    out = tmp_path / "era5_uk"
    args = ["compare", "--preset", "era5_uk/simvp_gsta_residual"]
    args += ["--preset", "era5_uk/simvp_gsta_svq_frozen_residual"]
    args += ["--seeds", "0", "1", "--output-dir", str(out), "--quiet", "--jobs", "2"]
    args += ["--set", "training.epochs=1", "--set", "training.steps_per_epoch=4"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "simvp_gsta_svq_frozen_residual vs era5_uk/simvp_gsta_residual" in printed
    doc = json.loads((out / "comparison.json").read_text())
    assert doc["dataset"] == "era5_t2m_uk" and doc["units"] == ["K"]
    assert doc["seeds"] == [0, 1]
    residual, svq = doc["models"]
    for entry in doc["models"]:
        rmse = entry["per_lead_time"]["rmse"]
        assert len(rmse["mean"]) == 12 and all(ci is not None for ci in rmse["ci95"])
        skill = entry["skill"]["vs_persistence"]["per_lead_time"]["mean"]
        assert len(skill) == 12
    assert set(svq["paired_vs_first"]["mse"]) >= {"mean_diff", "ci95", "p_value"}
    persistence = doc["baselines"]["persistence"]["per_lead_time"]["rmse"]
    climatology = doc["baselines"]["climatology"]["per_lead_time"]["rmse"]
    # Persistence is near-perfect at +1 h and degrades; climatology is flat.
    assert persistence[0] < 0.7 < 2.5 < persistence[-1]
    assert max(climatology) - min(climatology) < 0.2
