"""ONNX export: the file, run by onnxruntime in a fresh process, forecasts as Keras does.

The reference is the Keras path in physical units
(`transform.finish(model.predict(transform.prepare(x)))`, what `keras-svq
predict` does and what the SavedModel matches). Tolerance: `rtol=1e-5` and
`atol=1e-5 * max|expected|` (about 3e-3 K for fields near 280 K). An absolute
1e-5 K would be a third of float32's spacing at 280 K (3.05e-5), so even a
reordered sum could not meet it; relative to the field it is the 1e-5 the
issue asks for. Measured: the largest difference is one float32 step (3e-5 K).
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from cli_fixtures import tiny_config
from cli_fixtures import write_config
from cli_fixtures import write_series

from keras_svq.cli import main
from keras_svq.data.forecast_transform import ForecastTransform
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.preprocessing import Preprocessing
from keras_svq.export import OnnxNotInstalled
from keras_svq.export import export_onnx
from keras_svq.testing import tiny_models

pytestmark = pytest.mark.integration

pytest.importorskip("tf2onnx")
pytest.importorskip("onnxruntime")

# Runs in a new interpreter that imports numpy and onnxruntime only; prints a
# JSON report with each input's output file or error, and what got imported.
_ONNX_SCRIPT = r"""
import json, sys
import numpy as np
import onnxruntime as ort

model, inputs, prefix = sys.argv[1:4]
session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
report = {
    "inputs": [(i.name, i.shape) for i in session.get_inputs()],
    "outputs": [o.name for o in session.get_outputs()],
    "metadata": session.get_modelmeta().custom_metadata_map,
    "results": {},
}
with np.load(inputs) as data:
    for name in data.files:
        try:
            (y,) = session.run(None, {"inputs": data[name]})
        except Exception as e:
            report["results"][name] = {"error": str(e)}
            continue
        np.save(f"{prefix}{name}.npy", y)
        report["results"][name] = {"path": f"{prefix}{name}.npy"}
report["imported"] = sorted(
    m for m in ("tensorflow", "keras", "keras_svq", "tf2onnx") if m in sys.modules
)
print(json.dumps(report))
"""


def run_onnx_in_fresh_process(model_path, tmp_path, **inputs):
    """`{name: output array or error message}` and the child's report."""
    np.savez(tmp_path / "onnx_inputs.npz", **inputs)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _ONNX_SCRIPT,
            str(model_path),
            str(tmp_path / "onnx_inputs.npz"),
            str(tmp_path / "onnx_out_"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["imported"] == [], report["imported"]
    results = {
        name: np.load(r["path"]) if "path" in r else r["error"]
        for name, r in report["results"].items()
    }
    return results, report


def assert_matches(actual, expected):
    scale = float(np.nanmax(np.abs(expected)))
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-5 * scale)


def tiny_simvp(svq):
    keras.utils.set_random_seed(0)
    return tiny_models.tiny_simvp(svq=svq)


def raw_windows(n, shape=(16, 16), seed=0):
    rng = np.random.default_rng(seed)
    return (280 + 5 * rng.standard_normal((n, 4, *shape, 1))).astype("float32")


def keras_forecast(model, transform, x):
    return transform.finish(np.asarray(model.predict(transform.prepare(x), verbose=0)))


@pytest.mark.parametrize("svq", [False, True], ids=["simvp", "simvp_svq"])
def test_onnx_matches_keras_in_physical_units(svq, tmp_path):
    model = tiny_simvp(svq)
    transform = ForecastTransform(Normalizer([281.0], [4.5]), nan_policy="fill")
    path = tmp_path / "model.onnx"
    document = export_onnx(model, path, transform=transform)
    assert document["inputs"]["shape"] == [None, 4, 16, 16, 1]
    assert document["outputs"]["shape"] == [None, 4, 16, 16, 1]

    x = raw_windows(3)
    x[1, 2, 5, 7, 0] = np.nan  # filled with the training mean, as in training
    results, report = run_onnx_in_fresh_process(
        path, tmp_path, batch3=x, batch1=x[:1], empty=x[:0], wrong=x[:, :, :15]
    )
    ((name, shape),) = report["inputs"]
    assert name == "inputs" and shape[1:] == [4, 16, 16, 1]
    assert not isinstance(shape[0], int)  # N is dynamic
    assert report["outputs"] == ["output_0"]
    stored = json.loads(report["metadata"]["keras_svq_signature"])
    assert stored["normalizer"] == transform.normalizer.get_config()

    expected = keras_forecast(model, transform, x)
    assert_matches(results["batch3"], expected)
    assert_matches(results["batch1"], expected[:1])
    assert results["empty"].shape == (0, 4, 16, 16, 1)
    # onnxruntime checks the static dimensions and names the wrong one.
    assert "Got invalid dimensions for input: inputs" in results["wrong"]
    assert "index: 2 Got: 15 Expected: 16" in results["wrong"]


def test_onnx_holds_masks_codes_and_preprocessing(tmp_path):
    """Crop + reflect pad, a static input mask, a missing-value code and a valid mask."""
    model = tiny_simvp(svq=False)
    input_mask = np.ones((18, 20, 1), bool)
    input_mask[:4, :5] = False  # "land"
    valid_mask = np.ones((16, 16, 1), bool)
    valid_mask[-3:, -2:] = False
    transform = ForecastTransform(
        Normalizer([281.0], [4.5]),
        Preprocessing(
            crop={"rows": [1, 17], "cols": [2, 16]},
            pad_to_multiple=4,
            input_shape=(18, 20),
        ),
        missing_value=(-999.0,),
        input_mask=input_mask,
        valid_mask=valid_mask,
        nan_policy="fill",
    )
    path = tmp_path / "model.onnx"
    document = export_onnx(model, path, transform=transform)
    assert document["inputs"]["shape"] == [None, 4, 18, 20, 1]

    x = raw_windows(3, shape=(18, 20))
    x[:, :, :4, :5] = np.nan
    x[0, 1, 8, 9, 0] = -999.0
    x[1, 3, 10, 3, 0] = np.inf
    # Valid only outside the crop (rows 1-16, columns 2-15): nothing reaches the model.
    x[2, :, 1:17, 2:16] = np.nan
    results, _ = run_onnx_in_fresh_process(path, tmp_path, x=x)
    expected = keras_forecast(model, transform, x[:2])
    assert np.isnan(expected).any()  # outside the crop and the valid mask
    np.testing.assert_array_equal(np.isnan(results["x"][:2]), np.isnan(expected))
    assert_matches(results["x"][:2], expected)
    assert np.isnan(results["x"][2]).all()  # the SavedModel refuses this window
    with pytest.raises(ValueError, match="no valid pixel"):
        transform.prepare(x[2:])


def test_windows_the_saved_model_refuses_are_nan(tmp_path):
    """No Assert in ONNX: a refused window gets an all-NaN forecast, the others are kept."""
    model = tiny_simvp(svq=False)
    transform = ForecastTransform(Normalizer([281.0], [4.5]), nan_policy="raise")
    path = tmp_path / "model.onnx"
    document = export_onnx(model, path, transform=transform)
    assert "all NaN" in document["inputs"]["missing"]

    x = raw_windows(3)
    x[1, 0, 3, 3, 0] = np.nan  # the run's data had no missing values
    x[2] = np.nan  # no valid pixel
    results, _ = run_onnx_in_fresh_process(path, tmp_path, x=x)
    y = results["x"]
    assert np.isnan(y[1:]).all()
    assert_matches(y[:1], keras_forecast(model, transform, x[:1]))
    with pytest.raises(ValueError, match="cannot fill them"):
        transform.prepare(x)  # what `predict` and the SavedModel do instead


# -------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("onnx_cli")
    write_series(root / "series.npy")
    config = write_config(root / "svq.yaml", tiny_config(root / "series.npy", svq=True))
    run = root / "run"
    argv = ["train", "--config", str(config), "--output-dir", str(run), "--quiet"]
    assert main(argv) == 0
    return root, run


def test_cli_export_format_onnx(trained_run, tmp_path, capsys):
    from keras_svq.training import trainer

    root, run = trained_run
    out = tmp_path / "onnx_model"
    argv = ["export", "--run", str(run), "--output", str(out), "--format", "onnx"]
    assert main(argv) == 0
    assert "wrote ONNX model to" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["model.onnx", "signature.json"]
    signature = json.loads((out / "signature.json").read_text())
    assert signature["format"] == "onnx"
    assert signature["inputs"]["shape"] == [None, 4, 16, 16, 1]
    assert signature["description"]["backbone"] == "SimVPBackbone"

    series = np.load(root / "series.npy")
    x = np.stack([series[i : i + 4] for i in range(3)])[..., None].astype("float32")
    results, _ = run_onnx_in_fresh_process(out / "model.onnx", tmp_path, x=x)
    layout, config, info = trainer.load_run(run)
    model = trainer.load_trained_model(config, trainer.default_weights(layout))
    assert_matches(
        results["x"], keras_forecast(model, trainer.forecast_transform(layout, info), x)
    )

    # The export's lock / overwrite rules hold for ONNX too.
    assert main(argv) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert main([*argv, "--overwrite"]) == 0
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_missing_onnx_extra_names_the_install_command(
    trained_run, tmp_path, monkeypatch, capsys
):
    _, run = trained_run
    monkeypatch.setitem(sys.modules, "tf2onnx", None)  # `import tf2onnx` fails
    with pytest.raises(ImportError, match=r'pip install "keras-svq\[onnx\]"') as info:
        export_onnx(
            tiny_simvp(svq=False), tmp_path / "m.onnx", normalizer=Normalizer(0, 1)
        )
    assert isinstance(info.value, OnnxNotInstalled)
    assert not (tmp_path / "m.onnx").exists()

    out = tmp_path / "out"
    argv = ["export", "--run", str(run), "--output", str(out), "--format", "onnx"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "ONNX export needs tf2onnx and onnx (missing: tf2onnx)" in err
    assert 'pip install "keras-svq[onnx]"' in err
    assert not out.exists()
