"""Trains, evaluates and ships the weights of presets (a maintainer's tool).

For each preset: `keras-svq train --preset NAME --seed S` into
`RUNS/NAME`, `keras-svq evaluate --run RUNS/NAME`, then the run's best
checkpoint (lowest validation loss) becomes the preset's shipped weights
beside its YAML file:

```
zoo/presets/<dataset>/<model>.weights.h5          (+ .sha256 sidecar)
zoo/presets/<dataset>/<model>.metadata.json       normaliser, test metrics, provenance
```

A step already done (a finished run, an evaluation) is not redone, so the
command resumes after an interruption. Runs on the CPU at low priority
(`nice`). Usage, from the source tree:

```
python tools/train_preset_weights.py era5_uk/simvp_gsta era5_uk/simvp_gsta_residual
python tools/train_preset_weights.py --samples          # every preset on shipped data
python tools/train_preset_weights.py --convert-only era5_uk/simvp_gsta
python tools/train_preset_weights.py --table            # the README's table
```
"""

import argparse
import datetime
import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
# The presets trained on data shipped with the package, in training order.
SAMPLE_PRESETS = [
    f"{dataset}/{model}"
    for dataset, models in (
        ("era5_uk", ("", "_svq_frozen", "_svq_learnable")),
        ("era5_uk", ("_residual", "_svq_frozen_residual", "_svq_learnable_residual")),
        ("nyc_taxi", ("", "_svq_frozen", "_svq_learnable")),
        ("nyc_taxi", ("_residual", "_svq_frozen_residual", "_svq_learnable_residual")),
        ("mmnist_sample", ("", "_svq_frozen", "_svq_learnable")),
    )
    for model in (f"simvp_gsta{suffix}" for suffix in models)
]


def _keras_svq(*args, log=None):
    command = ["nice", "-n", "10", sys.executable, "-m", "keras_svq", *args]
    print("$", " ".join(command), flush=True)
    with open(log, "w") if log else open(os.devnull, "w") as out:
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    if code:
        raise SystemExit(f"failed (exit {code}): {' '.join(args)}; see {log}")


def _read_json(path):
    return json.loads(pathlib.Path(path).read_text())


def train_and_evaluate(name, run, seed):
    info = run / "run.json"
    if not (info.exists() and _read_json(info).get("status") == "finished"):
        run.parent.mkdir(parents=True, exist_ok=True)
        _keras_svq(
            "train",
            "--preset",
            name,
            "--seed",
            str(seed),
            "--output-dir",
            str(run),
            "--quiet",
            log=run.parent / f"{run.name}.train.log",
        )
    if not (run / "evaluation" / "metrics.json").exists():
        _keras_svq(
            "evaluate",
            "--run",
            str(run),
            "--num-plots",
            "0",
            log=run.parent / f"{run.name}.evaluate.log",
        )


def _git(*args):
    return subprocess.check_output(["git", "-C", str(ROOT), *args], text=True).strip()


def _test_metrics(results):
    """What the presets publish of `keras-svq evaluate`'s metrics.json."""
    physical = results["physical"]
    test = {
        key: physical[key]
        for key in ("mse", "mae", "rmse", "weighted_mse", "weighted_rmse")
        if key in physical
    }
    test["units"] = results.get("units", [])
    test["num_test_examples"] = results["num_test_examples"]
    for baseline, skill in results.get("skill", {}).items():
        test[f"mse_skill_{baseline}"] = skill["mse_skill"]
    test["reference"] = results.get("reference", {})
    return test


def convert(name, run, seed):
    """The run's best checkpoint -> the preset's weights and metadata."""
    import keras
    import numpy as np

    from keras_svq.io_utils import atomic_save_weights
    from keras_svq.io_utils import atomic_write_json
    from keras_svq.training import trainer
    from keras_svq.training.callbacks import load_weights_checked
    from keras_svq.training.config import get_backbone_class
    from zoo import presets

    keras.config.set_dtype_policy("float32")
    layout, config, info = trainer.load_run(run)
    preset = presets.load_preset(name)
    if config["model"] != preset["model"] or config["data"] != preset["data"]:
        raise SystemExit(
            f"{run} was trained with another model or data section than the "
            f"preset {name} has now; retrain it (delete the run folder)"
        )
    cls = get_backbone_class(preset["backbone"])
    model = cls.from_preset(name, load_weights=False)
    load_weights_checked(model, layout.best)
    results = _read_json(layout.evaluation / "metrics.json")
    if pathlib.Path(results["weights"]).resolve() != layout.best.resolve():
        raise SystemExit(f"{run}'s evaluation scored {results['weights']}, not best")
    history = _read_json(layout.logs / "history.json")
    val_losses = [row["val_loss"] for row in history]
    best_epoch = int(np.argmin(val_losses)) + 1
    metadata = {
        "keras_svq_version": info.get("keras_svq_version"),
        "keras_version": info.get("keras_version"),
        "backbone": preset["backbone"],
        "normalizer": info["normalizer"],
        "metrics": {
            "test": _test_metrics(results),
            "val": {"loss": float(val_losses[best_epoch - 1])},
        },
        "provenance": {
            "preset": name,
            "commit": _git("rev-parse", "HEAD"),
            "uncommitted_changes": bool(_git("status", "--porcelain")),
            "seed": seed,
            "epochs": len(history),
            "max_epochs": config["training"]["epochs"],
            "best_epoch": best_epoch,
            "checkpoint": "best (lowest val_loss)",
            "date": datetime.date.today().isoformat(),
            "tensorflow_version": info.get("tensorflow_version"),
            "command": f"keras-svq train --preset {name} --seed {seed}",
        },
    }
    yaml_path = presets.preset_path(name)
    weights = yaml_path.with_name(yaml_path.stem + presets.WEIGHTS_SUFFIX)
    atomic_save_weights(model, weights)
    atomic_write_json(
        yaml_path.with_name(yaml_path.stem + presets.METADATA_SUFFIX), metadata
    )
    # The shipped file loads back into the preset's model, weight for weight.
    loaded = cls.from_preset(name)
    for a, b in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    test = metadata["metrics"]["test"]
    print(
        f"{name}: {weights.stat().st_size / 1e6:.2f} MB, test MSE {test['mse']:.6g}, "
        f"MAE {test['mae']:.6g} ({', '.join(dict.fromkeys(test['units']))}), best epoch "
        f"{best_epoch}/{len(history)}",
        flush=True,
    )


def table():
    """The README's markdown table of the presets with weights."""
    from zoo import presets

    lines = [
        "| preset | test MSE | test MAE | units | best epoch | weights |",
        "|---|---|---|---|---|---|",
    ]
    for name in presets.list_presets(with_weights=True):
        metadata = presets.load_metadata(name)
        test, provenance = metadata["metrics"]["test"], metadata["provenance"]
        size = presets.weights_path(name).stat().st_size / 1e6
        lines.append(
            f"| `{name}` | {test['mse']:.4g} | {test['mae']:.4g} | "
            f"{', '.join(dict.fromkeys(test['units']))} | "
            f"{provenance['best_epoch']}/{provenance['epochs']} | {size:.2f} MB |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("presets", nargs="*", help="preset names, in order")
    parser.add_argument(
        "--samples", action="store_true", help="every preset on shipped data"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--runs-dir",
        default="/tmp/presets",
        help="where the runs go (default: /tmp/presets)",
    )
    parser.add_argument(
        "--convert-only",
        action="store_true",
        help="only convert finished, evaluated runs",
    )
    parser.add_argument(
        "--table", action="store_true", help="print the README's table and exit"
    )
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    if args.table:
        print(table())
        return
    names = list(args.presets) + (SAMPLE_PRESETS if args.samples else [])
    if not names:
        parser.error("name presets, or pass --samples")
    for name in names:
        run = pathlib.Path(args.runs_dir) / name
        if not args.convert_only:
            train_and_evaluate(name, run, args.seed)
        convert(name, run, args.seed)


if __name__ == "__main__":
    main()
