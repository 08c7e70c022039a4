"""What the first training step of SimVP-gSTA spends its time on (graph build).

In a fresh process per setting, on the t2m preset (`weather_t2m/simvp_gsta`,
12 frames of 32x64x1, the preset's optimizer (the library's fused Adam) and
loss), it times separately:

- `trace`: Python tracing of the training step into a graph
  (`tf.function.get_concrete_function`, the same `model.train_step` that
  `fit` runs);
- `first call`: the first execution, which adds Grappler's graph
  optimisation, the executor's set-up and oneDNN's primitive creation to one
  ordinary step;
- `steady`: the median of the next `--steps` calls;
- `build overhead` = first call - steady.

Settings: `default`; `no_grappler` (Grappler's meta optimiser off: the
difference in overhead is Grappler's cost; the steady time shows what its
rewrites buy); `no_remapper`, `no_layout` (single passes off); `xla`
(`jit_compile=True`: XLA compiles instead); `keras_adam` (Keras' own
`keras.optimizers.Adam`, which builds its update variable by variable, instead
of `keras_svq.optimizers.FusedAdam`). With `--grappler-log`, TensorFlow's own
per-pass Grappler timings are printed for the default setting.

The `keras_fit*` settings run `model.fit`, and their "first call" runs from
the `fit` call to the end of its first batch, as a user waits: Keras' set-up,
the creation of the optimizer's and metrics' variables, the trace, the first
step. `keras_fit` is `keras-svq train`'s way (`FusedAdam`, and the variables
created before `fit` by `keras_svq.training.step_variables`);
`keras_fit_plain` is Keras alone (Keras' Adam, variables created while
tracing, so the step is traced twice); `keras_fit_keras_adam` and
`keras_fit_no_prebuild` each leave one of the two changes out.

    python bench/startup.py [--batch-size 16] [--settings default no_grappler xla]

Prints a markdown table; wall seconds, so run it on an idle machine.
"""

import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
SETTINGS = {
    "default": {},
    "no_grappler": {"grappler": {"disable_meta_optimizer": True}},
    "no_remapper": {"grappler": {"remapping": False}},
    "no_layout": {"grappler": {"layout_optimizer": False}},
    "no_arithmetic": {"grappler": {"arithmetic_optimization": False}},
    "xla": {"jit": True},
    "keras_fit": {"fit": True},
    "keras_adam": {"keras_adam": True},
    "keras_fit_plain": {"fit": True, "keras_adam": True, "no_prebuild": True},
    "keras_fit_keras_adam": {"fit": True, "keras_adam": True},
    "keras_fit_no_prebuild": {"fit": True, "no_prebuild": True},
}


def worker(args):
    options = SETTINGS[args.worker]
    sys.path.insert(0, str(REPO / "bench"))
    import bench_runtime

    bench_runtime.configure(threads=args.threads)
    sys.path.insert(0, str(REPO))
    import keras
    import numpy as np
    import tensorflow as tf

    from keras_svq.training.config import training_config
    from keras_svq.training.optimizers import get_loss
    from keras_svq.training.optimizers import get_optimizer
    from keras_svq.training.step_variables import build_step_variables
    from zoo import SimVPBackbone

    if options.get("grappler"):
        tf.config.optimizer.set_experimental_options(options["grappler"])
    keras.utils.set_random_seed(0)
    name = "weather_t2m/simvp_gsta"
    preset = SimVPBackbone.get_preset(name)
    start = time.perf_counter()
    model = SimVPBackbone.from_preset(name, load_weights=False)
    training = training_config(preset["training"])
    model.compile(
        optimizer=(
            keras.optimizers.Adam(1e-3)
            if options.get("keras_adam")
            else get_optimizer(training, 1e-3)
        ),
        loss=get_loss(training),
        jit_compile=bool(options.get("jit")),
    )
    if not options.get("fit"):
        # As `fit` does (Keras' `_symbolic_build`): the optimizer's variables
        # are created eagerly before its step is traced; created inside the
        # trace, each would add a lifted-initializer `cond` to the graph.
        model.optimizer.build(model.trainable_variables)
    build = time.perf_counter() - start
    shape = tuple(int(s) for s in model.inputs[0].shape[1:])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((args.batch_size,) + shape).astype("float32")
    y = rng.standard_normal((args.batch_size,) + shape).astype("float32")
    record = {"setting": args.worker, "model_build_s": build}
    if options.get("fit"):
        times, ends = [], []

        class Timer(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                self.t = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                times.append(time.perf_counter() - self.t)
                ends.append(time.perf_counter())

        xs = np.concatenate([x] * (args.steps + 1))
        ys = np.concatenate([y] * (args.steps + 1))
        dataset = tf.data.Dataset.from_tensor_slices((xs, ys)).batch(args.batch_size)
        fit_start = time.perf_counter()
        if not options.get("no_prebuild"):
            build_step_variables(model, dataset)  # as `keras-svq train` does
        model.fit(dataset, epochs=1, verbose=0, callbacks=[Timer()])
        steady = sorted(times[1:])[len(times[1:]) // 2]
        # From the `fit` call to the end of its first batch, as a user waits.
        record.update(
            trace_s=float("nan"), first_call_s=ends[0] - fit_start, steady_s=steady
        )
    else:
        step = tf.function(
            lambda a, b: model.train_step((a, b)), jit_compile=bool(options.get("jit"))
        )
        xt, yt = tf.constant(x), tf.constant(y)
        start = time.perf_counter()
        concrete = step.get_concrete_function(xt, yt)
        record["trace_s"] = time.perf_counter() - start
        start = time.perf_counter()
        concrete(xt, yt)
        record["first_call_s"] = time.perf_counter() - start
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            concrete(xt, yt)
            times.append(time.perf_counter() - start)
        record["steady_s"] = sorted(times)[len(times) // 2]
    record["build_overhead_s"] = record["first_call_s"] - record["steady_s"]
    print(json.dumps(record))


def _grappler_passes(stderr):
    """Sums TensorFlow's per-pass Grappler times (`meta_optimizer` VLOG) by pass name."""
    totals = {}
    for match in re.finditer(
        r"^\s*(\w[\w ]*?): Graph size after: .*?, time = ([\d.]+)ms", stderr, re.M
    ):
        totals[match.group(1)] = (
            totals.get(match.group(1), 0.0) + float(match.group(2)) / 1000
        )
    return totals


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--settings",
        nargs="+",
        default=["default", "no_grappler", "no_remapper", "xla", "keras_fit"],
        choices=list(SETTINGS),
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--grappler-log",
        action="store_true",
        help="per-pass Grappler times (default setting)",
    )
    parser.add_argument("--worker", choices=list(SETTINGS), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    print(
        f"First training step of weather_t2m/simvp_gsta, batch {args.batch_size}, {args.threads} threads"
    )
    print(
        "| setting | model + optimizer build (s) | trace (s) | first call (s) | steady step (s) | build overhead (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    passes = None
    for setting in args.settings:
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
        if args.grappler_log and setting == "default":
            env.update(TF_CPP_MIN_LOG_LEVEL="0", TF_CPP_VMODULE="meta_optimizer=1")
        command = [
            sys.executable,
            __file__,
            "--worker",
            setting,
            "--batch-size",
            str(args.batch_size),
            "--steps",
            str(args.steps),
            "--threads",
            str(args.threads),
        ]
        proc = subprocess.run(
            command, capture_output=True, text=True, cwd=REPO, env=env
        )
        if proc.returncode != 0:
            print(f"| {setting} | failed: {proc.stderr.strip().splitlines()[-1:]} |")
            continue
        if args.grappler_log and setting == "default":
            passes = _grappler_passes(proc.stderr)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"| {setting} | {r['model_build_s']:.1f} | {r['trace_s']:.1f} | {r['first_call_s']:.1f} "
            f"| {r['steady_s']:.2f} | {r['build_overhead_s']:.1f} |",
            flush=True,
        )
    if passes:
        print("\nGrappler passes, seconds summed over all functions (default setting):")
        print("| pass | seconds |")
        print("|---|---:|")
        for name, seconds in sorted(passes.items(), key=lambda kv: -kv[1]):
            print(f"| {name} | {seconds:.2f} |")


if __name__ == "__main__":
    main()
