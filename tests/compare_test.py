"""`keras-svq compare`: intervals and paired tests over seeds, resume, same test split."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from cli_fixtures import tiny_config
from cli_fixtures import write_config
from cli_fixtures import write_series

from keras_svq.cli import main
from keras_svq.training import compare

pytestmark = pytest.mark.integration


def _evaluation(mse, mae, lead_mse, fingerprint="f", skill=0.5):
    lead_mse = list(lead_mse)
    return {
        "physical": {
            "mse": mse,
            "mae": mae,
            "rmse": mse**0.5,
            "per_lead_time": {
                "mse": lead_mse,
                "mae": [mae] * len(lead_mse),
                "rmse": [v**0.5 for v in lead_mse],
            },
        },
        "baselines": {
            "persistence": {
                "mse": 2.0,
                "mae": 1.0,
                "rmse": 2**0.5,
                "per_lead_time": {"mse": [1, 3], "mae": [1, 1], "rmse": [1, 3**0.5]},
            }
        },
        "skill": {
            "vs_persistence": {
                "mse_skill": skill,
                "per_lead_time": {"mse_skill": [skill, skill]},
            }
        },
        "test_fingerprint": fingerprint,
        "units": ["K"],
        "dataset": "fixed",
        "num_test_examples": 10,
    }


def test_summary_matches_scipy_on_fixed_numbers():
    stats = pytest.importorskip("scipy.stats")
    a = [1.00, 1.10, 0.95, 1.05, 1.02]
    b = [0.97, 1.12, 0.96, 0.99, 1.03]
    specs = [compare.ModelSpec("A", {}), compare.ModelSpec("B", {})]
    evaluations = {
        "A": {s: _evaluation(v, v / 2, [v - 0.1, v + 0.1]) for s, v in enumerate(a)},
        "B": {s: _evaluation(v, v / 2, [v - 0.2, v + 0.1]) for s, v in enumerate(b)},
    }
    doc = compare.summarize(evaluations, specs, list(range(5)))
    first, second = doc["models"]
    assert first["name"] == "A" and first["seeds"] == [0, 1, 2, 3, 4]
    assert first["test"]["mse"]["per_seed"] == a
    lo, hi = stats.t.interval(0.95, 4, loc=np.mean(b), scale=stats.sem(b))
    assert second["test"]["mse"]["mean"] == pytest.approx(np.mean(b))
    np.testing.assert_allclose(second["test"]["mse"]["ci95"], [lo, hi], rtol=1e-9)
    paired = second["paired_vs_first"]["mse"]
    expected = stats.ttest_rel(b, a)
    assert paired["p_value"] == pytest.approx(expected.pvalue, rel=1e-7)
    diff = np.subtract(b, a)
    assert paired["mean_diff"] == pytest.approx(diff.mean())
    lo, hi = stats.t.interval(0.95, 4, loc=diff.mean(), scale=stats.sem(diff))
    np.testing.assert_allclose(paired["ci95"], [lo, hi], rtol=1e-9)
    lead = second["paired_vs_first"]["per_lead_time"]["mse"][0]
    assert lead["mean_diff"] == pytest.approx(np.mean(np.subtract(b, a) - 0.1))
    assert "paired_vs_first" not in first
    assert set(doc["baselines"]) == {"persistence"}
    assert doc["baselines"]["persistence"]["per_lead_time"]["mse"] == [1, 3]
    # Any two models pair up by seed.
    again = compare.paired_from_record(doc, "B", "A")
    assert again["p_value"] == pytest.approx(paired["p_value"])
    sentence = compare.verdict(second, "A")
    assert "not different beyond the seed noise" in sentence
    table = compare.markdown_table(doc)
    assert "| B |" in table and "persistence (baseline)" in table


def test_verdict_states_a_difference_beyond_noise():
    specs = [compare.ModelSpec("A", {}), compare.ModelSpec("B", {})]
    a = [1.0, 1.1, 0.9]
    evaluations = {
        "A": {s: _evaluation(v, 1, [v, v]) for s, v in enumerate(a)},
        "B": {s: _evaluation(v - 0.3 + 0.01 * s, 1, [v, v]) for s, v in enumerate(a)},
    }
    doc = compare.summarize(evaluations, specs, [0, 1, 2])
    assert "lower (better) beyond the seed noise" in compare.verdict(
        doc["models"][1], "A"
    )


def _two_models(tmp_path, **training):
    series = write_series(tmp_path / "series.npy", frames=64)
    plain = write_config(
        tmp_path / "plain.yaml",
        tiny_config(series, svq=False, steps_per_epoch=2, **training),
    )
    svq = tiny_config(series, svq=True, steps_per_epoch=2, **training)
    svq["training"]["loss"] = "mse"
    return plain, write_config(tmp_path / "svq.yaml", svq), series


def test_compare_writes_the_comparison_reuses_runs_and_refuses_other_test_splits(
    tmp_path, capsys
):
    plain, svq, series = _two_models(tmp_path)
    out = tmp_path / "cmp"
    args = ["compare", "--config", str(plain), "--config", str(svq)]
    args += ["--seeds", "0", "1", "--output-dir", str(out), "--quiet"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "svq vs plain" in printed and "persistence" in printed
    doc = json.loads((out / "comparison.json").read_text())
    assert [m["name"] for m in doc["models"]] == ["plain", "svq"]
    for entry in doc["models"]:
        assert entry["seeds"] == [0, 1]
        mse = entry["test"]["mse"]
        assert (
            len(mse["per_seed"]) == 2
            and mse["ci95"][0] <= mse["mean"] <= mse["ci95"][1]
        )
        assert len(entry["per_lead_time"]["rmse"]["mean"]) == 4
    paired = doc["models"][1]["paired_vs_first"]["mse"]
    assert set(paired) >= {"mean_diff", "ci95", "p_value"}
    assert set(doc["baselines"]) == {"persistence", "climatology"}
    # Each seed is an ordinary run folder, evaluated beside the baselines.
    metrics = json.loads(
        (out / "svq" / "seed_1" / "evaluation" / "metrics.json").read_text()
    )
    assert doc["models"][1]["test"]["mse"]["per_seed"][1] == metrics["physical"]["mse"]
    rows = (out / "comparison.md").read_text().splitlines()
    assert sum(row.startswith("| svq |") for row in rows) == 1
    assert (out / "comparison.png").stat().st_size > 0

    # Again: nothing is retrained.
    weights = out / "plain" / "seed_0" / "checkpoints" / "best.weights.h5"
    stamp = weights.stat().st_mtime_ns
    assert main(args) == 0
    assert weights.stat().st_mtime_ns == stamp
    assert "== training" not in capsys.readouterr().out

    # A model evaluated on other test windows is refused.
    other = json.loads(json.dumps(tiny_config(series, svq=False, steps_per_epoch=2)))
    other["data"]["split"] = [0.5, 0.2, 0.3]
    other_path = write_config(tmp_path / "other.yaml", other)
    code = main(
        ["compare", "--config", str(plain), "--config", str(other_path), "--seeds", "0"]
        + ["--output-dir", str(out), "--quiet"]
    )
    assert code == 2
    assert "different test splits" in capsys.readouterr().err


def test_compare_refuses_bad_arguments(tmp_path, capsys):
    plain, _, _ = _two_models(tmp_path)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    cases = [
        (["--seeds", "0", "0"], "lists a seed twice"),
        (["--jobs", "0"], "--jobs must be >= 1"),
    ]
    for extra, message in cases:
        code = main(
            ["compare", "--config", str(plain), "--output-dir", str(tmp_path / "x")]
            + extra
        )
        assert code == 2
        assert message in capsys.readouterr().err
    code = main(
        ["compare", "--config", str(plain), "--output-dir", str(tmp_path / "busy")]
    )
    assert code == 2
    assert "not from `keras-svq compare`" in capsys.readouterr().err


def test_compare_resumes_after_kill_without_retraining_finished_seeds(tmp_path):
    plain, _, _ = _two_models(tmp_path)
    out = tmp_path / "cmp"
    command = [sys.executable, "-m", "keras_svq", "compare", "--config", str(plain)]
    command += ["--seeds", "0", "1", "--output-dir", str(out), "--quiet"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    finished = out / "plain" / "seed_0" / "run.json"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if finished.exists() and '"finished"' in finished.read_text():
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, "compare ended before it could be killed"
    assert not (out / "comparison.json").exists()
    weights = out / "plain" / "seed_0" / "checkpoints" / "best.weights.h5"
    stamp = weights.stat().st_mtime_ns
    resumed = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert weights.stat().st_mtime_ns == stamp  # seed 0 was not retrained
    assert "training plain seed 0" not in resumed.stdout
    assert "training plain seed 1" in resumed.stdout
    doc = json.loads((out / "comparison.json").read_text())
    assert doc["models"][0]["seeds"] == [0, 1]
