"""`keras-svq demo`: SimVP with and without SVQ on real ERA5 data, on a laptop.

Trains the presets `era5_uk/simvp_gsta_residual` and
`era5_uk/simvp_gsta_svq_frozen_residual` (SimVP-gSTA predicting the change
from the last input frame, without and with SVQ; the training recipe in their
header was chosen on the validation split) on the embedded ERA5 2 m
temperature sample (UK, March 2019, hourly; 12 h in, 12 h out), with
`keras-svq compare`, then prints, per lead time, the RMSE in kelvin of both
models and of the two baselines a forecaster must beat, persistence ("the
next 12 hours equal the last observed hour") and the hourly climatology of
the training split, with the MSE skill scores; and one line on whether SVQ
helped beyond the noise between seeds: from the demo's own seeds when it
trains several (`--seeds 0 1 2 3 4`), else from the recorded 5-seed study
shipped with the package (`keras_svq/assets/study/era5_uk.json`, the
`comparison.json` of the study in bench/RESULTS.md).

The sample's frames are 33 x 49; the presets crop them to 32 x 48 because
SimVP's stride-2 encoder stage needs even sizes. Nothing reads the test
split before the final evaluation: early stopping and the recipe use the
validation split.

Output folder layout (a `keras-svq compare` folder plus the demo's files):

```
demo_output/
  simvp_gsta_residual/seed_0/, ...   ordinary run folders (keras-svq evaluate/predict/export work on them)
  comparison.json, comparison.md, comparison.png
  results.json                       per-lead-time RMSE of every model and baseline, skill scores
  forecast_<model>.png               input, truth, forecast, error per lead time
  skill_score.png, training_curves.png
```

Running the demo again on the same folder reuses finished runs (it only
re-evaluates); a folder holding anything else is refused.
"""

import json
import logging
import pathlib
import time

from keras_svq.io_utils import atomic_write_json
from keras_svq.io_utils import read_json
from keras_svq.runs import Run
from keras_svq.training import compare
from keras_svq.training import config as config_lib
from keras_svq.training import run_commands

logger = logging.getLogger(__name__)

DEMO_PRESETS = {
    "SimVP (gSTA) residual": "era5_uk/simvp_gsta_residual",
    "SimVP (gSTA) residual + SVQ": "era5_uk/simvp_gsta_svq_frozen_residual",
}
STUDY_RECORD = (
    pathlib.Path(__file__).resolve().parents[1] / "assets" / "study" / "era5_uk.json"
)
_DEMO_FILES = (
    "results.json",
    "training_curves.png",
    "skill_score.png",
    "forecast_*.png",
)


def _specs(epochs):
    from zoo.presets import load_preset

    overrides = [(("training", "epochs"), epochs)] if epochs else []
    return [
        compare.ModelSpec(
            label,
            config_lib.resolve(load_preset(preset), overrides),
            folder=preset.split("/")[1],
        )
        for label, preset in DEMO_PRESETS.items()
    ]


def svq_verdict(comparison, seeds):
    """The sentence on SVQ: from the demo's seeds, else the recorded study."""
    plain, svq = list(DEMO_PRESETS)
    entry = next(e for e in comparison["models"] if e["name"] == svq)
    if len(seeds) >= 2:
        return compare.verdict(entry, plain)
    measured = entry["paired_vs_first"]["mse"]["mean_diff"]
    text = (
        f"SVQ vs no quantizer with one seed each: MSE difference {measured:+.4f} K^2, "
        "which one seed cannot tell from the noise between seeds"
    )
    if not STUDY_RECORD.is_file():
        return text + "; run `keras-svq demo --seeds 0 1 2 3 4` for an interval."
    record = json.loads(STUDY_RECORD.read_text())
    names = {e["name"] for e in record["models"]}
    study_plain, study_svq = DEMO_PRESETS[plain], DEMO_PRESETS[svq]
    if not {study_plain, study_svq} <= names:
        return text + "; run `keras-svq demo --seeds 0 1 2 3 4` for an interval."
    test = compare.paired_from_record(record, study_svq, study_plain)
    study_entry = next(e for e in record["models"] if e["name"] == study_svq)
    sentence = compare.verdict(study_entry, study_plain, test=test)
    return (
        f"{text}. The recorded study ({len(record['seeds'])} seeds, full recipe, "
        f"bench/RESULTS.md): {sentence}."
    )


def _lead_lines(results, time_unit="h"):
    """One line per lead time per model and baseline: RMSE and MSE skill scores."""
    lines = [
        "",
        "Per lead time (RMSE in K; MSESS = 1 - MSE / baseline MSE, > 0 beats it):",
    ]
    names = list(results["models"]) + list(results["baselines"])
    width = max(len(n) for n in names)
    leads = len(results["baselines"]["persistence"]["per_lead_time"]["rmse"])
    for t in range(leads):
        for name in names:
            entry = results["models"].get(name) or results["baselines"][name]
            line = (
                f"+{t + 1:>2} {time_unit}  {name:<{width}}  "
                f"RMSE {entry['per_lead_time']['rmse'][t]:.4f}"
            )
            if "ci95" in entry and entry["ci95"][t] is not None:
                lo, hi = entry["ci95"][t]
                line += f" [{lo:.4f}, {hi:.4f}]"
            for reference, values in entry.get("skill", {}).items():
                line += f"  MSESS {reference.replace('_', ' ')} {values[t]:+.3f}"
            lines.append(line)
    return lines


def _results(comparison, seeds):
    """`results.json`: per-lead RMSE of every model and baseline, skills, verdict."""
    results = {
        "units": "K",
        "seeds": list(seeds),
        "models": {},
        "baselines": comparison["baselines"],
        "num_test_examples": comparison["num_test_examples"],
    }
    for entry in comparison["models"]:
        results["models"][entry["name"]] = {
            **{m: entry["test"][m]["mean"] for m in compare.METRICS},
            "per_lead_time": {
                m: entry["per_lead_time"][m]["mean"] for m in compare.METRICS
            },
            "ci95": entry["per_lead_time"]["rmse"]["ci95"],
            "skill": {
                reference: values["per_lead_time"]["mean"]
                for reference, values in entry["skill"].items()
            },
        }
    results["per_lead_time"] = {
        "rmse": {
            name: values["per_lead_time"]["rmse"]
            for name, values in {**results["models"], **results["baselines"]}.items()
        }
    }
    persistence = results["baselines"]["persistence"]["per_lead_time"]["rmse"]
    results["beats_persistence_at_every_lead"] = {
        name: all(a < b for a, b in zip(values["per_lead_time"]["rmse"], persistence))
        for name, values in results["models"].items()
    }
    results["svq_verdict"] = svq_verdict(comparison, seeds)
    return results


def run_demo(output_dir="demo_output", *, epochs=None, seeds=(0,), verbose=2):
    """Trains, evaluates and compares; returns the results dict."""
    root = pathlib.Path(output_dir)
    started = time.time()
    specs = _specs(epochs)
    comparison = compare.run_compare(
        specs, seeds, root, verbose=verbose, allowed_files=_DEMO_FILES
    )
    results = _results(comparison, seeds)
    results["seconds"] = round(time.time() - started, 1)
    atomic_write_json(root / "results.json", results)
    _write_plots(root, specs, seeds[0], results)

    rows = [(name, r) for name, r in results["models"].items()]
    rows += list(results["baselines"].items())
    num = results["num_test_examples"]
    print()
    print(
        run_commands.format_table(
            rows,
            ["mse", "mae", "rmse"],
            title=(
                f"ERA5 2 m temperature, UK, 12 h -> 12 h, {num} test windows, "
                f"mean over seeds {list(seeds)} (errors in kelvin; MSE in K^2):"
            ),
        )
    )
    print("\n".join(_lead_lines(results)))
    print()
    for name, beats in results["beats_persistence_at_every_lead"].items():
        print(
            f"{name}: {'beats' if beats else 'does NOT beat'} persistence at every lead time"
        )
    print(results["svq_verdict"])
    print(f"\nplots and runs in {root}/ ({results['seconds']:.0f} s)")
    print("Contains modified Copernicus Climate Change Service information 2019.")
    return results


def _write_plots(root, specs, seed, results):
    from keras_svq.viz import plot_forecast_panels
    from keras_svq.viz import plot_skill_scores
    from keras_svq.viz import plot_training_history
    from keras_svq.viz import save_figure
    from keras_svq.viz.geo import sample_coordinates
    from keras_svq.viz.geo import sample_land_mask

    runs = [Run(root / spec.slug / f"seed_{seed}") for spec in specs]
    bundle = runs[0].load_data()
    x, y = bundle.arrays("test")
    inputs, truth = bundle.normalizer.denormalize(x), bundle.normalizer.denormalize(y)
    example = len(x) // 2
    crop = tuple(truth.shape[2:4])
    coordinates = sample_coordinates("era5_t2m_uk", crop=crop) or {}
    land_mask = sample_land_mask("era5_t2m_uk", crop=crop)
    histories = {}
    for spec, run in zip(specs, runs):
        model = run.load_model()
        pred = bundle.normalizer.denormalize(
            run_commands.predict_arrays(model, x[example : example + 1], batch_size=1)
        )
        figure = plot_forecast_panels(
            inputs[example],
            truth[example],
            pred[0],
            units="K",
            variable="2 m temperature",
            time_step="h",
            land_mask=land_mask,
            title=f"{spec.name}: ERA5 2 m temperature, test example {example}",
            **coordinates,
        )
        save_figure(figure, root / f"forecast_{spec.slug}.png")
        histories[spec.name] = read_json(run.layout.logs / "history.json")
    save_figure(plot_training_history(histories), root / "training_curves.png")
    figure = plot_skill_scores(
        {name: r["skill"] for name, r in results["models"].items()},
        time_step="1h",
        title="ERA5 t2m test split: MSE skill score (above 0: beats the baseline)",
    )
    save_figure(figure, root / "skill_score.png")


__all__ = ["run_demo", "DEMO_PRESETS", "svq_verdict"]
