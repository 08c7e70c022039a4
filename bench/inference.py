"""Inference speed of SimVP-gSTA with and without SVQ: per-call times of each predict path.

WeatherBench-S t2m shape (12 frames of 32x64x1 -> 12, untrained weights of
the presets `weather_t2m/simvp_gsta`, `..._svq_frozen`, `..._svq_learnable`).
Each model runs in its own process; inside it the paths below are called in
turn, one call each per round (interleaved, so that a burst of load from
other processes hits every path alike):

- `predict`: `model.predict(x, batch_size=16)` (Keras' loop over a tf.data
  iterator, what `keras-svq predict` used);
- `function`: `model(x, training=False)` in a `tf.function` with a fixed
  input signature `(None, 12, 32, 64, 1)` (`keras_svq.runtime.compiled_predictor`);
- `xla`: the same function with `jit_compile=True` (XLA on the CPU);
- `savedmodel`: the `serving_default` signature of the model exported by
  `keras_svq.export.export_saved_model`, loaded with `tf.saved_model.load`
  (what TF Serving runs; includes the normalisation and the shape check);
- `savedmodel b1`: the same signature on one window (batch-1 latency);
- `function bf16`, `savedmodel bf16`, `savedmodel bf16 b1`: the same in
  bfloat16 (`compute_dtype="bfloat16"`, `keras_svq.export.precision`):
  forecasts rounded, float32 in and out; fast on CPUs with AVX-512 BF16/AMX.

For every path it prints the first call (tracing / compilation), the median,
the 90th percentile and the largest call time over `--calls` calls, the
max/median ratio (stability) and samples/s. With `--official-seconds` (the
official PyTorch code's seconds per batch-16 call, e.g. from
`bench/compare_official.py`), it adds the speed-up over it.

    python bench/inference.py [--calls 20] [--models simvp_gsta svq_frozen]

Run on an otherwise idle machine: times taken while other jobs share the
cores say little.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
PRESETS = {
    "simvp_gsta": "weather_t2m/simvp_gsta",
    "svq_frozen": "weather_t2m/simvp_gsta_svq_frozen",
    "svq_learnable": "weather_t2m/simvp_gsta_svq_learnable",
}
PATHS = (
    "predict",
    "function",
    "xla",
    "savedmodel",
    "savedmodel b1",
    "function bf16",
    "savedmodel bf16",
    "savedmodel bf16 b1",
)


def _percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def worker(args):
    sys.path.insert(0, str(REPO / "bench"))
    import bench_runtime

    bench_runtime.configure(threads=args.threads)
    sys.path.insert(0, str(REPO))
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_svq import runtime
    from keras_svq.data.normalizer import Normalizer
    from keras_svq.export import export_saved_model
    from zoo import SimVPBackbone

    keras.utils.set_random_seed(0)
    model = SimVPBackbone.from_preset(PRESETS[args.worker], load_weights=False)
    shape = tuple(int(s) for s in model.inputs[0].shape[1:])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch_size,) + shape).astype("float32")
    x1 = x[:1]
    calls = {}
    paths = [p for p in PATHS if p in args.paths]
    if "predict" in paths:
        calls["predict"] = lambda: model.predict(
            x, batch_size=args.batch_size, verbose=0
        )
    if "function" in paths:
        fn = runtime.compiled_predictor(model, jit_compile=False)
        xt = tf.constant(x)
        calls["function"] = lambda: fn(xt).numpy()
    if "xla" in paths:
        fn_xla = runtime.compiled_predictor(model, jit_compile=True)
        xt = tf.constant(x)
        calls["xla"] = lambda: fn_xla(xt).numpy()
    if "function bf16" in paths:
        fn_bf16 = runtime.compiled_predictor(model, compute_dtype="bfloat16")
        xt = tf.constant(x)
        calls["function bf16"] = lambda: fn_bf16(xt).numpy()
    export_seconds = {}
    for suffix, compute_dtype in (("", "float32"), (" bf16", "bfloat16")):
        wanted = [f"savedmodel{suffix}", f"savedmodel{suffix} b1"]
        if not set(wanted) & set(paths):
            continue
        folder = pathlib.Path(tempfile.mkdtemp()) / "m"
        start = time.perf_counter()
        export_saved_model(
            model,
            folder,
            normalizer=Normalizer(0.0, 1.0),
            compute_dtype=compute_dtype,
        )
        export_seconds[compute_dtype] = time.perf_counter() - start
        serve = tf.saved_model.load(str(folder)).signatures["serving_default"]
        for path, batch in zip(wanted, (tf.constant(x), tf.constant(x1))):
            if path in paths:
                calls[path] = lambda s=serve, b=batch: s(inputs=b)["output_0"].numpy()
    first, times = {}, {name: [] for name in calls}
    for name, call in calls.items():
        start = time.perf_counter()
        call()
        first[name] = time.perf_counter() - start
    for call in calls.values():  # a second untimed call: one-off allocations
        call()
    for _ in range(args.calls):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    rows = []
    for name in calls:
        t = times[name]
        median = _percentile(t, 0.5)
        batch = 1 if name.endswith("b1") else args.batch_size
        rows.append(
            dict(
                model=args.worker,
                path=name,
                batch=batch,
                first_s=first[name],
                median_s=median,
                p90_s=_percentile(t, 0.9),
                max_s=max(t),
                max_over_median=max(t) / median,
                samples_per_s=batch / median,
                times=t,
            )
        )
    print(json.dumps({"rows": rows, "export_s": export_seconds}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models", nargs="+", default=list(PRESETS), choices=list(PRESETS)
    )
    parser.add_argument("--paths", nargs="+", default=list(PATHS), choices=list(PATHS))
    parser.add_argument("--calls", type=int, default=20, help="timed calls per path")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--official-seconds",
        type=json.loads,
        default=None,
        help='JSON {"simvp_gsta": s, "svq_frozen": s, ...}: the official code\'s '
        "seconds per batch call measured in the same sitting",
    )
    parser.add_argument("--json", help="also write the rows here")
    parser.add_argument("--worker", choices=list(PRESETS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    rows = []
    for name in args.models:
        command = [
            sys.executable,
            __file__,
            "--worker",
            name,
            "--calls",
            str(args.calls),
            "--batch-size",
            str(args.batch_size),
            "--threads",
            str(args.threads),
            "--paths",
            *args.paths,
        ]
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        proc = subprocess.run(
            command, capture_output=True, text=True, cwd=REPO, env=env
        )
        if proc.returncode != 0:
            sys.exit(f"{name} failed:\n{proc.stderr[-3000:]}")
        rows.extend(json.loads(proc.stdout.strip().splitlines()[-1])["rows"])
    official = args.official_seconds or {}
    print(
        f"Inference, t2m shape (12x32x64x1 -> 12), {args.threads} CPU threads, "
        f"{args.calls} interleaved calls per path after 2 untimed ones"
    )
    print(
        "| model | path | batch | first call (s) | median (s) | p90 (s) | max/median "
        "| samples/s | vs predict | vs official |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        base = next(
            (b for b in rows if b["model"] == r["model"] and b["path"] == "predict"),
            None,
        )
        vs_predict = (
            f"{base['median_s'] / r['median_s']:.2f}x"
            if base and r["batch"] == base["batch"]
            else "-"
        )
        vs_official = (
            f"{official[r['model']] / r['median_s']:.2f}x"
            if r["model"] in official and r["batch"] == args.batch_size
            else "-"
        )
        print(
            f"| {r['model']} | {r['path']} | {r['batch']} | {r['first_s']:.2f} "
            f"| {r['median_s']:.3f} | {r['p90_s']:.3f} | {r['max_over_median']:.2f} "
            f"| {r['samples_per_s']:.1f} | {vs_predict} | {vs_official} |"
        )
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
