"""Every quantizer and zoo backbone runs on Keras' JAX and torch backends.

Models are built and saved here under TensorFlow; one fresh interpreter per
backend reloads them all (`keras_svq.testing.backend_check`), reproduces the
TensorFlow outputs on the same weights, trains a step and round-trips a
`.keras` file. A backend that is not installed is skipped, unless
`KERAS_SVQ_REQUIRE_BACKENDS` names it (CI sets `jax,torch`).
"""

import importlib.util
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_svq.testing.model_catalogue import catalogue_cases

BACKENDS = ("jax", "torch")
REQUIRED = {b for b in os.environ.get("KERAS_SVQ_REQUIRE_BACKENDS", "").split(",") if b}
CASES = catalogue_cases()

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        keras.backend.backend() != "tensorflow",
        reason="the reference outputs are made under the TensorFlow backend",
    ),
]


@pytest.fixture(scope="module")
def saved_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multi_backend")
    manifest = []
    for case in CASES:
        keras.utils.set_random_seed(0)
        model = case.build()
        x = np.random.default_rng(0).standard_normal(case.input_shape).astype("float32")
        y = keras.ops.convert_to_numpy(model(x, training=False))
        model.save(folder / f"{case.name}.keras")
        np.save(folder / f"{case.name}.x.npy", x)
        np.save(folder / f"{case.name}.y.npy", y)
        manifest.append(
            {
                "name": case.name,
                "model": f"{case.name}.keras",
                "x": f"{case.name}.x.npy",
                "y": f"{case.name}.y.npy",
            }
        )
        keras.backend.clear_session()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


@pytest.fixture(scope="module")
def reports(saved_models):
    """Runs the available backends' checks side by side (one process each)."""
    processes = {}
    for backend in BACKENDS:
        if importlib.util.find_spec(backend) is None:
            continue
        env = dict(
            os.environ,
            KERAS_BACKEND=backend,
            TF_CPP_MIN_LOG_LEVEL="3",
            CUDA_VISIBLE_DEVICES="",
            JAX_PLATFORMS="cpu",
        )
        processes[backend] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "keras_svq.testing.backend_check",
                str(saved_models),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
    results = {}
    for backend, process in processes.items():
        out, err = process.communicate(timeout=1500)
        if process.returncode != 0:
            raise AssertionError(f"{backend} check crashed:\n{err[-4000:]}")
        results[backend] = json.loads(out.strip().splitlines()[-1])
    return results


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", [c.name for c in CASES])
def test_backend_matches_tensorflow(reports, backend, case):
    if backend not in reports:
        if backend in REQUIRED:
            pytest.fail(f"backend {backend!r} is required but not installed")
        pytest.skip(f"{backend} is not installed")
    report = reports[backend][case]
    assert report["ok"], (
        f"{case} on {backend}: {report['error']}\n{report.get('traceback', '')}"
    )
