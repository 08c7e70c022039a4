"""Does vector quantization help forecasting? SimVP-gSTA with each quantizer.

Reruns the paper's comparison (arXiv 2312.03406, WeatherBench-S t2m table:
VQ-VAE, residual VQ, grouped residual VQ against SimVP and SVQ) at CPU scale
on the shipped ERA5 sample (UK 2 m temperature, 12 h -> 12 h, frames cropped
to 32 x 48): the same SimVP-gSTA model as the `era5_uk` presets, trained for
the same small budget with no quantizer, SVQ (frozen and learnable codebook),
VQ, RVQ, GRVQ, FSQ and LFQ before the translator, several seeds each. Prints
test MSE / MAE (in kelvin, mean +- standard deviation over seeds), parameter
counts (all weights, and trainable ones) and the time per training step.

The quantizer settings are the reference's `ablation_vq` configs
(`configs/weather/t2m_5_625/ablation_vq/` in Pachark/SVQ-Forecasting), except
LFQ's codebook (1024 codes instead of 8192: its entropy loss materialises an
`(N, K)` matrix, N = 73,728 latent vectors per batch here) and FSQ, which the
reference only runs as residual FSQ (levels [8, 5, 5, 3]; plain FSQ uses
[8, 5, 5, 5]). The SVQ settings are the `era5_uk` presets'.

    python bench/quantizer_comparison.py                       # 8 x 3 runs
    python bench/quantizer_comparison.py --epochs 1 --seeds 0 --quantizers none vq
    python bench/quantizer_comparison.py --max-steps 2 --epochs 1 --seeds 0  # smoke

Numbers depend on the machine and the budget; the paper's conclusion to
check is the ordering (SVQ <= no quantizer < VQ variants), not the values.
"""

import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_svq.data import load_sample  # noqa: E402
from keras_svq.quantizers import quantizer_config_from_reference  # noqa: E402

CROP = (32, 48)
MODEL = dict(
    input_length=12,
    output_length=12,
    height=CROP[0],
    width=CROP[1],
    channels=1,
    spatial_hidden_dim=16,
    temporal_hidden_dim=64,
    num_spatial_layers=2,
    num_temporal_layers=2,
    translator="gsta",
    mlp_ratio=4.0,
)
SVQ = {"name": "svq", "codebook_size": 2000, "hidden_dim": 128}

# name -> quantizer config for `SimVPBackbone(quantizer=...)`.
QUANTIZER_CONFIGS = {
    "none": None,
    "svq_frozen": {**SVQ, "freeze_codebook": True},
    "svq_learnable": {**SVQ, "freeze_codebook": False},
    "vq": quantizer_config_from_reference(
        "vq", {"codebook_size": 1024, "decay": 0.8, "commitment_weight": 1.0}
    ),
    "rvq": quantizer_config_from_reference(
        "rvq", {"num_quantizers": 8, "codebook_size": 1024, "shared_codebook": True}
    ),
    "grvq": quantizer_config_from_reference(
        "grvq",
        {
            "num_quantizers": 8,
            "codebook_size": 1024,
            "groups": 2,
            "shared_codebook": True,
        },
    ),
    "fsq": {"name": "fsq", "levels": [8, 5, 5, 5]},
    "lfq": quantizer_config_from_reference(
        "lfq",
        {"codebook_size": 1024, "entropy_loss_weight": 0.1, "diversity_gamma": 1.0},
    ),
}


class StepTimer(keras.callbacks.Callback):
    """Wall time of the training steps after the first (which compiles)."""

    def __init__(self):
        super().__init__()
        self.times = []
        self._start = None

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.times.append(time.perf_counter() - self._start)

    @property
    def seconds_per_step(self):
        steady = self.times[1:] or self.times
        return float(np.median(steady)) if steady else float("nan")


def _crop(ds):
    h, w = CROP
    return ds.map(lambda x, y: (x[..., :h, :w, :], y[..., :h, :w, :]))


def load_data(seed, batch_size):
    splits = load_sample(
        "era5_t2m_uk",
        input_length=MODEL["input_length"],
        output_length=MODEL["output_length"],
        batch_size=batch_size,
        seed=seed,
        stride=2,
    )
    x_test, y_test = splits.arrays("test")
    h, w = CROP
    return {
        "train": _crop(splits.train),
        "x_test": np.asarray(x_test)[..., :h, :w, :],
        "y_test": np.asarray(y_test)[..., :h, :w, :],
        "normalizer": splits.normalizer,
    }


def run_one(name, seed, data, args):
    from zoo import SimVPBackbone

    keras.utils.set_random_seed(seed)
    model = SimVPBackbone(**MODEL, quantizer=QUANTIZER_CONFIGS[name])
    train = data["train"]
    if args.max_steps:
        train = train.take(args.max_steps)
    steps = sum(1 for _ in train) * args.epochs
    schedule = keras.optimizers.schedules.CosineDecay(args.learning_rate, max(steps, 1))
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    timer = StepTimer()
    model.fit(train, epochs=args.epochs, verbose=0, callbacks=[timer])
    pred = model.predict(data["x_test"], batch_size=args.batch_size, verbose=0)
    denormalize = data["normalizer"].denormalize
    error = np.asarray(denormalize(pred), "float64") - np.asarray(
        denormalize(data["y_test"]), "float64"
    )
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    return {
        "quantizer": name,
        "seed": seed,
        "mse": float(np.mean(error**2)),
        "mae": float(np.mean(np.abs(error))),
        "params": int(model.count_params()),
        "trainable_params": trainable,
        "seconds_per_step": timer.seconds_per_step,
        "steps": len(timer.times),
    }


def _mean_spread(values):
    values = np.asarray(values, "float64")
    spread = values.std(ddof=1) if len(values) > 1 else 0.0
    return f"{values.mean():.4f} +- {spread:.4f}"


def summarize(results, names):
    header = (
        "quantizer",
        "params",
        "trainable",
        "s/step",
        "MSE (K^2)",
        "MAE (K)",
        "runs",
    )
    rows = []
    for name in names:
        runs = [r for r in results if r["quantizer"] == name]
        if not runs:
            continue
        rows.append(
            (
                name,
                f"{runs[0]['params']:,}",
                f"{runs[0]['trainable_params']:,}",
                f"{np.median([r['seconds_per_step'] for r in runs]):.3f}",
                _mean_spread([r["mse"] for r in runs]),
                _mean_spread([r["mae"] for r in runs]),
                str(len(runs)),
            )
        )
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(row, widths)) for row in rows]
    return "\n".join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--epochs", type=int, default=3, help="epochs per run (default 3)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument(
        "--quantizers",
        nargs="+",
        default=list(QUANTIZER_CONFIGS),
        choices=list(QUANTIZER_CONFIGS),
        help="default: all",
    )
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--learning-rate", type=float, default=5e-3)
    parser.add_argument(
        "--max-steps",
        type=int,
        default=0,
        help="cap the training batches per epoch (0: the whole split); for smoke tests",
    )
    parser.add_argument("--json", help="also write every run's figures to this file")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    results = []
    for seed in args.seeds:
        data = load_data(seed, args.batch_size)
        for name in args.quantizers:
            result = run_one(name, seed, data, args)
            results.append(result)
            print(
                f"{name:>14s} seed {seed}: MSE {result['mse']:.4f}  MAE {result['mae']:.4f}  "
                f"{result['seconds_per_step']:.3f} s/step",
                flush=True,
            )
            keras.backend.clear_session()
    print()
    print(
        f"SimVP-gSTA on era5_t2m_uk (12 -> 12 h, {CROP[0]}x{CROP[1]}), "
        f"{args.epochs} epoch(s){f' x {args.max_steps} steps' if args.max_steps else ''}, "
        f"seeds {args.seeds}; test errors in physical units"
    )
    print(summarize(results, args.quantizers))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    bad = [r for r in results if not math.isfinite(r["mse"])]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
