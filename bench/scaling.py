"""How a SimVP-gSTA training step grows with grid size, codebook size and batch.

Three axes, every point trained in its own process (`model.fit` on in-memory
random batches, the paper's t2m SimVP-gSTA: hid_S 32, hid_T 256, N_S 2, N_T 8,
L1 loss, Adam):

- grid: 32x64 -> 64x128 -> 128x256 (WeatherBench at 5.625, 2.8125 and
  1.40625 degrees), 12 -> 12 frames, batch `--grid-batch`;
- codebook: SVQ (frozen codebook, hidden 128) with K = 1k -> 10k -> 100k on
  the 32x64 grid, batch `--k-batch`, in both forms of the layer: the folded
  one the library uses (`w @ C` computed as `h @ (W2 @ C) + b2 @ C`, the (N, K)
  code weights never exist) and the explicit one (the (N, K) weights are
  built, as the reference code does);
- batch: 1 -> 4 -> 16 on the 32x64 grid.

For every point: median step time after one untimed step, the process's peak
RSS (`ru_maxrss`) and the peak above the RSS just before training (what the
step itself adds: activations, gradients, scratch buffers). Each axis ends
with the fitted growth exponent (least-squares slope of log y against log x):
1.0 is linear, 0 is flat. Points whose explicit (N, K) weights alone would
pass `--max-gib` are skipped and marked so.

    python bench/scaling.py                   # about 15 minutes on 2 idle cores
    python bench/scaling.py --axes codebook   # one axis
    python bench/scaling.py --quick           # tiny model and sizes, a smoke run

Prints a markdown table per axis (for `bench/RESULTS.md`); `--json FILE`
keeps the raw records.
"""

import argparse
import json
import math
import os
import pathlib
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
T2M = dict(
    input_length=12,
    output_length=12,
    channels=1,
    spatial_hidden_dim=32,
    temporal_hidden_dim=256,
    num_spatial_layers=2,
    num_temporal_layers=8,
    translator="gsta",
    mlp_ratio=8.0,
    drop_path_rate=0.1,
)
TINY = dict(
    input_length=4,
    output_length=4,
    channels=1,
    spatial_hidden_dim=8,
    temporal_hidden_dim=16,
    num_spatial_layers=2,
    num_temporal_layers=2,
    translator="gsta",
    mlp_ratio=2.0,
)
FULL = dict(
    grid=[(32, 64), (64, 128), (128, 256)],
    codebook=[1000, 10000, 100000],
    batch=[1, 4, 16],
    base_grid=(32, 64),
)
QUICK = dict(
    grid=[(8, 16), (16, 32)],
    codebook=[64, 256],
    batch=[1, 4],
    base_grid=(8, 16),
)


def fit_exponent(xs, ys):
    """Least-squares slope of log(y) against log(x); NaN with < 2 usable points."""
    points = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len(points) < 2:
        return float("nan")
    mx = sum(p[0] for p in points) / len(points)
    my = sum(p[1] for p in points) / len(points)
    sxx = sum((p[0] - mx) ** 2 for p in points)
    sxy = sum((p[0] - mx) * (p[1] - my) for p in points)
    return sxy / sxx if sxx else float("nan")


def explicit_gib(point):
    """Size of one (N, K) float32 tensor of the explicit SVQ, GiB."""
    if point.get("form") != "explicit":
        return 0.0
    h, w = point["grid"]
    n = point["batch"] * point["model"]["input_length"] * (h // 2) * (w // 2)
    return n * point["codebook"] * 4 / 2**30


def points_for(axis, sizes, model, args):
    base = dict(
        model=model,
        grid=tuple(sizes["base_grid"]),
        batch=args.batch,
        codebook=None,
        form=None,
    )
    if axis == "grid":
        return [
            dict(base, axis=axis, x=h * w, grid=(h, w), batch=args.grid_batch)
            for h, w in sizes["grid"]
        ]
    if axis == "batch":
        return [dict(base, axis=axis, x=b, batch=b) for b in sizes["batch"]]
    if axis == "codebook":
        return [
            dict(
                base,
                axis=f"codebook ({form})",
                x=k,
                codebook=k,
                form=form,
                batch=args.k_batch,
            )
            for form in ("folded", "explicit")
            for k in sizes["codebook"]
        ]
    raise ValueError(
        f"Unknown axis. Valid: grid, codebook, batch. Received: axis={axis!r}"
    )


def worker(point, steps, threads):
    sys.path.insert(0, str(REPO / "bench"))
    import bench_runtime

    bench_runtime.configure(threads=threads)
    sys.path.insert(0, str(REPO))
    import resource

    import keras
    import numpy as np

    from keras_svq.optimizers import FusedAdam
    from keras_svq.quantizers import SparseVectorQuantizer
    from zoo import SimVPBackbone

    class ExplicitSVQ(SparseVectorQuantizer):
        """The SVQ computed as `w @ C` with the (N, K) code weights built."""

        @property
        def uses_fast_path(self):
            return False

    keras.utils.set_random_seed(0)
    quantizer = None
    if point["codebook"]:
        cls = ExplicitSVQ if point["form"] == "explicit" else SparseVectorQuantizer
        quantizer = cls(
            codebook_size=point["codebook"],
            hidden_dim=min(128, point["codebook"]),
            freeze_codebook=True,
        )
    h, w = point["grid"]
    model = SimVPBackbone(**point["model"], height=h, width=w, quantizer=quantizer)
    model.compile(optimizer=FusedAdam(1e-3), loss="mae")
    m = point["model"]
    n = point["batch"] * (steps + 1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, m["input_length"], h, w, m["channels"])).astype(
        "float32"
    )
    y = rng.standard_normal((n, m["output_length"], h, w, m["channels"])).astype(
        "float32"
    )
    with open("/proc/self/status") as handle:
        before = next(
            int(line.split()[1]) for line in handle if line.startswith("VmRSS")
        )

    class Timer(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.times = []

        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.times.append(time.perf_counter() - self.start)

    timer = Timer()
    model.fit(
        x,
        y,
        batch_size=point["batch"],
        epochs=1,
        verbose=0,
        shuffle=False,
        callbacks=[timer],
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    timed = sorted(timer.times[1:])
    return dict(
        point,
        step_s=timed[len(timed) // 2],
        first_step_s=timer.times[0],
        peak_rss_gib=peak / 2**20,
        step_gib=(peak - before) / 2**20,
        params=int(model.count_params()),
    )


def run_point(point, args):
    if explicit_gib(point) > args.max_gib:
        return dict(
            point, skipped=f"(N, K) weights {explicit_gib(point):.1f} GiB > --max-gib"
        )
    command = [
        sys.executable,
        __file__,
        "--worker",
        json.dumps(point),
        "--steps",
        str(args.steps),
        "--threads",
        str(args.threads),
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    proc = subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env)
    if proc.returncode != 0:
        tail = proc.stderr.strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        return dict(point, skipped=f"failed: {tail[0][-200:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _label(r):
    if r["axis"] == "grid":
        return "x".join(str(s) for s in r["grid"])
    return f"{r['x']:,}"


def print_tables(records):
    exponents = {}
    for axis in dict.fromkeys(r["axis"] for r in records):
        rows = [r for r in records if r["axis"] == axis]
        ok = [r for r in rows if "skipped" not in r]
        r0 = rows[0]
        unit = {"grid": "pixels (H x W)", "batch": "batch"}.get(axis, "codebook size K")
        print(
            f"\n### {axis}: {unit}; batch {r0['batch']}, grid {r0['grid'][0]}x{r0['grid'][1]}"
            if axis != "grid"
            else f"\n### {axis}: {unit}; batch {r0['batch']}"
        )
        print(
            "| point | params | step (s) | first step (s) | peak RSS (GiB) | step adds (GiB) |"
        )
        print("|---|---:|---:|---:|---:|---:|")
        for r in rows:
            if "skipped" in r:
                print(f"| {_label(r)} | - | skipped: {r['skipped']} | | | |")
                continue
            print(
                f"| {_label(r)} | {r['params']:,} | {r['step_s']:.3f} | {r['first_step_s']:.1f} "
                f"| {r['peak_rss_gib']:.2f} | {r['step_gib']:.2f} |"
            )
        xs = [r["x"] for r in ok]
        exponents[axis] = {
            key: fit_exponent(xs, [r[key] for r in ok])
            for key in ("step_s", "peak_rss_gib", "step_gib")
        }
        e = exponents[axis]
        print(
            f"| growth exponent | | {e['step_s']:.2f} | | {e['peak_rss_gib']:.2f} "
            f"| {e['step_gib']:.2f} |"
        )
    print("\n### fitted growth exponents (log-log slope; 1 = linear, 0 = flat)")
    print("| axis | step time | peak RSS | step adds |")
    print("|---|---:|---:|---:|")
    for axis, e in exponents.items():
        print(
            f"| {axis} | {e['step_s']:.2f} | {e['peak_rss_gib']:.2f} | {e['step_gib']:.2f} |"
        )
    return exponents


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--axes", nargs="+", default=["grid", "codebook", "batch"])
    parser.add_argument("--quick", action="store_true", help="tiny model and sizes")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per point")
    parser.add_argument("--batch", type=int, default=16, help=argparse.SUPPRESS)
    parser.add_argument("--grid-batch", type=int, default=1)
    parser.add_argument("--k-batch", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--max-gib",
        type=float,
        default=3.0,
        help="skip explicit SVQ points whose (N, K) tensor exceeds this",
    )
    parser.add_argument("--json", help="also write the raw records here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        point = json.loads(args.worker)
        point["grid"] = tuple(point["grid"])
        print(json.dumps(worker(point, args.steps, args.threads)))
        return
    sizes, model = (QUICK, TINY) if args.quick else (FULL, T2M)
    if args.quick:
        args.steps = min(args.steps, 2)
    records = []
    for axis in args.axes:
        for point in points_for(axis, sizes, model, args):
            records.append(run_point(point, args))
            print(
                json.dumps({k: v for k, v in records[-1].items() if k != "model"}),
                flush=True,
            )
    exponents = print_tables(records)
    if args.json:
        pathlib.Path(args.json).write_text(
            json.dumps({"records": records, "exponents": exponents}, indent=1)
        )
    return records, exponents


if __name__ == "__main__":
    main()
