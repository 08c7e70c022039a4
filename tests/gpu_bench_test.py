"""`bench/gpu_train_step.py` runs end to end on the CPU builds of JAX and torch.

The GPU figures come from a device machine; here the same script runs with
tiny shapes (`--smoke`) so that it is known to work before a device call:
both backends, a quantizer-free and an SVQ SimVP, the largest-batch search,
the comparison against rows measured elsewhere and the JSON output. It takes
about two minutes of both cores, so it is marked slow: run it with
`python -m pytest -m slow tests/gpu_bench_test.py` before a device call.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest
from backend_cli_test import _need

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "bench" / "gpu_train_step.py"


@pytest.mark.slow
def test_gpu_train_step_smoke_on_jax_and_torch(tmp_path):
    _need("jax")
    _need("torch")
    official = [
        {
            "impl": "official-torch",
            "model": model,
            "precision": "float32",
            "batch": 8,
            "step_s": 1.0,
            "samples_per_s": 8.0,
            "peak_gib": 1.0,
        }
        for model in ("simvp", "simvp_svq_frozen")
    ]
    compare = tmp_path / "official.json"
    compare.write_text(json.dumps(official))
    output = tmp_path / "rows.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--smoke",
            "--backends",
            "jax",
            "torch",
            "--precisions",
            "float32",
            "--models",
            "simvp",
            "simvp_svq_frozen",
            "--batch",
            "8",
            "--steps",
            "2",
            "--largest",
            "--max-batch",
            "16",
            "--compare",
            str(compare),
            "--output",
            str(output),
            "--profile",
            "5",
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        timeout=900,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = json.loads(output.read_text())
    ours = [r for r in rows if r["impl"].startswith("keras-")]
    assert not [r for r in ours if "error" in r], proc.stdout
    measured = {
        (r["impl"], r["model"], r["batch"], bool(r.get("largest"))) for r in ours
    }
    for impl in ("keras-jax", "keras-torch"):
        for model in ("simvp", "simvp_svq_frozen"):
            assert (impl, model, 8, False) in measured
            assert (impl, model, 16, True) in measured  # the search doubled once
    assert all(r["samples_per_s"] > 0 and r["params"] > 0 for r in ours)
    svq = {r["params"] for r in ours if r["model"] == "simvp_svq_frozen"}
    plain = {r["params"] for r in ours if r["model"] == "simvp"}
    assert len(svq) == len(plain) == 1 and svq.pop() > plain.pop()
    for impl in ("keras-jax", "keras-torch"):
        assert f"{impl} float32: simvp_svq_frozen step time = " in proc.stdout
        assert f"float32 simvp: {impl} trains " in proc.stdout
        assert "as fast as official-torch" in proc.stdout
    # --profile: the JAX rows name their longest ops (host XLA ops on the CPU).
    for r in ours:
        if r["impl"] == "keras-jax" and not r.get("largest"):
            assert 1 <= len(r["profile"]) <= 5, r
            assert all(
                seconds > 0 and 0 < share <= 1 for _, seconds, share in r["profile"]
            )
    assert "longest ops, keras-jax simvp float32 batch 8" in proc.stdout
