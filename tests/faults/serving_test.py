"""Row 2 of issue 15: the exported signature checks what it is given.

TensorFlow does not enforce a signature's static shape when a SavedModel is
called, so a swapped H/W or a wrong C used to be reshaped into a wrong
forecast. Checked in a fresh interpreter that loads the export with
TensorFlow alone, as TF Serving would.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from fault_helpers import env

from keras_svq.cli import main

pytestmark = pytest.mark.integration

_CALLS = r"""
import json, sys
import numpy as np
import tensorflow as tf

signature = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
base = np.load(sys.argv[2])
cases = {
    "ok": base,
    "empty": base[:0],
    "hw_swapped": np.ascontiguousarray(base[:, :, :8].transpose(0, 1, 3, 2, 4)),
    "two_channels": np.concatenate([base, base], axis=-1),
    "long_input": np.concatenate([base] * 6, axis=1),
    "rank_4": base[0],
    "rank_6": base[..., None],
    "nan": np.where(np.arange(base.size).reshape(base.shape) == 77, np.nan, base),
}
report = {}
for name, x in cases.items():
    try:
        out = signature(inputs=tf.constant(x, tf.float32))["output_0"].numpy()
        report[name] = {"shape": list(out.shape), "finite": bool(np.isfinite(out).all())}
    except tf.errors.InvalidArgumentError as e:
        message = str(e)
        report[name] = {"error": message[message.find("assertion failed"):][:400]}
print(json.dumps(report))
"""


def test_serving_signature_checks_shapes_and_missing_values(trained, workdir, tmp_path):
    export = tmp_path / "export"
    assert main(["export", "--run", str(trained), "--output", str(export)]) == 0
    series = np.load(workdir / "series.npy")
    x = np.stack([series[i : i + 4] for i in range(2)])[..., None].astype("float32")
    np.save(tmp_path / "x.npy", x)
    proc = subprocess.run(
        [sys.executable, "-c", _CALLS, str(export), str(tmp_path / "x.npy")],
        capture_output=True,
        text=True,
        env=env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["ok"] == {"shape": [2, 4, 16, 16, 1], "finite": True}
    assert report["empty"] == {"shape": [0, 4, 16, 16, 1], "finite": True}
    expected = (
        "serving_default expects float32 inputs of shape (N, T_in, H, W, C) = "
        "(N, 4, 16, 16, 1); received shape] "
    )
    received = {
        "hw_swapped": "[2 4 16 8 1]",
        "two_channels": "[2 4 16 16 2]",
        "long_input": "[2 24 16 16 1]",
        "rank_4": "[4 16 16 1]",
        "rank_6": "[2 4 16 16 1 1]",
    }
    for name, shape in received.items():
        assert "error" in report[name], (name, report[name])
        assert expected + shape in report[name]["error"], (name, report[name])
    nan = report["nan"]["error"]
    assert "NaN/Inf or missing-code values; count:] [1]" in nan
    assert "[[0 0 4 13 0]]" in nan  # flat index 77 of (2, 4, 16, 16, 1)
    assert "(nan_policy: raise), so it cannot fill them" in nan
