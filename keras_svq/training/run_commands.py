"""What `evaluate`, `predict` and `export` do with a run (`keras_svq.runs.Run`).

The library side of `keras-svq evaluate|predict|export` (the argument
parsing is in `keras_svq.commands`): `evaluate(run, output_dir)` scores a
trained model on the test split beside the baselines and writes
`metrics.json`; `predict(run, input, output)` forecasts raw windows in
physical units; `export(run, output_dir)` writes a SavedModel or an ONNX
model. Each takes a `Run` (or a run folder path) and loads its data and
model once, through the `Run`.
"""

import hashlib
import logging
import pathlib

import numpy as np

from keras_svq.file_lock import FolderLock
from keras_svq.io_utils import UserError
from keras_svq.io_utils import atomic_directory
from keras_svq.io_utils import atomic_path
from keras_svq.io_utils import atomic_save_npz
from keras_svq.io_utils import atomic_write_json
from keras_svq.io_utils import remove_litter
from keras_svq.metrics.baselines import DEFAULT_BASELINES
from keras_svq.metrics.baselines import build_baselines
from keras_svq.progress import Progress
from keras_svq.runs import Run
from keras_svq.training import config as config_lib

logger = logging.getLogger(__name__)


# -------------------------------------------------------------- metrics


def format_table(rows, columns, title=None):
    """A plain-text table: `rows` is a list of (name, {column: value})."""
    header = ["model"] + list(columns)
    lines = [[name] + [_fmt(values.get(c)) for c in columns] for name, values in rows]
    widths = [max(len(str(r[i])) for r in [header] + lines) for i in range(len(header))]
    out = [title] if title else []
    out.append(
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths))
        )
    )
    out.append("  ".join("-" * w for w in widths))
    for line in lines:
        out.append(
            "  ".join(
                v.ljust(w) if i == 0 else v.rjust(w)
                for i, (v, w) in enumerate(zip(line, widths))
            )
        )
    return "\n".join(out)


def _fmt(value):
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.4g}"
    return str(value)


def predict_arrays(model, x, batch_size=16, progress=None):
    """`model`'s forecasts of the arrays `x`, as float32.

    With `progress` (a stage label), batch by batch under a `Progress` bar.
    """
    if progress is None:
        return np.asarray(model.predict(x, batch_size=batch_size, verbose=0), "float32")
    starts = range(0, len(x), batch_size)
    outputs = [
        np.asarray(model.predict_on_batch(x[i : i + batch_size]), "float32")
        for i in Progress.track(starts, progress, unit="batch")
    ]
    return np.concatenate(outputs)


def as_run(run, *, weights=None, data_dir=None):
    """`run` itself when it is a `Run`, else the `Run` of the folder `run`."""
    if isinstance(run, Run):
        return run
    return Run(run, weights=weights, data_dir=data_dir)


def _num_batches(dataset):
    """The dataset's number of batches, or None when unknown."""
    try:
        count = int(dataset.cardinality())
    except (AttributeError, TypeError, ValueError):
        return None
    return count if count >= 0 else None


class _CountingModel:
    """A model whose `predict_on_batch` also advances a progress bar."""

    def __init__(self, model, bar):
        self.model, self.bar = model, bar

    def predict_on_batch(self, x):
        pred = self.model.predict_on_batch(x)
        self.bar.update()
        return pred


# ------------------------------------------------------------- evaluate


def _reference_metrics(model, bundle):
    """The dataset's metric set as the reference reports it (keras_svq.metrics)."""
    from keras_svq import metrics as metrics_lib

    info = bundle.info
    denormalize = getattr(info, "denormalize_metrics", False)
    kwargs = {"metrics": tuple(info.metrics), "spatial_norm": info.spatial_norm}
    if denormalize:
        kwargs.update(mean=bundle.normalizer.mean, std=bundle.normalizer.std)
    return metrics_lib.evaluate_forecast(model, bundle.test, **kwargs)


class _Scores:
    """Masked and unmasked physical-unit errors of the model and the baselines.

    Also fingerprints the test targets (`test_fingerprint`), so that runs
    scored on different test windows are never compared.
    """

    def __init__(self, output_length, latitudes, baselines):
        from keras_svq.metrics import ErrorAccumulator

        self.baselines = dict(baselines)
        names = ("model", *self.baselines)
        self.masked = {
            name: ErrorAccumulator(output_length, latitudes=latitudes) for name in names
        }
        self.unmasked = {name: ErrorAccumulator(output_length) for name in names}
        self.any_invalid = False
        self._hash = hashlib.sha256()

    def add(self, norm, x, y, pred, positions):
        """One batch in model space; invalid targets are NaN in `y`."""
        true = norm.denormalize(y)
        forecasts = {"model": norm.denormalize(pred)}
        for name, baseline in self.baselines.items():
            forecasts[name] = norm.denormalize(baseline.forecast(x, positions))
        # Unmasked: invalid targets hold the fill value the model was given
        # (the training mean), as a loss without the mask would see them.
        filled = norm.denormalize(np.where(np.isnan(y), np.float32(0), y))
        self.any_invalid |= bool(np.isnan(true).any())
        # Rounded, so that runs whose normalisers differ in the last bit
        # still recognise the same test targets.
        self._hash.update(np.round(np.asarray(true, "float64"), 3).tobytes())
        for name, forecast in forecasts.items():
            self.masked[name].add(forecast, true)
            self.unmasked[name].add(forecast, filled)

    def results(self):
        masked = {name: acc.result() for name, acc in self.masked.items()}
        model = masked["model"]
        out = {
            "physical": model,
            "baselines": {name: masked[name] for name in self.baselines},
            "skill": {
                f"vs_{name}": skill_scores(model, masked[name])
                for name in self.baselines
            },
            "valid_fraction": model["valid_fraction"],
            "test_fingerprint": self._hash.hexdigest()[:16],
        }
        if "persistence" in masked:  # the key earlier versions wrote
            out["persistence_physical"] = masked["persistence"]
        if self.any_invalid:
            out["masked"] = masked
            out["unmasked"] = {
                name: acc.result() for name, acc in self.unmasked.items()
            }
        return out


def skill_scores(errors, reference):
    """MSE (and MAE) skill scores of one error dict against a reference's."""
    from keras_svq.metrics import skill_score

    return {
        f"{metric}_skill": skill_score(errors[metric], reference[metric])
        for metric in ("mse", "mae")
    } | {
        "per_lead_time": {
            f"{metric}_skill": skill_score(
                errors["per_lead_time"][metric], reference["per_lead_time"][metric]
            )
            for metric in ("mse", "mae")
        }
    }


def evaluate(
    run,
    output_dir,
    *,
    num_plots=3,
    baselines=DEFAULT_BASELINES,
    progress=True,
):
    """Test-split metrics (reference set + physical per-lead errors) and plots.

    Every error is computed over valid target pixels (missing data, masks and
    padding left out); when some pixels are invalid, `metrics.json` also holds
    `"masked"` and `"unmasked"` figures (the latter scoring invalid targets at
    the value the model was given, the training mean) and the
    `"valid_fraction"`. With latitudes in the data, latitude-weighted figures
    (WeatherBench) stand beside the unweighted ones (OpenSTL).

    The baselines (`keras_svq.metrics.baselines`: persistence and a
    training-split climatology by default, `optical_flow` with pysteps) are
    scored on the same windows and pixels, under `"baselines"`, with the
    model's MSE and MAE skill scores against each (overall and per lead time)
    under `"skill"`: `1 - error / baseline error`, so > 0 beats the baseline.

    Writes `metrics.json`, `skill_score.png` and `example_<i>.png` into
    `output_dir`; returns the metrics dict.

    Args:
        run: `keras_svq.runs.Run` (a run folder, or `Run.from_config(config,
            weights)`) or a run folder path. Its data and model are loaded
            through it, so a caller that plots afterwards reuses them.
        output_dir: path. Where `metrics.json` and the figures go.
        num_plots: int. Example figures written. Defaults to 3.
        baselines: names from `keras_svq.metrics.baselines.BASELINES`.
            Defaults to persistence and climatology.
        progress: bool. A progress bar over the test batches (two passes:
            the reference metrics, then the physical errors). Defaults to True.
    """
    run = as_run(run)
    config, weights = run.config, run.weights
    output_dir = pathlib.Path(output_dir)
    bundle = run.load_data()
    model = run.load_model()
    try:
        fitted = build_baselines(bundle.splits, baselines, crop=bundle.crop)
    except (ImportError, ValueError) as e:
        raise UserError(str(e)) from None
    batches = _num_batches(bundle.test)
    with Progress(
        "evaluate",
        None if batches is None else 2 * batches,
        unit="batch",
        enabled=progress,
    ) as bar:
        results, examples = _score(model, bundle, fitted, num_plots, bar)
    results = {"weights": str(weights), **results}
    results["params"] = int(model.count_params())
    output_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(output_dir / "metrics.json", _jsonable(results))
    _write_evaluation_plots(config, bundle, results, examples, output_dir, num_plots)
    return results


def _score(model, bundle, fitted, num_plots, bar):
    """Both passes over the test split: reference metrics, then physical errors."""
    results = {"dataset": getattr(bundle.info, "name", None)}
    bar.update(0, note="reference metrics")
    results["reference"] = _jsonable(
        _reference_metrics(_CountingModel(model, bar), bundle)
    )
    bar.update(0, note="physical errors")
    norm = bundle.normalizer
    latitudes = bundle.coords.get("lat")
    scores = _Scores(bundle.output_length, latitudes, fitted)
    # Streamed batch by batch: a full benchmark's test split need not fit in
    # memory. Per-window errors and dropout flags pick the example windows
    # (`keras_svq.viz.example_choice`), gathered in a second, short pass.
    from keras_svq.viz.example_choice import choose_examples
    from keras_svq.viz.example_choice import flag_dropout_windows
    from keras_svq.viz.example_choice import window_errors

    errors, dropouts, seen = [], [], 0
    for x, y in bundle.test:
        x, y = np.asarray(x), np.asarray(y)
        pred = np.asarray(model.predict_on_batch(x), "float32")
        bar.update()
        scores.add(norm, x, y, pred, np.arange(seen, seen + len(x)))
        truth = norm.denormalize(y)
        errors.append(window_errors(norm.denormalize(pred), truth))
        dropouts.append(flag_dropout_windows(norm.denormalize(x), truth))
        seen += len(x)
    examples = []
    if num_plots and seen:
        chosen = choose_examples(
            np.concatenate(errors), num_plots, exclude=np.concatenate(dropouts)
        )
        examples = _gather_examples(model, bundle, sorted(int(i) for i in chosen))
    results.update(scores.results())
    results["latitude_weighted"] = latitudes is not None
    results["units"] = list(getattr(bundle.info, "units", ()))
    results["num_test_examples"] = int(seen)
    return results, examples


def _gather_examples(model, bundle, indices):
    """(index, inputs, truth, forecast) in physical units for test windows `indices`."""
    norm, wanted, examples, seen = bundle.normalizer, set(indices), [], 0
    for x, y in bundle.test:
        batch = [i for i in range(len(x)) if seen + i in wanted]
        if batch:
            x, y = np.asarray(x), np.asarray(y)
            pred = np.asarray(model.predict_on_batch(x), "float32")
            examples += [
                (
                    seen + i,
                    norm.denormalize(x[i]),
                    norm.denormalize(y[i]),
                    norm.denormalize(pred[i]),
                )
                for i in batch
            ]
        seen += len(x)
        if seen > max(wanted):
            break
    return examples


def _write_evaluation_plots(config, bundle, results, examples, output_dir, num_plots):
    if num_plots:
        from keras_svq.viz import plot_skill_scores
        from keras_svq.viz import save_figure

        figure = plot_skill_scores(
            {config["backbone"]: results["skill"]},
            time_step=getattr(bundle.info, "time_step", ""),
            title="MSE skill score on the test split (above 0: beats the baseline)",
            num_examples=results["num_test_examples"],
        )
        save_figure(figure, output_dir / "skill_score.png")
    if examples:
        from keras_svq.viz import plot_forecast_panels
        from keras_svq.viz import save_figure

        variables = list(getattr(bundle.info, "variables", ())) or None
        for i, x_i, true_i, pred_i in examples:
            figure = plot_forecast_panels(
                x_i,
                true_i,
                pred_i,
                units=results["units"] or "",
                variable=variables or "",
                title=f"{config['backbone']} test example {i}",
            )
            save_figure(figure, output_dir / f"example_{i}.png")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "numpy"):
        return _jsonable(np.asarray(obj))
    return obj


def evaluation_table(results):
    """The printed form of `evaluate`'s results: model beside every baseline."""
    ref = results.get("reference") or {}
    rows = [
        (
            "reference metrics (test)",
            {k: v for k, v in ref.items() if not isinstance(v, (dict, list))},
        )
    ]
    columns = [k for k in rows[0][1]]
    text = [format_table(rows, columns)]
    phys = results["physical"]
    baselines = results.get("baselines") or {
        "persistence": results["persistence_physical"]
    }
    skill = results.get("skill", {})
    units = ", ".join(dict.fromkeys(results.get("units") or ())) or "data units"
    fraction = results.get("valid_fraction", 1.0)
    scope = (
        f", over valid pixels only: {100 * fraction:.1f}% of the target values"
        if "masked" in results
        else ""
    )
    columns = ["mse", "mae", "rmse"]
    if results.get("latitude_weighted"):
        columns += ["rmse_lat_weighted"]
        scope += "; rmse_lat_weighted: WeatherBench's cos(latitude) weights, the others unweighted as OpenSTL"
    skill_columns = [f"MSESS vs {name}" for name in baselines if f"vs_{name}" in skill]
    model_row = dict(phys)
    for name in baselines:
        if f"vs_{name}" in skill:
            model_row[f"MSESS vs {name}"] = skill[f"vs_{name}"]["mse_skill"]
    text.append(
        format_table(
            [("model", model_row), *baselines.items()],
            columns + skill_columns,
            title=f"\nPhysical units ({units}{scope}); MSESS = 1 - MSE / baseline MSE:",
        )
    )
    if "unmasked" in results:
        unmasked = results["unmasked"]
        text.append(
            format_table(
                [(name, unmasked[name]) for name in ("model", *baselines)],
                ["mse", "mae", "rmse"],
                title="\nUnmasked (invalid targets scored at the training mean, for comparison):",
            )
        )
    rows = []
    for i, value in enumerate(phys["per_lead_time"]["rmse"]):
        row = {"rmse": value, "mae": phys["per_lead_time"]["mae"][i]}
        for name, base in baselines.items():
            row[f"{name} rmse"] = base["per_lead_time"]["rmse"][i]
            if f"vs_{name}" in skill:
                row[f"MSESS vs {name}"] = skill[f"vs_{name}"]["per_lead_time"][
                    "mse_skill"
                ][i]
        rows.append((f"+{i + 1}", row))
    lead_columns = ["rmse", "mae"]
    for name in baselines:
        lead_columns.append(f"{name} rmse")
        if f"vs_{name}" in skill:
            lead_columns.append(f"MSESS vs {name}")
    text.append(format_table(rows, lead_columns, title="\nPer lead time:"))
    return "\n".join(text)


# -------------------------------------------------------------- predict


# The first bytes of the input formats `predict` reads.
_MAGIC = {".npy": b"\x93NUMPY", ".npz": b"PK"}


def _read_input(path):
    """`(windows, coords)` from a `.npy` / `.npz`, or a one-line `UserError`."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise UserError(f"Input file not found: {path}")
    if path.suffix not in _MAGIC:
        raise UserError(f"{path}: input must be .npy or .npz")
    expected = (
        f"expected a {path.suffix} file holding inputs (N, T_in, H, W, C) in physical "
        "units" + (" named 'inputs'" if path.suffix == ".npz" else "")
    )
    with open(path, "rb") as f:
        head = f.read(8)
    if not head:
        raise UserError(f"{path} is empty (0 bytes); {expected}")
    if not head.startswith(_MAGIC[path.suffix]):
        raise UserError(
            f"{path} is not a {path.suffix} file (wrong header); {expected}"
        )
    coords = {}
    try:
        if path.suffix == ".npy":
            x = np.load(path, allow_pickle=False)
        else:
            with np.load(path, allow_pickle=False) as data:
                keys = list(data.keys())
                key = next((k for k in ("inputs", "x") if k in keys), None)
                arrays = [k for k in keys if data[k].ndim >= 4]
                if key is None and len(arrays) == 1:
                    key = arrays[0]
                if key is None:
                    raise UserError(
                        f"{path}: name the input array 'inputs' (found {keys})"
                    )
                x = data[key]
                coords = {k: data[k] for k in ("lat", "lon", "time") if k in keys}
    except UserError:
        raise
    except Exception as e:  # numpy/zipfile raise many types for a damaged file
        reason = " ".join(str(e).split())[:160]
        raise UserError(
            f"{path} is truncated or corrupt ({type(e).__name__}: {reason}); {expected}"
        ) from None
    if x.dtype.kind not in "fiub":
        raise UserError(f"{path}: inputs must be numbers; found dtype {x.dtype}")
    return np.asarray(x, "float32"), coords


def predict(
    run,
    input_path,
    output_path,
    *,
    weights=None,
    batch_size=16,
    overwrite=False,
    processed_grid=False,
    fill_value=None,
):
    """Forecasts, in physical units, for raw input windows in a file.

    The input holds `(N, T_in, H, W, C)` (or one window `(T_in, H, W, C)`) in
    physical units on the grid the run was trained from; missing values (NaN,
    the run's `missing_value` codes) are allowed and filled as in training,
    and the run's preprocessing (crop, coarsen, pad) is applied. The forecast
    comes back on the same grid, NaN where it cannot be valid (masked or
    padded pixels, outside the crop). Windows already on the model's grid are
    accepted too. `processed_grid=True` returns the model's grid instead;
    `fill_value` replaces NaN over pixels without a valid forecast.

    `run` is a `keras_svq.runs.Run` or a run folder path; `weights` (a
    checkpoint, default the run's best) applies to a path only.
    """
    run = as_run(run, weights=weights)
    info = run.info
    output_path = pathlib.Path(output_path)
    if output_path.exists() and not overwrite:
        raise UserError(f"{output_path} exists; pass --overwrite or another --output")
    if output_path.suffix not in (".npz", ".nc"):
        raise UserError(f"--output must end in .npz or .nc. Received: {output_path}")
    x, coords = _read_input(input_path)
    model = run.load_model()
    transform = run.forecast_transform(fill_value)
    expected = tuple(int(s) for s in model.inputs[0].shape[1:])
    if x.ndim == len(expected):
        x = x[None]
    raw = transform.raw_shape or expected[1:3]
    if (
        x.ndim != 5
        or x.shape[1] != expected[0]
        or x.shape[-1] != expected[-1]
        or tuple(x.shape[2:4]) not in (tuple(raw), tuple(expected[1:3]))
    ):
        grids = f"({', '.join(map(str, raw))})"
        if tuple(raw) != tuple(expected[1:3]):
            grids += f" (the raw grid) or {tuple(expected[1:3])} (the model's grid)"
        raise UserError(
            f"Input windows must have shape (N, {expected[0]}, H, W, {expected[-1]}) "
            f"with (H, W) = {grids}; got {x.shape}"
        )
    processed = tuple(x.shape[2:4]) != tuple(raw)
    try:
        model_input = transform.prepare(x, processed=processed)
    except ValueError as e:
        raise UserError(f"{input_path}: {e}") from None
    if len(model_input):
        outputs = predict_arrays(model, model_input, batch_size, progress="predict")
    else:  # N = 0: an empty forecast, as the SavedModel gives
        outputs = np.zeros((0, *model.outputs[0].shape[1:]), "float32")
    forecast = transform.finish(outputs, processed_grid=processed_grid or processed)
    if (processed_grid and not processed) and transform.preprocessing is not None:
        coords = transform.preprocessing.apply_coords(coords) if coords else coords
    invalid_values = (
        np.isnan(forecast) if fill_value is None else forecast == fill_value
    )
    invalid = float(invalid_values.mean()) if forecast.size else 0.0
    if invalid:
        logger.info(
            "%.1f%% of the forecast values are NaN (masked, padded or outside the "
            "crop)",
            100 * invalid,
        )
    remove_litter(output_path.parent, target=output_path.name)
    if output_path.suffix == ".npz":
        atomic_save_npz(output_path, forecast=forecast, **coords)
    if output_path.suffix == ".nc" or ("lat" in coords and "lon" in coords):
        nc_path = output_path.with_suffix(".nc")
        if nc_path != output_path and nc_path.exists() and not overwrite:
            raise UserError(f"{nc_path} exists; pass --overwrite")
        write_netcdf(nc_path, forecast, coords, info)
    return forecast


def write_netcdf(path, forecast, coords, info):
    """netCDF-3 (scipy) with dims (sample, lead_time, lat|y, lon|x) per variable."""
    try:
        from scipy.io import netcdf_file
    except ImportError:
        raise UserError("Writing netCDF needs scipy (pip install scipy)") from None
    dataset = info.get("dataset", {})
    variables = list(
        dataset.get("variables") or [f"var{i}" for i in range(forecast.shape[-1])]
    )
    units = list(dataset.get("units") or [""] * len(variables))
    y_name = "lat" if "lat" in coords else "y"
    x_name = "lon" if "lon" in coords else "x"
    with atomic_path(path, suffix=".nc") as tmp:
        f = netcdf_file(str(tmp), "w")
        try:
            n, t, h, w, _ = forecast.shape
            f.createDimension("sample", n)
            f.createDimension("lead_time", t)
            f.createDimension(y_name, h)
            f.createDimension(x_name, w)
            lead = f.createVariable("lead_time", "i4", ("lead_time",))
            lead[:] = np.arange(1, t + 1)
            lead.units = dataset.get("time_step") or "steps"
            for name, size in ((y_name, h), (x_name, w)):
                var = f.createVariable(name, "f4", (name,))
                var[:] = np.asarray(coords.get(name, np.arange(size)), "float32")[:size]
                if name in ("lat", "lon"):
                    var.units = "degrees_north" if name == "lat" else "degrees_east"
            for c, name in enumerate(variables[: forecast.shape[-1]]):
                var = f.createVariable(
                    name, "f4", ("sample", "lead_time", y_name, x_name)
                )
                var[:] = forecast[..., c]
                var.units = units[c] if c < len(units) else ""
            f.history = "keras-svq predict"
        finally:
            f.close()


# --------------------------------------------------------------- export


EXPORT_FORMATS = ("saved_model", "onnx")


def export(
    run,
    output_dir,
    *,
    weights=None,
    overwrite=False,
    fill_value=None,
    format="saved_model",
    compute_dtype="float32",
):
    """Writes a run's model as a SavedModel folder, or `model.onnx` + `signature.json`.

    `run` is a `keras_svq.runs.Run` or a run folder path; `weights` (a
    checkpoint, default the run's best) applies to a path only.
    `compute_dtype` `"bfloat16"` (SavedModel only) makes the graph compute
    in bfloat16 (`keras_svq.export.precision`).
    """
    import keras

    if format not in EXPORT_FORMATS:
        raise UserError(
            f"unknown export format {format!r}; choose one of {', '.join(EXPORT_FORMATS)}"
        )
    if keras.backend.backend() != "tensorflow":
        raise UserError(
            "export converts through TensorFlow (SavedModel, tf2onnx) and needs the "
            "TensorFlow backend "
            f"(this run uses {keras.backend.backend()}); use --backend tensorflow"
        )
    from keras_svq.export import export_saved_model
    from keras_svq.export.precision import check_compute_dtype

    try:
        check_compute_dtype(compute_dtype)
    except ValueError as e:
        raise UserError(str(e)) from None
    if format == "onnx" and compute_dtype != "float32":
        raise UserError(
            f"--compute-dtype {compute_dtype} applies to SavedModel exports; "
            "ONNX models are exported in float32 (leave out --compute-dtype, "
            "or use --format saved_model)"
        )
    if format == "onnx":  # fail before loading anything when the extra is missing
        from keras_svq.export.onnx import require_onnx

        require_onnx()

    run = as_run(run, weights=weights)
    output_dir = pathlib.Path(output_dir)
    lock = FolderLock.for_target(
        output_dir, f"export folder {output_dir}", hint=", or choose another --output"
    )
    with lock:
        if output_dir.exists() and not output_dir.is_dir():
            raise UserError(f"--output {output_dir} is a file")
        if output_dir.exists() and any(output_dir.iterdir()) and not overwrite:
            raise UserError(
                f"{output_dir} exists and is not empty; pass --overwrite or another --output"
            )
        # What a killed export left (its temporary folder) goes first.
        remove_litter(output_dir.parent, target=output_dir.name)
        with Progress("export", 2) as bar:
            bar.update(0, note="loading the model")
            model = run.load_model()
            transform = run.forecast_transform(fill_value)
            description = {
                "run": str(run.root),
                "backbone": run.config["backbone"],
                "dataset": run.info.get("dataset", {}).get("name"),
            }
            bar.update(
                note=f"writing the {'ONNX model' if format == 'onnx' else 'SavedModel'}"
            )
            if format == "onnx":
                document = _export_onnx_folder(
                    model, output_dir, transform, description
                )
            else:
                document = export_saved_model(
                    model,
                    output_dir,
                    transform=transform,
                    description=description,
                    compute_dtype=compute_dtype,
                )
            bar.update(note="")
        return document


def _export_onnx_folder(model, output_dir, transform, description):
    """`output_dir/model.onnx` + `signature.json`, replacing the folder atomically."""
    from keras_svq.export.onnx import ONNX_FILE
    from keras_svq.export.onnx import export_onnx
    from keras_svq.export.saved_model import SIGNATURE_FILE

    with atomic_directory(output_dir) as tmp:
        document = export_onnx(
            model, tmp / ONNX_FILE, transform=transform, description=description
        )
        atomic_write_json(tmp / SIGNATURE_FILE, document)
    return document


def resolve_config_file(path, overrides=()):
    return config_lib.resolve(config_lib.load_yaml(path), overrides)
