"""Where the memory of a SimVP-gSTA training step goes, one setting per process.

For each named setting (below, or `--list`), a fresh process builds the
WeatherBench-S t2m model (`weather_t2m/simvp_gsta`, 12 frames of 32x64x1 ->
12, batch 16), trains a few steps with `model.fit` on in-memory arrays and
records the resident set size (VmRSS) and its high-water mark (VmHWM) after
each stage: the bare interpreter, `import tensorflow`, `import keras` and the
library, the model build, `compile`, the first step (tracing, graph
optimisation, oneDNN primitives) and the later steps. The high-water mark is
reset (`/proc/self/clear_refs`) before every step, so each step's own peak is
known; the process's overall peak is `ru_maxrss`, what `bench/train_step.py`
reports.

    python bench/memory_profile.py                       # the settings that matter
    python bench/memory_profile.py --settings baseline no_onednn arena2 --steps 4

Prints one markdown table (GiB; seconds are wall time and only comparable
within one quiet sitting).
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
PRESETS = {
    "simvp": "weather_t2m/simvp_gsta",
    "svq_frozen": "weather_t2m/simvp_gsta_svq_frozen",
    "svq_learnable": "weather_t2m/simvp_gsta_svq_learnable",
}
# name: (environment set before the process starts, options of the worker)
# The library's defaults (`keras_svq.runtime`) are off unless "runtime" is set;
# "before" undoes the library's memory-lean GELU (issue 18) for comparison.
SETTINGS = {
    "before": ({}, {"plain_gelu": True}),
    "before_lean_gelu": ({}, {"plain_gelu": True, "lean_gelu": True}),
    "baseline": ({}, {}),
    "runtime": ({}, {"runtime": True}),
    "runtime_keep_hidden": ({}, {"runtime": True, "keep_hidden": True}),
    "runtime_mmap_256k": (
        {"MALLOC_MMAP_THRESHOLD_": str(256 << 10)},
        {"runtime": True},
    ),
    "runtime_bfc": ({"TF_CPU_ALLOCATOR_USE_BFC": "true"}, {"runtime": True}),
    "runtime_sysalloc": ({"TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "true"}, {"runtime": True}),
    "runtime_sysalloc_thp": (
        {
            "TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "true",
            "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1",
        },
        {"runtime": True},
    ),
    "runtime_sysalloc_thp_32m": (
        {
            "TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "true",
            "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1",
            "MALLOC_MMAP_THRESHOLD_": str(32 << 20),
        },
        {"runtime": True},
    ),
    "runtime_sysalloc_heap": (
        {
            "TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "true",
            "MALLOC_ARENA_MAX": "1",
            "MALLOC_MMAP_MAX_": "0",
        },
        {"runtime": True},
    ),
    "runtime_sysalloc_heap_arena2": (
        {
            "TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "true",
            "MALLOC_ARENA_MAX": "2",
            "MALLOC_MMAP_MAX_": "0",
        },
        {"runtime": True},
    ),
    "runtime_no_onednn": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, {"runtime": True}),
    "no_onednn": ({"TF_ENABLE_ONEDNN_OPTS": "0"}, {}),
    "onednn": ({"TF_ENABLE_ONEDNN_OPTS": "1"}, {}),
    "arena2": ({"MALLOC_ARENA_MAX": "2"}, {}),
    "arena1": ({"MALLOC_ARENA_MAX": "1"}, {}),
    "mmap_4m": ({"MALLOC_MMAP_THRESHOLD_": str(4 << 20)}, {}),
    "trim_0": ({"MALLOC_TRIM_THRESHOLD_": "0"}, {}),
    "trim_0_arena2": ({"MALLOC_TRIM_THRESHOLD_": "0", "MALLOC_ARENA_MAX": "2"}, {}),
    "mmap_4m_arena2": (
        {"MALLOC_MMAP_THRESHOLD_": str(4 << 20), "MALLOC_ARENA_MAX": "2"},
        {},
    ),
    "bfc": ({"TF_CPU_ALLOCATOR_USE_BFC": "true"}, {}),
    "bfc_lean_gelu": ({"TF_CPU_ALLOCATOR_USE_BFC": "true"}, {"lean_gelu": True}),
    "lean_gelu": ({}, {"lean_gelu": True}),
    "runtime_lean_gelu": ({}, {"runtime": True, "lean_gelu": True}),
    "runtime_lean_mlp": ({}, {"runtime": True, "lean_gelu": True, "lean_mlp": True}),
    "lean_mlp": ({}, {"lean_gelu": True, "lean_mlp": True}),
    "threads1": ({}, {"threads": 1}),
    "xla": ({}, {"jit": True}),
    "dataset": ({}, {"data": "dataset"}),
    "spe2": ({}, {"steps_per_execution": 2}),
    "no_grappler_remap": ({}, {"grappler": {"remapping": False}}),
    "no_grappler_layout": ({}, {"grappler": {"layout_optimizer": False}}),
    "no_grappler_all": ({}, {"grappler": {"disable_meta_optimizer": True}}),
    "runtime_no_arithmetic": (
        {},
        {"runtime": True, "grappler": {"arithmetic_optimization": False}},
    ),
    "runtime_no_grappler": (
        {},
        {"runtime": True, "grappler": {"disable_meta_optimizer": True}},
    ),
    # Gradient checkpointing (keras.RematScope) of the named layers: their
    # activations are recomputed in the backward pass instead of kept.
    "runtime_remat_mlp": ({}, {"runtime": True, "remat": ["mlp"]}),
    "runtime_remat_attn": ({}, {"runtime": True, "remat": ["attn"]}),
    "runtime_remat_attn_mlp": ({}, {"runtime": True, "remat": ["attn", "mlp"]}),
}
DEFAULT_SETTINGS = ["before", "before_lean_gelu", "baseline", "runtime"]


def _status():
    """VmRSS and VmHWM of this process, GiB."""
    fields = {}
    with open("/proc/self/status") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 2**20
    return fields


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:  # not Linux, or not allowed: peaks become cumulative
        pass


def _plain_gelu():
    """The library before issue 18: autodiff through `ops.gelu` everywhere."""
    import keras
    from keras import ops

    from keras_svq.layers.mix_mlp import MixMLP
    from zoo.translators import gsta_block

    MixMLP._fuses_gelu = lambda self, training: False
    gsta_block.gelu_exact = lambda x: ops.gelu(x, approximate=False)
    del keras


def _patch_gelu(tf):
    """Replaces Keras' TensorFlow GELU by one whose gradient keeps only x.

    `tf.nn.gelu(approximate=False)` is `0.5 * x * (1 + erf(x / sqrt 2))`: its
    autodiff gradient keeps four tensors of x's size alive until the backward
    pass; PyTorch's fused GELU keeps one.
    """
    from keras.src.backend.tensorflow import nn as tf_nn

    original = tf_nn.gelu

    def gelu(x, approximate=True):
        if approximate:
            return original(x, approximate=True)

        @tf.custom_gradient
        def exact(x):
            def grad(dy):
                cdf = 0.5 * (1.0 + tf.math.erf(x * 0.7071067811865476))
                pdf = tf.exp(-0.5 * tf.square(x)) * 0.3989422804014327
                return dy * (cdf + x * pdf)

            return 0.5 * x * (1.0 + tf.math.erf(x * 0.7071067811865476)), grad

        return exact(tf.convert_to_tensor(x))

    tf_nn.gelu = gelu


def _patch_mix_mlp(tf):
    """MixMLP computes `fc2(gelu(h))` keeping only h: gelu(h) is recomputed
    in the backward pass instead of being stored (one 2048-channel tensor
    per block)."""
    from keras_svq.layers.mix_mlp import MixMLP

    sqrt_half = 0.7071067811865476

    @tf.custom_gradient
    def gelu_dense(h, kernel, bias):
        def gelu(v):
            return 0.5 * v * (1.0 + tf.math.erf(v * sqrt_half))

        y = tf.linalg.matmul(tf.reshape(gelu(h), [-1, h.shape[-1]]), kernel) + bias
        y = tf.reshape(y, tf.concat([tf.shape(h)[:-1], tf.shape(kernel)[-1:]], 0))

        def grad(dy):
            g = tf.reshape(gelu(h), [-1, h.shape[-1]])
            dy2 = tf.reshape(dy, [-1, dy.shape[-1]])
            d_kernel = tf.linalg.matmul(g, dy2, transpose_a=True)
            d_bias = tf.reduce_sum(dy2, 0)
            dg = tf.reshape(
                tf.linalg.matmul(dy2, kernel, transpose_b=True), tf.shape(h)
            )
            cdf = 0.5 * (1.0 + tf.math.erf(h * sqrt_half))
            pdf = tf.exp(-0.5 * tf.square(h)) * 0.3989422804014327
            return dg * (cdf + h * pdf), d_kernel, d_bias

        return y, grad

    original = MixMLP.call

    def call(self, inputs, training=None):
        if self.dropout_rate or getattr(self.activation, "__name__", "") != "gelu":
            return original(self, inputs, training=training)
        h = self.dwconv(self.fc1(inputs))
        return gelu_dense(
            h,
            tf.convert_to_tensor(self.fc2.kernel),
            tf.convert_to_tensor(self.fc2.bias),
        )

    MixMLP.call = call


def worker(args):
    stages = {"python": _status()}
    options = json.loads(args.options)
    if options.get("runtime"):
        sys.path.insert(0, str(REPO / "bench"))
        import bench_runtime

        bench_runtime.configure()
        sys.path.insert(0, str(REPO))
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    start = time.perf_counter()
    import tensorflow as tf

    stages["import tensorflow"] = _status()
    threads = options.get("threads", args.threads)
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    if options.get("grappler"):
        tf.config.optimizer.set_experimental_options(options["grappler"])
    sys.path.insert(0, str(REPO))
    import keras
    import numpy as np

    from keras_svq.optimizers import FusedAdam
    from keras_svq.training.config import training_config
    from keras_svq.training.optimizers import get_loss
    from zoo import SimVPBackbone

    if options.get("plain_gelu"):
        _plain_gelu()
    if options.get("lean_gelu"):
        _patch_gelu(tf)
    if options.get("lean_mlp"):
        _patch_mix_mlp(tf)
    stages["import keras + library"] = _status()
    import_seconds = time.perf_counter() - start
    keras.utils.set_random_seed(0)
    preset_name = PRESETS[args.model]
    preset = SimVPBackbone.get_preset(preset_name)
    with keras.RematScope(
        mode="list_of_layers" if options.get("remat") else None,
        layer_names=options.get("remat", []),
    ):
        model = SimVPBackbone.from_preset(preset_name, load_weights=False)
    if options.get("keep_hidden"):
        sys.path.insert(0, str(REPO / "bench"))
        import bench_runtime

        bench_runtime.keep_mix_mlp_hidden(model)
    stages["model built"] = _status()
    model.compile(
        optimizer=FusedAdam(preset["training"]["learning_rate"]),
        loss=get_loss(training_config(preset["training"])),
        jit_compile=bool(options.get("jit", False)),
        steps_per_execution=int(options.get("steps_per_execution", 1)),
    )
    b = preset["model"]
    steps = args.steps
    n = args.batch_size * steps
    rng = np.random.default_rng(0)
    frames = (b["height"], b["width"], b["channels"])
    x = rng.standard_normal((n, b["input_length"]) + frames).astype("float32")
    y = rng.standard_normal((n, b["output_length"]) + frames).astype("float32")
    stages["compiled, data in memory"] = _status()
    if options.get("data") == "dataset":
        data = (
            tf.data.Dataset.from_tensor_slices((x, y))
            .batch(args.batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )
        fit_args = dict(x=data)
    else:
        fit_args = dict(x=x, y=y, batch_size=args.batch_size, shuffle=False)

    class Probe(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps = []

        def on_train_batch_begin(self, batch, logs=None):
            _reset_peak()
            self.cpu = os.times()
            try:
                tf.config.experimental.reset_memory_stats("CPU:0")
            except (ValueError, RuntimeError):
                pass
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            seconds = time.perf_counter() - self.start
            cpu = os.times()
            record = dict(
                _status(),
                seconds=seconds,
                user=cpu.user - self.cpu.user,
                system=cpu.system - self.cpu.system,
            )
            try:  # only with an allocator that keeps statistics (BFC)
                info = tf.config.experimental.get_memory_info("CPU:0")
                record["tensors_peak"] = info["peak"] / 2**30
            except (ValueError, RuntimeError):
                pass
            self.steps.append(record)

    probe = Probe()
    model.fit(epochs=1, verbose=0, callbacks=[probe], **fit_args)
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    weights = sum(int(np.prod(w.shape)) * 4 for w in model.weights) / 2**30
    print(
        json.dumps(
            {
                "stages": stages,
                "steps": probe.steps,
                "peak_rss_gib": peak,
                "weights_gib": weights,
                "import_seconds": import_seconds,
            }
        )
    )


def run_setting(name, args):
    env_extra, options = SETTINGS[name]
    env = dict(os.environ, **env_extra)
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--model",
        args.model,
        "--steps",
        str(args.steps),
        "--batch-size",
        str(args.batch_size),
        "--threads",
        str(args.threads),
        "--options",
        json.dumps(options),
    ]
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", nargs="+", default=DEFAULT_SETTINGS)
    parser.add_argument("--model", choices=list(PRESETS), default="simvp")
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--list", action="store_true", help="list the settings")
    parser.add_argument("--json", help="also write the raw records here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--options", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.list:
        for name, (env, options) in SETTINGS.items():
            print(f"{name:22s} env={env} options={options}")
        return
    unknown = [s for s in args.settings if s not in SETTINGS]
    if unknown:
        parser.error(f"unknown settings {unknown}; valid: {sorted(SETTINGS)}")
    print(
        f"{PRESETS[args.model]}, batch {args.batch_size}, {args.threads} threads, "
        f"{args.steps} steps; RSS in GiB (step peak = that step's VmHWM)"
    )
    print(
        "| setting | import TF | + keras, library | model built | compiled + data "
        "| step 1 peak | later steps peak | RSS after last | ru_maxrss | step 1 s "
        "| later s/step | later cpu s/step (user + sys) | tensors peak |"
    )
    print("|---|" + "---:|" * 12)
    records = {}
    for name in args.settings:
        r = records[name] = run_setting(name, args)
        if "error" in r:
            print(f"| {name} | failed: {r['error']} |")
            continue
        st, steps = r["stages"], r["steps"]
        later = steps[1:] or steps
        later_s = sorted(s["seconds"] for s in later)[len(later) // 2]
        # CPU seconds (user + system) suffer less than wall time from other
        # processes on the machine; system time shows page-fault costs.
        cpu_s = sorted(s["user"] + s["system"] for s in later)[len(later) // 2]
        sys_s = sorted(s["system"] for s in later)[len(later) // 2]
        # The live tensors' high-water mark, known with the BFC allocator only.
        tensors = (
            f"{max(s['tensors_peak'] for s in steps):.2f}"
            if "tensors_peak" in steps[0]
            else "-"
        )
        print(
            f"| {name} | {st['import tensorflow']['VmRSS']:.2f} "
            f"| {st['import keras + library']['VmRSS']:.2f} "
            f"| {st['model built']['VmRSS']:.2f} "
            f"| {st['compiled, data in memory']['VmRSS']:.2f} "
            f"| {steps[0]['VmHWM']:.2f} | {max(s['VmHWM'] for s in later):.2f} "
            f"| {steps[-1]['VmRSS']:.2f} | {r['peak_rss_gib']:.2f} "
            f"| {steps[0]['seconds']:.1f} | {later_s:.2f} "
            f"| {cpu_s:.2f} ({sys_s:.2f} sys) | {tensors} |",
            flush=True,
        )
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    main()
