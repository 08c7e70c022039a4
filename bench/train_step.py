"""Training throughput and peak memory of SimVP-gSTA with and without SVQ.

Runs `model.fit` on in-memory batches of the WeatherBench-S t2m shape
(12 frames of 32x64x1 -> 12 frames, batch 16) for the three settings of the
paper's t2m experiment: SimVP-gSTA without SVQ, with a frozen SVQ codebook and
with a learnable one (presets `weather_t2m/simvp_gsta`,
`weather_t2m/simvp_gsta_svq_frozen`, `weather_t2m/simvp_gsta_svq_learnable`). Each model runs in its
own subprocess, so the peak RSS is per model. The first `--warmup` steps
(tracing and graph building) are not timed.

    python bench/train_step.py [--steps 5] [--warmup 1] [--threads 2]
    python bench/train_step.py --compare-official .official   # same sitting, interleaved

Prints one line per model and the ratios to the first model. The official
PyTorch code's figures printed beside them (`OTHER_SITTING`) come from
another sitting (2026-11, same machine type) and are labelled so; for a
comparison in the same sitting, `--compare-official DIR` runs
`bench/compare_official.py` (the official code interleaved with ours, step by
step, with the CPU share other processes took during each step).

The workers apply `keras_svq.runtime.configure()` (bounded malloc arenas, a
fixed mmap threshold) as `keras-svq train` does; `--no-runtime` measures
without it.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
MODELS = {
    "simvp_gsta": "weather_t2m/simvp_gsta",
    "simvp_gsta_svq_frozen": "weather_t2m/simvp_gsta_svq_frozen",
    "simvp_gsta_svq_learnable": "weather_t2m/simvp_gsta_svq_learnable",
}
# The official code on this machine type in ANOTHER sitting (issue 3, 2026-11):
# only a rough reference; `--compare-official` measures it in the same sitting.
OTHER_SITTING = {
    "seconds_per_step": 8.7,
    "samples_per_second": 1.84,
    "peak_rss_gib": 4.2,
}


def worker(args):
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import resource

    sys.path.insert(0, str(REPO / "bench"))
    import bench_runtime

    bench_runtime.configure(threads=args.threads, malloc=not args.no_runtime)
    sys.path.insert(0, str(REPO))
    import keras
    import numpy as np

    from keras_svq.optimizers import FusedAdam
    from keras_svq.training.config import training_config
    from keras_svq.training.optimizers import get_loss
    from zoo import SimVPBackbone

    keras.utils.set_random_seed(0)
    preset_name = MODELS[args.worker]
    preset = SimVPBackbone.get_preset(preset_name)
    model = SimVPBackbone.from_preset(preset_name, load_weights=False)
    model.compile(
        optimizer=FusedAdam(preset["training"]["learning_rate"]),
        loss=get_loss(training_config(preset["training"])),
    )
    b = preset["model"]
    steps = args.warmup + args.steps
    shape = (
        args.batch_size * steps,
        b["input_length"],
        b["height"],
        b["width"],
        b["channels"],
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype("float32")
    y = rng.standard_normal((shape[0], b["output_length"]) + shape[2:]).astype(
        "float32"
    )

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

            self.cpu_times = []

        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()
            self.cpu_start = time.process_time()

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter() - self.start)
            self.cpu_times.append(time.process_time() - self.cpu_start)

    timer = Timer()
    model.fit(
        x,
        y,
        batch_size=args.batch_size,
        epochs=1,
        verbose=0,
        shuffle=False,
        callbacks=[timer],
    )
    timed = timer.times[args.warmup :]
    per_step = float(np.median(timed))
    cpu_per_step = float(np.median(timer.cpu_times[args.warmup :]))
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "model": args.worker,
                "preset": preset_name,
                "seconds_per_step": per_step,
                "samples_per_second": args.batch_size / per_step,
                "cpu_seconds_per_step": cpu_per_step,
                "first_step_seconds": timer.times[0],
                "step_times": timer.times,
                "peak_rss_gib": peak_kib / 2**20,
            }
        )
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5, help="timed steps per model")
    parser.add_argument("--warmup", type=int, default=1, help="untimed first steps")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--models", nargs="+", default=list(MODELS), choices=list(MODELS)
    )
    parser.add_argument(
        "--no-runtime",
        action="store_true",
        help="without keras_svq.runtime's malloc settings",
    )
    parser.add_argument(
        "--compare-official",
        metavar="DIR",
        help="time the official code from the checkout in DIR, interleaved with ours",
    )
    parser.add_argument("--worker", choices=list(MODELS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.compare_official:
        sys.path.insert(0, str(REPO / "bench"))
        import compare_official

        names = {
            "simvp_gsta": "simvp",
            "simvp_gsta_svq_frozen": "svq_frozen",
            "simvp_gsta_svq_learnable": "svq_learnable",
        }
        return compare_official.main(
            [
                "--official-dir",
                args.compare_official,
                "--steps",
                str(args.steps),
                "--warmup",
                str(max(args.warmup, 1)),
                "--threads",
                str(args.threads),
                "--models",
                *[names[m] for m in args.models],
            ]
        )

    results = []
    for name in args.models:
        command = [
            sys.executable,
            __file__,
            "--worker",
            name,
            "--steps",
            str(args.steps),
            "--warmup",
            str(args.warmup),
            "--batch-size",
            str(args.batch_size),
            "--threads",
            str(args.threads),
        ] + (["--no-runtime"] if args.no_runtime else [])
        proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
        if proc.returncode != 0:
            sys.exit(f"{name} failed:\n{proc.stderr[-3000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))

    base = results[0]
    print(
        f"SimVP training step, WeatherBench-S t2m shape (12x32x64x1), batch "
        f"{args.batch_size}, {args.threads} CPU threads, median of {args.steps} steps "
        f"after {args.warmup} warm-up step(s)"
    )
    # CPU seconds per step are less sensitive than wall time to other
    # processes sharing the machine; both are reported.
    header = (
        f"{'model':26s} {'s/step':>7s} {'cpu s/step':>10s} {'samples/s':>9s} "
        f"{'peak RSS GiB':>12s} {'time vs first':>13s} {'cpu vs first':>12s} "
        f"{'samples/s vs official*':>22s} {'RSS vs official*':>16s}"
    )
    print(header)
    for r in results:
        print(
            f"{r['model']:26s} {r['seconds_per_step']:7.2f} "
            f"{r['cpu_seconds_per_step']:10.2f} {r['samples_per_second']:9.2f} "
            f"{r['peak_rss_gib']:12.2f} "
            f"{r['seconds_per_step'] / base['seconds_per_step']:13.3f} "
            f"{r['cpu_seconds_per_step'] / base['cpu_seconds_per_step']:12.3f} "
            f"{r['samples_per_second'] / OTHER_SITTING['samples_per_second']:22.2f} "
            f"{r['peak_rss_gib'] / OTHER_SITTING['peak_rss_gib']:16.2f}"
        )
    print(
        "* official figures from ANOTHER sitting (2026-11): "
        f"{OTHER_SITTING}; use --compare-official DIR for same-sitting ratios"
    )
    print(json.dumps({"results": results, "official_other_sitting": OTHER_SITTING}))


if __name__ == "__main__":
    main()
