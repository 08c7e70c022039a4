"""`keras-svq demo`: SimVP with and without SVQ on real ERA5 data, on a laptop.

Trains the presets `era5_uk/simvp_gsta` and `era5_uk/simvp_gsta_svq_frozen`
on the embedded ERA5 2 m temperature sample (UK, March 2019, hourly; 12 h in,
12 h out), then prints MSE / MAE / RMSE in kelvin on the test split for both
models and for persistence ("the next 12 hours equal the last observed hour"),
the bar any forecaster must beat, and writes plots.

The sample's frames are 33 x 49; the presets crop them to 32 x 48 because
SimVP's stride-2 encoder stage needs even sizes.

Output folder layout:

```
demo_output/
  simvp_gsta/, simvp_gsta_svq_frozen/   two ordinary run folders (keras-svq evaluate/predict/export work on them)
  results.json                          the table below, with per-lead-time errors
  forecast_<model>.png                  input, truth, forecast, error per lead time
  training_curves.png
```

Running the demo again on the same folder reuses finished runs (it only
re-evaluates); a folder holding anything else is refused.
"""

import logging
import pathlib
import time

from keras_svq.io_utils import UserError
from keras_svq.io_utils import atomic_write_json
from keras_svq.io_utils import read_json
from keras_svq.training import config as config_lib
from keras_svq.training import run_commands
from keras_svq.training import trainer

logger = logging.getLogger(__name__)

DEMO_PRESETS = {
    "SimVP (gSTA)": "era5_uk/simvp_gsta",
    "SimVP (gSTA) + SVQ": "era5_uk/simvp_gsta_svq_frozen",
}
_DEMO_FILES = {"results.json", "training_curves.png"}


def physical_errors(pred, truth):
    """MSE, MAE, RMSE (overall and per lead time) of one set of forecasts."""
    from keras_svq.metrics import ErrorAccumulator

    errors = ErrorAccumulator(truth.shape[1])
    errors.add(pred, truth)
    return errors.result()


def _check_output_dir(root):
    if not root.exists():
        return
    if not root.is_dir():
        raise UserError(f"--output-dir {root} is a file")
    expected = {preset.split("/")[1] for preset in DEMO_PRESETS.values()}
    for entry in root.iterdir():
        if (
            entry.name in expected
            or entry.name in _DEMO_FILES
            or (entry.name.startswith("forecast_") and entry.suffix == ".png")
        ):
            continue
        raise UserError(
            f"--output-dir {root} holds files that are not from the demo ({entry.name}); choose another folder"
        )


def _train_or_reuse(config, run_dir, verbose):
    layout = trainer.RunLayout(run_dir)
    if layout.run.exists() and read_json(layout.run).get("status") == "finished":
        # prepare_run_dir refuses a finished run; the demo reuses it instead,
        # after checking it is the same experiment.
        saved = config_lib.load_yaml(layout.config)

        if saved != config_lib.yaml_load(config_lib.dump_yaml(config)):
            raise UserError(
                f"{run_dir} holds a different finished run; choose another --output-dir"
            )
        logger.info("reusing the finished run %s", run_dir)
        return
    trainer.train(config, run_dir, verbose=verbose)


def run_demo(output_dir="demo_output", *, epochs=None, verbose=2):
    """Trains, evaluates and compares; returns the results dict."""
    from keras_svq.viz import plot_forecast_panels
    from keras_svq.viz import plot_training_history
    from keras_svq.viz import save_figure
    from keras_svq.viz.geo import sample_coordinates
    from keras_svq.viz.geo import sample_land_mask
    from zoo.presets import load_preset

    root = pathlib.Path(output_dir)
    _check_output_dir(root)
    started = time.time()
    results = {"models": {}, "units": "K"}
    histories = {}
    predictions = {}
    bundle = None
    for label, preset in DEMO_PRESETS.items():
        overrides = [(("training", "epochs"), epochs)] if epochs else []
        config = config_lib.resolve(load_preset(preset), overrides)
        run_dir = root / preset.split("/")[1]
        print(f"== training {label} ({preset}) -> {run_dir}", flush=True)
        t0 = time.time()
        _train_or_reuse(config, run_dir, verbose)
        train_seconds = time.time() - t0
        layout = trainer.RunLayout(run_dir)
        if bundle is None:
            bundle = trainer.build_data(config)
            x, y = bundle.arrays("test")
            truth = bundle.normalizer.denormalize(y)
        model = trainer.load_trained_model(config, trainer.default_weights(layout))
        pred = bundle.normalizer.denormalize(
            run_commands.predict_arrays(model, x, batch_size=len(x))
        )
        predictions[label] = pred
        errors = physical_errors(pred, truth)
        errors["train_seconds"] = round(train_seconds, 1)
        errors["params"] = int(model.count_params())
        results["models"][label] = errors
        histories[label] = read_json(layout.logs / "history.json")
    results["models"]["persistence"] = physical_errors(
        bundle.normalizer.denormalize(run_commands.persistence(x, y.shape[1])), truth
    )
    results["num_test_examples"] = int(len(x))
    results["seconds"] = round(time.time() - started, 1)
    atomic_write_json(root / "results.json", results)

    inputs = bundle.normalizer.denormalize(x)
    example = len(x) // 2
    crop = tuple(truth.shape[2:4])
    coordinates = sample_coordinates("era5_t2m_uk", crop=crop) or {}
    land_mask = sample_land_mask("era5_t2m_uk", crop=crop)
    for label, pred in predictions.items():
        slug = DEMO_PRESETS[label].split("/")[1]
        figure = plot_forecast_panels(
            inputs[example],
            truth[example],
            pred[example],
            units="K",
            variable="2 m temperature",
            time_step="h",
            land_mask=land_mask,
            title=f"{label}: ERA5 2 m temperature, test example {example}",
            **coordinates,
        )
        save_figure(figure, root / f"forecast_{slug}.png")
    save_figure(plot_training_history(histories), root / "training_curves.png")

    rows = [(label, r) for label, r in results["models"].items()]
    print()
    print(
        run_commands.format_table(
            rows,
            ["mse", "mae", "rmse"],
            title=(
                f"ERA5 2 m temperature, UK, 12 h -> 12 h, {len(x)} test windows "
                "(errors in kelvin; MSE in K^2):"
            ),
        )
    )
    leads = [0, 2, 5, 11]
    lead_rows = [
        (
            label,
            {
                f"+{i + 1} h": r["per_lead_time"]["rmse"][i]
                for i in leads
                if i < len(r["per_lead_time"]["rmse"])
            },
        )
        for label, r in results["models"].items()
    ]
    print(
        run_commands.format_table(
            lead_rows, [f"+{i + 1} h" for i in leads], title="\nRMSE (K) by lead time:"
        )
    )
    print(f"\nplots and runs in {root}/ ({results['seconds']:.0f} s)")
    print("Contains modified Copernicus Climate Change Service information 2019.")
    return results


__all__ = ["run_demo", "DEMO_PRESETS"]
