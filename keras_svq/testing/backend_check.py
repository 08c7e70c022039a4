"""Cross-backend check: models saved under TensorFlow, rerun under JAX or torch.

The parent test (TensorFlow backend) saves each model as `.keras` beside an
input and its TensorFlow output, and lists them in `manifest.json`. This
module, run in a fresh interpreter with `KERAS_BACKEND` set, then checks for
every model that it

1. loads from the `.keras` file and reproduces the TensorFlow output on the
   same weights (float32 tolerance),
2. trains one `fit` step to a finite loss and changes its weights,
3. saves and reloads as `.keras` under this backend with identical outputs.

It prints one JSON report, `{case: {"ok": bool, "error": str, ...}}`.

    KERAS_BACKEND=jax python -m keras_svq.testing.backend_check DIR
"""

import json
import os
import pathlib
import sys
import traceback


def _check_case(case, folder, backend):
    import keras
    import numpy as np

    # `import keras_svq` alone registers every serializable class, the zoo's
    # backbones included: what a user who loads a `.keras` file does.
    import keras_svq  # noqa: F401

    x = np.load(folder / case["x"])
    y_tf = np.load(folder / case["y"])
    model = keras.saving.load_model(folder / case["model"])
    y = keras.ops.convert_to_numpy(model(x, training=False))
    diff = float(np.max(np.abs(y - y_tf)))
    tolerance = case.get("atol", 1e-4) + case.get("rtol", 1e-4) * float(
        np.max(np.abs(y_tf))
    )
    report = {"max_abs_diff": diff}
    if not diff <= tolerance:
        report["error"] = (
            f"output differs from TensorFlow's by {diff:.3g} > {tolerance:.3g}"
        )
        return report

    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    before = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    history = model.fit(x, np.zeros_like(y_tf), batch_size=len(x), epochs=1, verbose=0)
    loss = float(history.history["loss"][0])
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    if not np.isfinite(loss):
        report["error"] = f"fit step gave loss {loss}"
        return report
    if all(np.array_equal(a, b) for a, b in zip(before, after)):
        report["error"] = "fit step changed no weight"
        return report

    path = folder / f"{case['name']}.{backend}.keras"
    model.save(path)
    revived = keras.saving.load_model(path)
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    got = keras.ops.convert_to_numpy(revived(x, training=False))
    if not np.allclose(got, expected, atol=1e-5, rtol=1e-5):
        report["error"] = ".keras round trip under this backend changed the outputs"
    return report


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    folder = pathlib.Path(argv[0])
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    manifest = json.loads((folder / "manifest.json").read_text())
    results = {}
    for case in manifest:
        try:
            report = _check_case(case, folder, backend)
        except Exception as error:  # report every case, not just the first failure
            report = {
                "error": f"{type(error).__name__}: {error}",
                "traceback": traceback.format_exc()[-2000:],
            }
        report["ok"] = "error" not in report
        results[case["name"]] = report
    print(json.dumps(results))


if __name__ == "__main__":
    main()
