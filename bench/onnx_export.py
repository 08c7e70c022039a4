"""ONNX export against the SavedModel: file size and serving latency.

For the ERA5 UK preset shape (SimVP gSTA, 12 -> 12 frames of 32 x 48 x 1,
with and without the frozen SVQ), it builds an untrained model, exports it as
a SavedModel (`export_saved_model`) and as ONNX (`export_onnx`), both with the
normalisation in the graph (physical units in and out), and reports:

- the size of `model.onnx` and of the SavedModel folder;
- the latency of one batch (N = 1 and 16) through onnxruntime
  (`InferenceSession.run`, CPU provider, default threads) and through the
  SavedModel (`tf.saved_model.load(...).signatures["serving_default"]`),
  median of `--repeats` calls after `--warmup` calls, all in one process;
  onnxruntime also with one intra-op thread and no spinning (its default
  threads spin while waiting, which costs much on a machine shared with
  other jobs);
- the largest difference between the two forecasts (kelvin).

    python bench/onnx_export.py [--repeats 20] [--warmup 3]

Needs the `onnx` extra (`pip install "keras-svq[onnx]"`).
"""

import argparse
import inspect
import os
import pathlib
import statistics
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

PRESETS = ("era5_uk/simvp_gsta", "era5_uk/simvp_gsta_svq_frozen")
BATCHES = (1, 16)


def _folder_size(path):
    return sum(p.stat().st_size for p in pathlib.Path(path).rglob("*") if p.is_file())


def _median_ms(call, warmup, repeats):
    for _ in range(warmup):
        call()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def _untrained(preset):
    from zoo.simvp.simvp_backbone import SimVPBackbone

    # Untrained on purpose: only the graph matters here, not the weights.
    if "load_weights" in inspect.signature(SimVPBackbone.from_preset).parameters:
        return SimVPBackbone.from_preset(preset, load_weights=False)
    return SimVPBackbone.from_preset(preset)


def bench_preset(preset, folder, warmup, repeats):
    import keras
    import numpy as np
    import onnxruntime as ort
    import tensorflow as tf

    from keras_svq.data.forecast_transform import ForecastTransform
    from keras_svq.data.normalizer import Normalizer
    from keras_svq.export import export_onnx
    from keras_svq.export import export_saved_model

    keras.utils.set_random_seed(0)
    model = _untrained(preset)
    transform = ForecastTransform(Normalizer([280.0], [5.0]), nan_policy="fill")
    saved_model = folder / "saved_model"
    onnx_file = folder / "model.onnx"
    start = time.perf_counter()
    export_saved_model(model, saved_model, transform=transform)
    saved_model_s = time.perf_counter() - start
    start = time.perf_counter()
    export_onnx(model, onnx_file, transform=transform)
    onnx_s = time.perf_counter() - start

    serve = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    single = ort.InferenceSession(
        str(onnx_file), options, providers=["CPUExecutionProvider"]
    )
    shape = tuple(model.input_shape[1:])
    rng = np.random.default_rng(0)
    rows = []
    for batch in BATCHES:
        x = (280 + 5 * rng.standard_normal((batch, *shape))).astype("float32")
        tensor = tf.constant(x)
        feed = {"inputs": x}
        tf_ms = _median_ms(
            lambda t=tensor: serve(inputs=t)["output_0"].numpy(), warmup, repeats
        )
        ort_ms = _median_ms(lambda f=feed: session.run(None, f), warmup, repeats)
        single_ms = _median_ms(lambda f=feed: single.run(None, f), warmup, repeats)
        diff = float(
            np.max(
                np.abs(
                    session.run(None, {"inputs": x})[0]
                    - serve(inputs=tensor)["output_0"].numpy()
                )
            )
        )
        rows.append((batch, tf_ms, ort_ms, single_ms, diff))
    return {
        "params": model.count_params(),
        "saved_model_bytes": _folder_size(saved_model),
        "onnx_bytes": onnx_file.stat().st_size,
        "saved_model_export_s": saved_model_s,
        "onnx_export_s": onnx_s,
        "rows": rows,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)

    import onnxruntime
    import tensorflow as tf
    import tf2onnx

    print(
        f"TensorFlow {tf.__version__}, tf2onnx {tf2onnx.__version__}, "
        f"onnxruntime {onnxruntime.__version__}; CPU cores: {os.cpu_count()}; "
        f"median of {args.repeats} calls after {args.warmup} warm-up calls"
    )
    header = (
        f"{'preset':32} {'params':>9} {'SavedModel':>11} {'ONNX':>9} {'size':>6} "
        f"{'N':>3} {'SavedModel ms':>13} {'ONNX ms':>8} {'speed-up':>8} "
        f"{'ONNX 1-thr ms':>13} {'speed-up':>8} {'max|diff| K':>11}"
    )
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for i, preset in enumerate(PRESETS):
            folder = pathlib.Path(tmp) / str(i)
            result = bench_preset(preset, folder, args.warmup, args.repeats)
            sm_mb = result["saved_model_bytes"] / 1e6
            onnx_mb = result["onnx_bytes"] / 1e6
            for batch, tf_ms, ort_ms, single_ms, diff in result["rows"]:
                print(
                    f"{preset:32} {result['params']:>9,} {sm_mb:>8.2f} MB {onnx_mb:>6.2f} MB "
                    f"{onnx_mb / sm_mb:>6.2f} {batch:>3} {tf_ms:>13.2f} {ort_ms:>8.2f} "
                    f"{tf_ms / ort_ms:>7.2f}x {single_ms:>13.2f} {tf_ms / single_ms:>7.2f}x "
                    f"{diff:>11.2e}"
                )
            print(
                f"{'':32} export: SavedModel {result['saved_model_export_s']:.1f} s, "
                f"ONNX {result['onnx_export_s']:.1f} s"
            )


if __name__ == "__main__":
    main()
