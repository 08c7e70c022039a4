"""Our SimVP-gSTA training step against the official PyTorch code, interleaved in one sitting.

Needs a checkout of the official code (github.com/Pachark/SVQ-Forecasting,
which contains OpenSTL) and PyTorch. Keep the checkout in an ignored folder
(`/.official/` in `.gitignore`); packages it needs that the project does not
(timm, ...) can go in `DIR/site` (`pip install --target DIR/site --no-deps
timm==0.6.13`). Modules the official import chain names but SimVP-gSTA and its
SVQ never use (timm's other blocks, torchvision, vector_quantize_pytorch,
einops) are replaced by stubs that fail if called. Nothing here is imported by
the package, and the official code is imported only from `DIR`.

    python bench/compare_official.py --official-dir .official [--steps 8] \
        [--models simvp simvp_remat svq_frozen svq_learnable] [--inference]

`simvp_remat` is ours with `training.remat_layers: [attn, mlp]` (gradient
checkpointing of the translator's mixers and MLPs), `simvp_remat_mlp` with
`[mlp]`, `simvp_keep_hidden` with `MixMLP(recompute_hidden=False)` (the
hidden tensors kept, as before that default), each against the same official
model.

For each model, one process holds ours (Keras, TensorFlow backend,
`keras_svq.runtime` settings) and one the official model (same shape: 12 ->
12 frames of 32x64x1, hid_S 32, hid_T 256, N_S 2, N_T 8, gSTA, mlp_ratio 8,
drop_path 0.1, batch 16, Adam, L1 loss). Both are built first; then the
driver alternates single training steps: ours, official, ours, official...
For every step it records the wall time, the worker's own CPU time and the
CPU time that the whole machine spent meanwhile (`/proc/stat`), so that
`others` = the share of the machine's CPU used by other processes during the
step (0 = a clean step). The first `--warmup` steps of each are untimed
(graph building, first-touch allocations). With `--inference`, batch-16
forward passes are interleaved the same way (`model(x)` in `no_grad` /
`eval` for the official code, `keras_svq.runtime.compiled_predictor` for ours).

Prints a per-step table and a summary: median seconds, samples/s, peak RSS
(`ru_maxrss` of each worker process) and the ours/official ratios.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time
import types

REPO = pathlib.Path(__file__).resolve().parents[1]
SHAPE = dict(T=12, C=1, H=32, W=64, batch=16)
SIMVP = dict(
    hid_S=32, hid_T=256, N_S=2, N_T=8, model_type="gSTA", mlp_ratio=8.0, drop_path=0.1
)
SVQ = dict(input_dim=32, codebook_size=10000, nonlinear=True, middim=128)
MODELS = {
    "simvp": ("weather_t2m/simvp_gsta", None),
    "svq_frozen": (
        "weather_t2m/simvp_gsta_svq_frozen",
        dict(SVQ, freeze_codebook=True),
    ),
    "svq_learnable": (
        "weather_t2m/simvp_gsta_svq_learnable",
        dict(SVQ, freeze_codebook=False),
    ),
}
# Ours with gradient checkpointing (`training.remat_layers`): the official
# model is the same as for the plain preset.
REMAT = {"simvp_remat": ("attn", "mlp"), "simvp_remat_mlp": ("mlp",)}
# Ours with `MixMLP(recompute_hidden=False)`: the hidden tensors kept.
KEEP_HIDDEN = ("simvp_keep_hidden",)
MODELS.update({name: MODELS["simvp"] for name in (*REMAT, *KEEP_HIDDEN)})


def _cpu_jiffies():
    """(busy, total) jiffies of the whole machine from /proc/stat."""
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def _stub_missing(names):
    """Registers stub modules whose attributes are classes failing when used."""

    class _Unavailable:
        def __init__(self, *args, **kwargs):
            raise ImportError(
                f"{self.__class__.__name__} is a stub in bench/compare_official.py"
            )

    def make(name):
        module = types.ModuleType(name)
        module.__path__ = []

        def attribute(attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return type(attr, (_Unavailable,), {})

        module.__getattr__ = attribute
        return module

    for name in names:
        try:
            __import__(name)
        except ImportError:
            for i in range(1, name.count(".") + 2):
                part = ".".join(name.split(".")[:i])
                sys.modules.setdefault(part, make(part))


def _timm_layers_fallback():
    """`timm.models.layers.DropPath` and `trunc_normal_` when timm cannot be imported."""
    try:
        from timm.models.layers import DropPath  # noqa: F401
        from timm.models.layers import trunc_normal_  # noqa: F401

        return
    except ImportError:
        pass
    import torch
    from torch import nn

    class DropPath(nn.Module):  # timm 0.6.13's, per-sample stochastic depth
        def __init__(self, drop_prob=0.0, scale_by_keep=True):
            super().__init__()
            self.drop_prob, self.scale_by_keep = drop_prob, scale_by_keep

        def forward(self, x):
            if self.drop_prob == 0.0 or not self.training:
                return x
            keep = 1 - self.drop_prob
            shape = (x.shape[0],) + (1,) * (x.ndim - 1)
            mask = x.new_empty(shape).bernoulli_(keep)
            if keep > 0.0 and self.scale_by_keep:
                mask.div_(keep)
            return x * mask

    for name in [m for m in sys.modules if m == "timm" or m.startswith("timm.")]:
        del sys.modules[name]
    _stub_missing(
        [
            "timm.models.layers",
            "timm.models.convnext",
            "timm.models.mlp_mixer",
            "timm.models.swin_transformer",
            "timm.models.vision_transformer",
        ]
    )
    layers = sys.modules["timm.models.layers"]
    layers.DropPath = DropPath
    layers.trunc_normal_ = nn.init.trunc_normal_
    swin = sys.modules["timm.models.swin_transformer"]
    swin.window_partition = swin.window_reverse = lambda *a, **k: None
    del torch


def official_worker(name, official_dir, threads):
    official_dir = pathlib.Path(official_dir).resolve()
    sys.path[:0] = [str(official_dir / "site"), str(official_dir)]
    import torch

    torch.set_num_threads(threads)
    _timm_layers_fallback()
    # `openstl.models` imports every model and its utilities (cv2, lpips,
    # scikit-image, ...): stub each third-party module found missing, retry.
    for _ in range(50):
        try:
            from openstl.models.simvp_model import SimVP_Model
            from openstl.models.simvpvq_model import SimVPVQ_Model

            break
        except ModuleNotFoundError as error:
            if not error.name or error.name.split(".")[0] == "openstl":
                raise
            for module in [m for m in sys.modules if m.split(".")[0] == "openstl"]:
                del sys.modules[module]
            _stub_missing([error.name])

    torch.manual_seed(0)
    in_shape = (SHAPE["T"], SHAPE["C"], SHAPE["H"], SHAPE["W"])
    vq = MODELS[name][1]
    if vq is None:
        model = SimVP_Model(in_shape, **SIMVP)
    else:
        model = SimVPVQ_Model(in_shape, **SIMVP, vq_type="svq", vq_kwargs=vq)
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    x = torch.randn(SHAPE["batch"], SHAPE["T"], SHAPE["C"], SHAPE["H"], SHAPE["W"])
    y = torch.randn_like(x)

    def train_step():
        model.train()
        optimizer.zero_grad()
        out = model(x)
        out = out[0] if isinstance(out, tuple) else out
        loss = torch.nn.functional.l1_loss(out, y)
        loss.backward()
        optimizer.step()

    def infer():
        model.eval()
        with torch.no_grad():
            out = model(x)
        return out[0] if isinstance(out, tuple) else out

    return train_step, infer, sum(p.numel() for p in model.parameters())


def ours_worker(name, threads):
    sys.path.insert(0, str(REPO / "bench"))
    import bench_runtime

    bench_runtime.configure(threads=threads)
    sys.path.insert(0, str(REPO))
    from keras_svq import runtime

    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import keras
    import numpy as np

    from keras_svq.layers.remat import remat_scope
    from keras_svq.optimizers import FusedAdam
    from zoo import SimVPBackbone

    keras.utils.set_random_seed(0)
    with remat_scope(REMAT.get(name)):
        model = SimVPBackbone.from_preset(MODELS[name][0], load_weights=False)
    if name in KEEP_HIDDEN:
        bench_runtime.keep_mix_mlp_hidden(model)
    model.compile(optimizer=FusedAdam(5e-3), loss="mae")
    rng = np.random.default_rng(0)
    shape = (SHAPE["batch"], SHAPE["T"], SHAPE["H"], SHAPE["W"], SHAPE["C"])
    x = rng.standard_normal(shape).astype("float32")
    y = rng.standard_normal(shape).astype("float32")
    predict = runtime.compiled_predictor(model)

    def train_step():
        model.train_on_batch(x, y)

    def infer():
        return predict(x).numpy()

    return train_step, infer, model.count_params()


def serve(args):
    """Worker loop: builds the model, then runs one command per stdin line."""
    import resource

    if args.worker == "ours":
        train_step, infer, params = ours_worker(args.model, args.threads)
    else:
        train_step, infer, params = official_worker(
            args.model, args.official_dir, args.threads
        )
    print(json.dumps({"ready": True, "params": int(params)}), flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "quit":
            break
        fn = train_step if command == "train" else infer
        cpu, wall = time.process_time(), time.perf_counter()
        fn()
        print(
            json.dumps(
                {
                    "wall": time.perf_counter() - wall,
                    "cpu": time.process_time() - cpu,
                    "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                    / 2**20,
                }
            ),
            flush=True,
        )


class Worker:
    def __init__(self, kind, model, args):
        command = [
            sys.executable,
            __file__,
            "--worker",
            kind,
            "--model",
            model,
            "--threads",
            str(args.threads),
            "--official-dir",
            str(args.official_dir),
        ]
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env=env,
        )
        self.kind = kind
        self.info = self._read()

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.kind} worker died (its stderr is above)")
        return json.loads(line)

    def run(self, command):
        busy0, total0 = _cpu_jiffies()
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        record = self._read()
        busy1, total1 = _cpu_jiffies()
        hz = os.sysconf("SC_CLK_TCK")
        machine_busy = (busy1 - busy0) / hz
        capacity = (total1 - total0) / hz  # CPU-seconds available on all cores
        others = max(0.0, machine_busy - record["cpu"])
        record["others"] = others / capacity if capacity else 0.0
        return record

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _median(values):
    values = sorted(values)
    return values[len(values) // 2]


def compare(args):
    summary = []
    print(
        "| model | phase | step | ours s | ours cpu s | others % | official s | official cpu s | others % |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for model in args.models:
        ours = Worker("ours", model, args)
        official = Worker("official", model, args)
        phases = [("train", args.steps)] + (
            [("infer", args.calls)] if args.inference else []
        )
        for phase, count in phases:
            a_rows, b_rows = [], []
            for i in range(args.warmup + count):
                a, b = ours.run(phase), official.run(phase)
                if i < args.warmup:
                    continue
                a_rows.append(a)
                b_rows.append(b)
                print(
                    f"| {model} | {phase} | {i - args.warmup + 1} | {a['wall']:.3f} | {a['cpu']:.2f} "
                    f"| {100 * a['others']:.0f} | {b['wall']:.3f} | {b['cpu']:.2f} | {100 * b['others']:.0f} |",
                    flush=True,
                )
            clean = [
                (a, b)
                for a, b in zip(a_rows, b_rows)
                if a["others"] <= args.clean and b["others"] <= args.clean
            ]
            summary.append(
                dict(
                    model=model,
                    phase=phase,
                    ours_s=_median([a["wall"] for a in a_rows]),
                    official_s=_median([b["wall"] for b in b_rows]),
                    clean_steps=len(clean),
                    ours_clean_s=_median([a["wall"] for a, _ in clean])
                    if clean
                    else float("nan"),
                    official_clean_s=_median([b["wall"] for _, b in clean])
                    if clean
                    else float("nan"),
                    ours_peak_gib=a_rows[-1]["peak_rss_gib"],
                    official_peak_gib=b_rows[-1]["peak_rss_gib"],
                    others_max=max(
                        max(a["others"], b["others"]) for a, b in zip(a_rows, b_rows)
                    ),
                    ours_params=ours.info["params"],
                    official_params=official.info["params"],
                )
            )
        ours.close()
        official.close()
    batch = SHAPE["batch"]
    print(
        f"\nSummary (batch {batch}, {args.threads} threads; 'clean' = steps where other "
        f"processes used <= {100 * args.clean:.0f}% of the machine during both)"
    )
    print(
        "| model | phase | official s | ours s | ours samples/s / official | clean steps | ours/official (clean) "
        "| official peak RSS GiB | ours peak RSS GiB | RSS ours/official | params ours / official |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in summary:
        print(
            f"| {s['model']} | {s['phase']} | {s['official_s']:.3f} | {s['ours_s']:.3f} "
            f"| {s['official_s'] / s['ours_s']:.2f}x | {s['clean_steps']} "
            f"| {s['official_clean_s'] / s['ours_clean_s']:.2f}x | {s['official_peak_gib']:.2f} "
            f"| {s['ours_peak_gib']:.2f} | {s['ours_peak_gib'] / s['official_peak_gib']:.2f} "
            f"| {s['ours_params']:,} / {s['official_params']:,} |"
        )
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(summary, indent=1))
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--official-dir", type=pathlib.Path, default=REPO / ".official")
    parser.add_argument("--models", nargs="+", default=["simvp"], choices=list(MODELS))
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument(
        "--inference", action="store_true", help="also time batch-16 forward passes"
    )
    parser.add_argument(
        "--calls", type=int, default=10, help="forward passes with --inference"
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--clean",
        type=float,
        default=0.05,
        help="largest 'others' share of a clean step",
    )
    parser.add_argument("--json")
    parser.add_argument(
        "--worker", choices=["ours", "official"], help=argparse.SUPPRESS
    )
    parser.add_argument("--model", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return serve(args)
    if not (args.official_dir / "openstl").is_dir():
        sys.exit(
            f"No official checkout in {args.official_dir} (expected {args.official_dir}/openstl)"
        )
    return compare(args)


if __name__ == "__main__":
    main()
