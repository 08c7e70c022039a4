"""GPU training throughput of SimVP-gSTA with and without SVQ, on any Keras backend.

On the WeatherBench-S t2m shape (12 -> 12 frames of 32x64x1; hid_S 32, hid_T
256, N_S 2, N_T 8, the paper's setting) it measures, for SimVP without a
quantizer, with a frozen SVQ and with a learnable SVQ (K 10000, hidden 128):
training samples/s of `model.fit` and peak accelerator memory, at batch 16 and
at the largest batch that fits, in float32 and mixed precision. Every
(backend, precision, model) runs in its own process so that peak memory is
its own. `--largest` searches powers of two from a guess extrapolated from
the peak memory at `--batch` (two or three runs per model, so one device call
holds them). The output is a table and the SVQ/SimVP time ratios; with
`--compare FILE` (a JSON list of rows measured elsewhere, e.g. the official
PyTorch code on the same GPU, with the keys printed here) it adds those rows
and the ratios against them.

    python bench/gpu_train_step.py --backends jax --precisions float32 mixed_bfloat16
    python bench/gpu_train_step.py --backends jax torch --largest --compare official.json
    python bench/gpu_train_step.py --smoke          # tiny shapes, any CPU backend
    python bench/gpu_train_step.py --precisions float32 --models simvp --profile 15

`--profile N` (JAX) traces three more steps with `jax.profiler` and prints
the N ops that take longest on the device: what names the cause of the
float32 gap against the official code (issue 18: 0.57x its samples/s on an
H200, while mixed bfloat16 ran 1.9x faster), e.g. a slow cuDNN algorithm for
the depthwise and dilated convolutions or layout transposes around them.
`XLA_FLAGS` / `NVIDIA_TF32_OVERRIDE` set in the environment reach the workers.

On torch, Keras runs eagerly (`jit_compile="auto"`): torch.compile fails on
SimVP with torch 2.13's inductor; `--torch-compile` tries it anyway.

Nothing here needs TensorFlow: the data are in-memory numpy arrays.
"""

import argparse
import json
import os
import subprocess
import sys
import time

T2M = dict(
    input_length=12,
    output_length=12,
    height=32,
    width=64,
    channels=1,
    spatial_hidden_dim=32,
    temporal_hidden_dim=256,
    num_spatial_layers=2,
    num_temporal_layers=8,
    translator="gsta",
    mlp_ratio=8.0,
    drop_path_rate=0.1,
)


def _smoke_shape():
    """The shared tiny SimVP at this benchmark's translator width and MLP ratio.

    Imported here: Keras loads in the worker only, after the backend is chosen.
    """
    from keras_svq.testing.tiny_models import tiny_simvp_config

    shape = tiny_simvp_config(temporal_hidden_dim=32, mlp_ratio=8.0)
    del shape["quantizer"]  # each variant sets its own
    return shape


SVQ = {"name": "svq", "codebook_size": 10000, "hidden_dim": 128}
VARIANTS = {
    "simvp": None,
    "simvp_svq_frozen": dict(SVQ, freeze_codebook=True),
    "simvp_svq_learnable": dict(SVQ, freeze_codebook=False),
}


def _peak_memory_gib():
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return stats.get("peak_bytes_in_use", float("nan")) / 2**30
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.max_memory_allocated() / 2**30
    return float("nan")


def _device_memory_gib():
    """The accelerator's usable memory, or NaN on the CPU."""
    import keras

    if keras.backend.backend() == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        return stats.get("bytes_limit", float("nan")) / 2**30
    if keras.backend.backend() == "torch":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_properties(0).total_memory / 2**30
    return float("nan")


def _device_name():
    import keras

    if keras.backend.backend() == "jax":
        import jax

        return str(jax.devices()[0].device_kind)
    if keras.backend.backend() == "torch":
        import torch

        return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    return "cpu"


def _make_step_timer():
    """A callback recording each `fit` batch's wall time."""
    import keras

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_batch_begin(self, batch, logs=None):
            self._start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            # Converting the loss to a float waits for the step on the device.
            if logs and "loss" in logs:
                float(logs["loss"])
            self.times.append(time.perf_counter() - self._start)

    return StepTimer()


def _profile_jax_steps(model, x, y, batch_size, steps, top):
    """Traces `steps` training steps with the JAX profiler; the `top` ops by time.

    Device planes (`/device:GPU:0`, ...) when there are any, else the host's
    XLA ops (CPU runs). Returns `[(op name, seconds per step, share), ...]`:
    what names the cause of a slow step (a convolution algorithm, layout
    transposes, a fusion).
    """
    import glob
    import tempfile

    import jax

    folder = tempfile.mkdtemp(prefix="svq_profile_")
    with jax.profiler.trace(folder):
        model.fit(
            x[: batch_size * steps],
            y[: batch_size * steps],
            batch_size=batch_size,
            epochs=1,
            verbose=0,
            shuffle=False,
        )
    (path,) = glob.glob(f"{folder}/**/*.xplane.pb", recursive=True)
    data = jax.profiler.ProfileData.from_file(path)
    planes = [p for p in data.planes if p.name.startswith("/device:")]
    if not planes:
        planes = [p for p in data.planes if p.name.startswith("/host:")]
    totals = {}
    for plane in planes:
        for line in plane.lines:
            if line.name in ("Steps", "XLA Modules", "python", "Framework Name Scope"):
                continue
            for event in line.events:
                totals[event.name] = (
                    totals.get(event.name, 0.0) + event.duration_ns / 1e9
                )
    whole = sum(totals.values()) or 1.0
    ranked = sorted(totals.items(), key=lambda item: -item[1])[:top]
    return [(name, seconds / steps, seconds / whole) for name, seconds in ranked]


def run_worker(variant, precision, batch_size, steps, smoke, jit, profile=0):
    import keras
    import numpy as np

    import zoo

    keras.config.set_dtype_policy(precision)
    keras.utils.set_random_seed(0)
    shape = _smoke_shape() if smoke else T2M
    quantizer = VARIANTS[variant]
    if quantizer and smoke:
        quantizer = dict(quantizer, codebook_size=64, hidden_dim=16)
    model = zoo.SimVPBackbone(**shape, quantizer=quantizer)
    # "auto" compiles with XLA on JAX and TensorFlow and runs eagerly on torch:
    # Keras' `jit_compile=True` there means torch.compile, whose inductor
    # fails on SimVP ("cannot determine truth value of Relational", torch
    # 2.13); `--torch-compile` tries it anyway.
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="mae",
        jit_compile=jit,
    )
    frames = (shape["input_length"], shape["height"], shape["width"], shape["channels"])
    rng = np.random.default_rng(0)
    n = batch_size * steps
    x = rng.standard_normal((n,) + frames).astype("float32")
    y = rng.standard_normal((n, shape["output_length"]) + frames[1:]).astype("float32")
    timer = _make_step_timer()
    model.fit(
        x,
        y,
        batch_size=batch_size,
        epochs=1,
        verbose=0,
        shuffle=False,
        callbacks=[timer],
    )
    warm = timer.times[min(3, len(timer.times) - 1) :]  # drop compilation steps
    seconds = float(np.median(warm))
    params = sum(int(np.prod(w.shape)) for w in model.weights)
    extra = {}
    if profile and keras.backend.backend() == "jax":
        extra["profile"] = _profile_jax_steps(
            model, x, y, batch_size, min(3, steps), profile
        )
    return {
        **extra,
        "impl": f"keras-{keras.backend.backend()}",
        "device": _device_name(),
        "model": variant,
        "precision": precision,
        "batch": batch_size,
        "step_s": seconds,
        "samples_per_s": batch_size / seconds,
        "peak_gib": _peak_memory_gib(),
        "device_gib": _device_memory_gib(),
        "params": params,
    }


def _spawn(backend, variant, precision, batch_size, args):
    env = dict(os.environ, KERAS_BACKEND=backend)
    command = [
        sys.executable,
        __file__,
        "--worker",
        variant,
        "--precisions",
        precision,
        "--batch",
        str(batch_size),
        "--steps",
        str(args.steps),
    ]
    if args.smoke:
        command.append("--smoke")
    if args.no_jit:
        command.append("--no-jit")
    if args.torch_compile:
        command.append("--torch-compile")
    if args.profile:
        command += ["--profile", str(args.profile)]
    proc = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=args.timeout
    )
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-3:]
        return {
            "impl": f"keras-{backend}",
            "model": variant,
            "precision": precision,
            "batch": batch_size,
            "error": " | ".join(tail)[-300:],
        }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _first_guess(row, args):
    """A power-of-two batch that should fit, from the measured peak memory.

    Peak memory grows about linearly with the batch, so `--batch` samples'
    peak extrapolated to 80% of the device's memory is a safe start; the
    search then needs two or three runs instead of doubling from the start.
    """
    import math

    start = 2 * args.batch
    peak, total = row.get("peak_gib", math.nan), row.get("device_gib", math.nan)
    if not (peak > 0 and total > 0):  # NaN on the CPU
        return start
    guess = args.batch * 0.8 * total / peak
    while start * 2 <= min(guess, args.max_batch):
        start *= 2
    return start


def _largest_batch(backend, variant, precision, args, rows, first_row):
    """Searches powers of two from a first guess: doubles while runs fit,
    halves while they fail; keeps the largest batch that ran."""
    batch = _first_guess(first_row, args)
    best, tried = None, {}
    while args.batch < batch <= args.max_batch and batch not in tried:
        row = _spawn(backend, variant, precision, batch, args)
        tried[batch] = "error" not in row
        if tried[batch]:
            best = row
            batch *= 2
        elif best is None:
            batch //= 2
        else:
            break
    if best is not None:
        best["largest"] = True
        rows.append(best)


def print_table(rows):
    header = (
        f"{'impl':<14} {'model':<20} {'precision':<15} {'batch':>5} "
        f"{'step (ms)':>10} {'samples/s':>10} {'peak GiB':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        if "error" in r:
            print(
                f"{r['impl']:<14} {r['model']:<20} {r['precision']:<15} {r['batch']:>5} "
                f"failed: {r['error']}"
            )
            continue
        tag = " (largest)" if r.get("largest") else ""
        print(
            f"{r['impl']:<14} {r['model']:<20} {r['precision']:<15} {r['batch']:>5} "
            f"{1000 * r['step_s']:>10.1f} {r['samples_per_s']:>10.1f} "
            f"{r['peak_gib']:>9.2f}{tag}"
        )


def print_profiles(rows):
    """The `--profile` ops of each row that has them."""
    for r in rows:
        if not r.get("profile"):
            continue
        print(
            f"\nlongest ops, {r['impl']} {r['model']} {r['precision']} batch {r['batch']} (ms per step, share):"
        )
        for name, seconds, share in r["profile"]:
            print(f"  {seconds * 1e3:9.2f} {share:6.1%}  {name[:110]}")


def print_ratios(rows, batch=16):
    def find(impl, model, precision, batch):
        for r in rows:
            if (
                (r.get("impl"), r.get("model"), r.get("precision"), r.get("batch"))
                == (impl, model, precision, batch)
                and "error" not in r
                and not r.get("largest")
            ):
                return r
        return None

    impls = sorted({r["impl"] for r in rows})
    precisions = sorted({r["precision"] for r in rows})
    for precision in precisions:
        for impl in impls:
            base = find(impl, "simvp", precision, batch)
            for variant in ("simvp_svq_frozen", "simvp_svq_learnable"):
                row = find(impl, variant, precision, batch)
                if base and row:
                    print(
                        f"{impl} {precision}: {variant} step time = "
                        f"{row['step_s'] / base['step_s']:.3f}x SimVP's"
                    )
        ours = [i for i in impls if i.startswith("keras-")]
        others = [i for i in impls if not i.startswith("keras-")]
        for mine in ours:
            for other in others:
                for variant in VARIANTS:
                    a, b = (
                        find(mine, variant, precision, batch),
                        find(other, variant, precision, batch),
                    )
                    if a and b:
                        print(
                            f"{precision} {variant}: {mine} trains "
                            f"{a['samples_per_s'] / b['samples_per_s']:.2f}x as fast as {other}"
                        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["jax"])
    parser.add_argument(
        "--precisions", nargs="+", default=["float32", "mixed_bfloat16"]
    )
    parser.add_argument(
        "--models", nargs="+", default=list(VARIANTS), choices=list(VARIANTS)
    )
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument(
        "--largest",
        action="store_true",
        help="also search the largest batch that fits (doubling)",
    )
    parser.add_argument("--max-batch", type=int, default=4096)  # for --largest
    parser.add_argument(
        "--compare", help="JSON rows measured elsewhere, e.g. the official code"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="tiny shapes, for CPU checks"
    )
    parser.add_argument("--no-jit", action="store_true")
    parser.add_argument(
        "--torch-compile",
        action="store_true",
        help="jit_compile=True on every backend (torch.compile on torch)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="JAX: trace 3 more steps and print the N ops that take longest",
    )
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--output", help="also write the rows as JSON here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        jit = False if args.no_jit else ("auto", True)[args.torch_compile]
        row = run_worker(
            args.worker,
            args.precisions[0],
            args.batch,
            args.steps,
            args.smoke,
            jit=jit,
            profile=args.profile,
        )
        print(json.dumps(row))
        return
    rows = []
    for backend in args.backends:
        for precision in args.precisions:
            for variant in args.models:
                rows.append(_spawn(backend, variant, precision, args.batch, args))
                print(json.dumps(rows[-1]), flush=True)
                if args.largest and "error" not in rows[-1]:
                    _largest_batch(backend, variant, precision, args, rows, rows[-1])
    if args.compare:
        with open(args.compare) as handle:
            rows.extend(json.load(handle))
    print()
    print_table(rows)
    print_profiles(rows)
    print_ratios(rows, args.batch)
    if args.output:
        with open(args.output, "w") as handle:
            json.dump(rows, handle, indent=1)


if __name__ == "__main__":
    main()
