"""The figures of `keras-svq plot`, `explain` and `evaluate`, from runs.

Library functions (the argument parsing is in `keras_svq.commands.plot` and
`keras_svq.commands.explain`):

- `load_run_data(run)`: a run's data and trained model as `RunData`, from a
  `keras_svq.runs.Run` (sharing what it already loaded) or a folder path;
  `load_model_data(config, weights)` for a config and a checkpoint.
- `write_run_plots(run)`: every figure of a run folder (training curves,
  skill per lead time, a forecast example, the SVQ views);
  `write_model_plots(run_data, output_dir)` only those that need the model.
- `explain_run(run, region=..., lead=...)`: attribution maps.

`keras-svq evaluate --run DIR` writes the run's figures next to
`metrics.json` with the `Run` it evaluated, so data and model load once:

```python
run = Run("runs/era5")
evaluate(run, run.layout.evaluation)
write_run_plots(run, run.layout.evaluation / "plots")
```

All raise `keras_svq.io_utils.UserError` (one-line message, exit status 2)
for mistakes the user can fix.
"""

import dataclasses
import logging
import pathlib

import numpy as np

from keras_svq.io_utils import UserError
from keras_svq.viz import attribution
from keras_svq.viz import codebook_plots
from keras_svq.viz import example_choice
from keras_svq.viz import forecast_panels
from keras_svq.viz import geo
from keras_svq.viz import run_plots
from keras_svq.viz import skill_plots
from keras_svq.viz.figures import save_figure

logger = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def run_coordinates(info, frame_shape, crop=None):
    """The `lat`/`lon` of a run's frames from its `run.json` `"coords"`, or None.

    The trainer records the coordinates of own data there. A `data.crop`
    keeps the top-left corner, so coordinates of the uncropped frames are cut
    to `frame_shape`. Projected `"y"`/`"x"` coordinates give None: the panels
    label their axes in degrees.

    Args:
        info: dict or None. The run's `run.json`.
        frame_shape: tuple `(H, W, ...)`. The frames the model sees.
        crop: tuple `(H, W)` or None. The run's `data.crop`. Defaults to None.

    Returns:
        dict with `"lat"` `(H,)` and `"lon"` `(W,)` float arrays, or None when
        `info` has no usable latitudes and longitudes.

    Example:

    ```python
    info = {"coords": {"lat": [52.0, 51.5], "lon": [-1.0, -0.5, 0.0]}}
    run_coordinates(info, (2, 3, 1))["lat"]   # array([52. , 51.5])
    ```
    """
    coords = (info or {}).get("coords") or {}
    if "lat" not in coords or "lon" not in coords:
        return None
    try:
        lat = np.asarray(coords["lat"], "float64")
        lon = np.asarray(coords["lon"], "float64")
    except (TypeError, ValueError):
        return None
    height, width = frame_shape[:2]
    if lat.ndim != 1 or lon.ndim != 1:
        return None
    if crop is not None and len(lat) >= height and len(lon) >= width:
        lat, lon = lat[:height], lon[:width]
    if len(lat) != height or len(lon) != width:
        logger.info(
            "run.json coords (%d lat, %d lon) do not match the frames %s: "
            "plotting without a map",
            len(lat),
            len(lon),
            (height, width),
        )
        return None
    if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
        return None
    return {"lat": lat, "lon": lon}


@dataclasses.dataclass
class RunData:
    """A trained model loaded for plotting: its config, data and name (and run folder, if any).

    `info` is the run's `run.json` (empty when plotting from a config and
    weights only).
    """

    name: str
    config: dict
    bundle: object
    model: object
    root: pathlib.Path | None = None
    info: dict = dataclasses.field(default_factory=dict)

    @property
    def units(self):
        """One unit per channel, e.g. `("inflow", "outflow")`'s `("trips per 30 min",) * 2`."""
        return tuple(getattr(self.bundle.info, "units", ()) or ())

    @property
    def variable(self):
        """One name per channel, e.g. `("inflow", "outflow")`."""
        return tuple(getattr(self.bundle.info, "variables", ()) or ())

    @property
    def time_step(self):
        return getattr(self.bundle.info, "time_step", "") or ""

    def coordinates(self):
        """`{"lat", "lon", "land_mask"}` of the frames, or None without a map.

        The run's recorded `coords` (own data) come first, then those of an
        embedded sample; the land mask exists for samples only.
        """
        sample = self.config.get("data", {}).get("sample")
        crop = self.bundle.crop
        height, width = self.bundle.frame_shape[:2]
        coords = run_coordinates(self.info, self.bundle.frame_shape, crop)
        if coords is None:
            coords = geo.sample_coordinates(sample, crop) if sample else None
            if coords is None:
                return None
            if len(coords["lat"]) != height or len(coords["lon"]) != width:
                return None
        mask = geo.sample_land_mask(sample, crop) if sample else None
        coords["land_mask"] = (
            mask if mask is not None and mask.shape == (height, width) else None
        )
        return coords

    def examples(self, split, limit):
        x, y = self.bundle.arrays(split)
        if len(x) == 0:
            raise UserError(f"The {split} split of {self.name} holds no example")
        return x[:limit], y[:limit]


def load_run_data(run, *, weights=None, data_dir=None):
    """Loads a run's config, data and trained model (raises `UserError`).

    Args:
        run: `keras_svq.runs.Run` (its loaded data and model are reused), or
            a `keras-svq train` output folder.
        weights: path or None. Checkpoint, for a folder; None uses the best
            (else final) one.
        data_dir: path or None. Folder of a full dataset's files, for a folder.

    Returns:
        `RunData`.

    Example:

    ```python
    run = load_run_data("runs/era5")
    x, y = run.examples("test", 8)
    ```
    """
    from keras_svq.runs import Run

    if not isinstance(run, Run):
        run = Run(run, weights=weights, data_dir=data_dir)
    return RunData(
        run.name,
        run.config,
        run.load_data(),
        run.load_model(),
        run.root,
        dict(run.info),
    )


def load_model_data(
    config, weights, *, name="model", data_dir=None, root=None, info=None
):
    """Loads the data and trained model of a resolved experiment `config` (raises `UserError`).

    Args:
        config: dict. A resolved experiment (as in a run's `config.yaml`).
        weights: path. A `.weights.h5` checkpoint.
        name: str. Label in figures. Defaults to "model".
        data_dir: path or None. Folder of a full dataset's files.
        root: path or None. The run folder, when there is one.
        info: dict or None. The run's `run.json` (its `coords` place the maps).
            Defaults to none.

    Returns:
        `RunData`.

    Example:

    ```python
    run = load_model_data(config, "best.weights.h5", name="SimVP+SVQ")
    ```
    """
    from keras_svq.runs import Run

    run = Run.from_config(config, weights, data_dir=data_dir, name=name)
    return RunData(
        name, config, run.load_data(), run.load_model(), root, dict(info or {})
    )


def _physical_skill(run, x, y, pred):
    norm = run.bundle.normalizer
    true = norm.denormalize(y)
    model_skill = skill_plots.skill_per_lead_time(norm.denormalize(pred), true)
    from keras_svq.metrics import persistence_forecast

    baseline = np.asarray(persistence_forecast(x, y.shape[1]))
    base_skill = skill_plots.skill_per_lead_time(norm.denormalize(baseline), true)
    quality = [
        m
        for m in ("ssim", "psnr")
        if m in tuple(getattr(run.bundle.info, "metrics", ()))
    ]
    if quality:  # data in [0, 1] in model space: the image metrics apply there
        model_skill.update(skill_plots.skill_per_lead_time(pred, y, metrics=quality))
        base_skill.update(skill_plots.skill_per_lead_time(baseline, y, metrics=quality))
    return model_skill, base_skill


def _predict(model, x):
    return np.asarray(model.predict(x, batch_size=16, verbose=0), "float32")


def write_run_plots(
    run,
    output_dir=None,
    *,
    compare=(),
    example=None,
    split="test",
    gif=False,
    weights=None,
    data_dir=None,
    max_examples=None,
):
    """Writes every figure of a run folder and returns `{figure name: path}`.

    Figures: `training_curves.png` (loss and learning rate) and
    `svq_sparsity.png` (when codebook diagnostics were logged) from the run's
    history, then those of `write_model_plots`.

    Args:
        run: `keras_svq.runs.Run` (its loaded data and model are reused) or
            a run folder path.
        output_dir: path or None. Destination; defaults to `RUN/plots`.
        compare: sequence of paths. Other run folders added to the skill chart.
        example: int or None. Index of the example drawn from `split`; None
            draws the window of median error (see `write_model_plots`).
            Defaults to None.
        split: str. "train", "val" or "test". Defaults to "test".
        gif: bool. Also write an animation. Defaults to False.
        weights: path or None. Checkpoint, for a folder path; None uses the
            run's best.
        data_dir: path or None. Folder of a full dataset's files.
        max_examples: int or None. Use only the first windows of `split`;
            None uses all, as `keras-svq evaluate` does. Defaults to None.

    Returns:
        dict name -> `pathlib.Path`.

    Example:

    ```python
    paths = write_run_plots("runs/era5_svq", compare=["runs/era5_simvp"])
    ```
    """
    run = load_run_data(run, weights=weights, data_dir=data_dir)
    output_dir = pathlib.Path(output_dir) if output_dir else run.root / "plots"
    written = {}
    try:
        rows = run_plots.load_history(run.root)
    except FileNotFoundError:
        rows = []
    if rows:
        written["training_curves"] = save_figure(
            run_plots.plot_training_history(rows, title=f"Training: {run.name}"),
            output_dir / "training_curves.png",
        )
        if any(key.startswith("svq_") for row in rows for key in row):
            written["svq_sparsity"] = save_figure(
                codebook_plots.plot_sparsity_over_training(rows),
                output_dir / "svq_sparsity.png",
            )
    others = [load_run_data(path, data_dir=data_dir) for path in compare]
    written.update(
        write_model_plots(
            run,
            output_dir,
            compare=others,
            example=example,
            split=split,
            gif=gif,
            max_examples=max_examples,
        )
    )
    return written


def write_model_plots(
    run,
    output_dir,
    *,
    compare=(),
    example=None,
    split="test",
    gif=False,
    max_examples=None,
):
    """Writes the figures that need the trained model (what `keras-svq evaluate` adds).

    Figures: `skill_by_lead.png` (this model, the `compare` models and
    persistence, in physical units; SSIM/PSNR too when the dataset reports
    them), `forecast_example_<i>.png` (and `.gif` with `gif=True`), and for
    models with SVQ `code_weights.png`, `codebook_usage.png`,
    `codebook_projection.png`.

    The skill chart uses every window of `split` (the set `keras-svq
    evaluate` scores) unless `max_examples` limits it, and its title says how
    many: `n=857`, or `n=64 of 857`. Without `example`, the forecast drawn
    is chosen by the rule of `keras_svq.viz.example_choice`: the window of
    median error among those without a dropout frame (a frame near zero
    against the rest of its window, such as the missing daylight-saving hour
    in the NYC taxi sample); its title says so.

    Args:
        run: `RunData` (from `load_run_data` or `load_model_data`).
        output_dir: path. Destination folder.
        compare: sequence of `RunData`. Other models on the skill chart.
        example: int or None. Index of the example drawn; None applies the
            rule above. Defaults to None.
        split: str. "train", "val" or "test". Defaults to "test".
        gif: bool. Also write an animation. Defaults to False.
        max_examples: int or None. Use only the first windows of `split`
            (for the skill chart and the example choice); None uses all.
            Defaults to None.

    Returns:
        dict name -> `pathlib.Path`.

    Example:

    ```python
    # in `keras-svq evaluate --config FILE --weights FILE --output-dir DIR`
    write_model_plots(load_model_data(config, weights), output_dir / "plots")
    ```
    """
    if split not in SPLITS:
        raise UserError(f"--split must be one of {', '.join(SPLITS)}; got {split!r}")
    if max_examples is not None and max_examples < 1:
        raise UserError(f"--max-examples must be at least 1; got {max_examples}")
    output_dir = pathlib.Path(output_dir)
    written = {}

    def save(name, figure):
        written[name] = save_figure(figure, output_dir / f"{name}.png")

    limit = None if max_examples is None else max(max_examples, (example or 0) + 1)
    x, y = run.examples(split, None)
    total = len(x)
    x, y = x[:limit], y[:limit]
    if example is not None and not 0 <= example < len(x):
        raise UserError(
            f"--example must be in [0, {len(x) - 1}] for the {split} split; got {example}"
        )
    pred = _predict(run.model, x)
    model_skill, base_skill = _physical_skill(run, x, y, pred)
    curves = {run.name: model_skill}
    for other in compare:
        ox, oy = other.examples(split, limit)
        curves[other.name] = _physical_skill(other, ox, oy, _predict(other.model, ox))[
            0
        ]
    save(
        "skill_by_lead",
        skill_plots.plot_skill_by_lead(
            curves,
            baseline=base_skill,
            time_step=run.time_step,
            units=run.units,
            metrics=[m for m in model_skill if all(m in c for c in curves.values())],
            title=f"Skill per lead time, {split} split",
            num_examples=(len(x), total),
        ),
    )

    norm = run.bundle.normalizer
    if example is None:
        example, why = example_choice.default_example(
            norm.denormalize(x), norm.denormalize(y), norm.denormalize(pred)
        )
        why = f" ({why})"
    else:
        why = ""
    coords = run.coordinates() or {}
    panel_args = dict(
        units=run.units,
        variable=run.variable,
        time_step=run.time_step,
        lat=coords.get("lat"),
        lon=coords.get("lon"),
        land_mask=coords.get("land_mask"),
    )
    fields = (
        norm.denormalize(x[example]),
        norm.denormalize(y[example]),
        norm.denormalize(pred[example]),
    )
    save(
        f"forecast_example_{example}",
        forecast_panels.plot_forecast_panels(
            *fields,
            title=f"{run.name}: {split} example {example}{why}",
            **panel_args,
        ),
    )
    if gif:
        from keras_svq.viz.animation import animate_forecast

        written[f"forecast_example_{example}_gif"] = animate_forecast(
            *fields, output_dir / f"forecast_example_{example}.gif", **panel_args
        )

    from keras_svq.training import quantizer_code_weights
    from keras_svq.training.codebook_usage_callback import find_sparse_vector_quantizers

    quantizers = find_sparse_vector_quantizers(run.model)
    if quantizers:
        code_weights = quantizer_code_weights(run.model, x[: min(len(x), 8)])
        for layer in quantizers:
            weights_k = code_weights.get(layer.name)
            if weights_k is None:
                continue
            tag = "" if len(quantizers) == 1 else f"_{layer.name}"
            codebook = np.asarray(layer.codebook)
            save(
                f"code_weights{tag}",
                codebook_plots.plot_code_weight_histogram(weights_k),
            )
            save(f"codebook_usage{tag}", codebook_plots.plot_codebook_usage(weights_k))
            save(
                f"codebook_projection{tag}",
                codebook_plots.plot_codebook_projection(codebook, weights_k),
            )
    for name, path in written.items():
        logger.info("wrote %s: %s", name, path)
    return written


def explain_run(
    run,
    *,
    region,
    lead,
    method="saliency",
    example=0,
    split="test",
    layer=None,
    smooth_samples=16,
    output=None,
    weights=None,
    data_dir=None,
    seed=0,
):
    """Attribution maps for one example of a run; writes a PNG and the maps (`.npz`).

    Args:
        run: `keras_svq.runs.Run` or a run folder path.
        region: str `"r0:r1,c0:c1"` or tuple. Output pixels scored.
        lead: int. 1-based lead time.
        method: str. A name of `attribution.ATTRIBUTION_METHODS`. Defaults to "saliency".
        example: int. Example index in `split`. Defaults to 0.
        split: str. Defaults to "test".
        layer: str or None. Grad-CAM layer (default: the quantizer, else the encoder).
        smooth_samples: int. SmoothGrad samples. Defaults to 16.
        output: path or None. PNG path; defaults to `RUN/explain/<method>_lead<lead>.png`.
        weights: path or None. Checkpoint.
        data_dir: path or None. Folder of a full dataset's files.
        seed: int. SmoothGrad noise seed. Defaults to 0.

    Returns:
        The PNG `pathlib.Path` (the maps are beside it with suffix `.npz`).

    Example:

    ```python
    explain_run("runs/era5", region="8:16,8:16", lead=6, method="smoothgrad")
    ```
    """
    if split not in SPLITS:
        raise UserError(f"--split must be one of {', '.join(SPLITS)}; got {split!r}")
    try:
        score = attribution.RegionScore(region, lead)
    except ValueError as error:
        raise UserError(str(error)) from None
    if method not in attribution.ATTRIBUTION_METHODS:
        raise UserError(
            f"--method must be one of {', '.join(sorted(attribution.ATTRIBUTION_METHODS))}; got {method!r}"
            + (
                " (ScoreCAM applies a softmax, meaningless for regression)"
                if method == "scorecam"
                else ""
            )
        )
    run = load_run_data(run, weights=weights, data_dir=data_dir)
    x, _ = run.examples(split, example + 1)
    if example >= len(x) or example < 0:
        raise UserError(f"--example must be in [0, {len(x) - 1}]; got {example}")
    options = {}
    if method == "smoothgrad":
        options.update(smooth_samples=smooth_samples, seed=seed)
    if method == "gradcam":
        options.update(layer=layer)
    try:
        maps = attribution.attribution_maps(
            method,
            run.model,
            x[example : example + 1],
            region=score,
            lead=lead,
            **options,
        )
    except ValueError as error:
        raise UserError(" ".join(str(error).split())) from None
    output = (
        pathlib.Path(output)
        if output
        else run.root / "explain" / f"{method}_lead{lead}.png"
    )
    figure = attribution.plot_attribution(
        run.bundle.normalizer.denormalize(x[example]),
        maps[0],
        region=score.region,
        lead=lead,
        method=method,
        time_step=run.time_step,
        title=f"{run.name}: {method} for rows {score.region[0]}:{score.region[1]}, "
        f"cols {score.region[2]}:{score.region[3]} at lead {lead} ({split} example {example})",
    )
    save_figure(figure, output)
    np.savez(
        output.with_suffix(".npz"),
        maps=maps[0],
        region=np.asarray(score.region),
        lead=lead,
    )
    logger.info("wrote %s", output)
    return output
