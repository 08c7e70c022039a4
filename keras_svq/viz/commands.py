"""`keras-svq plot` and `keras-svq explain`: figures from run folders.

Register them in `keras_svq/cli.py` like the other subcommands:

```python
from keras_svq.viz import commands as viz_commands

plot = subparsers.add_parser("plot", help="write the figures of run folders")
viz_commands.add_plot_arguments(plot)
plot.set_defaults(func=viz_commands.plot_command)
explain = subparsers.add_parser("explain", help="attribution maps for a forecast region")
viz_commands.add_explain_arguments(explain)
explain.set_defaults(func=viz_commands.explain_command)
```

`keras-svq evaluate` writes the model figures next to `metrics.json`:

```python
plots = pathlib.Path(output_dir) / "plots"
if args.run:
    viz_commands.write_run_plots(args.run, plots, weights=weights, data_dir=args.data_dir)
else:
    run = viz_commands.load_model_data(config, weights, data_dir=args.data_dir)
    viz_commands.write_model_plots(run, plots)
```

All raise `keras_svq.io_utils.UserError` (one-line message, exit status 2)
for mistakes the user can fix; the commands return 0 on success.
"""

import dataclasses
import logging
import pathlib

import numpy as np

from keras_svq.io_utils import UserError
from keras_svq.viz import attribution
from keras_svq.viz import codebook_plots
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
        return ", ".join(getattr(self.bundle.info, "units", ()) or ())

    @property
    def variable(self):
        return ", ".join(getattr(self.bundle.info, "variables", ()) or ())

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


def load_run_data(run_dir, *, weights=None, data_dir=None):
    """Loads a run folder's config, data and trained model (raises `UserError`).

    Args:
        run_dir: str or path. A `keras-svq train` output folder.
        weights: path or None. Checkpoint; None uses the best (else final) one.
        data_dir: path or None. Folder of a full dataset's files.

    Returns:
        `RunData`.

    Example:

    ```python
    run = load_run_data("runs/era5")
    x, y = run.examples("test", 8)
    ```
    """
    from keras_svq.training import trainer

    layout, config, info = trainer.load_run(run_dir)
    weights = weights or trainer.default_weights(layout)
    return load_model_data(
        config,
        weights,
        name=layout.root.name,
        data_dir=data_dir,
        root=layout.root,
        info=info,
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
    from keras_svq.training import trainer

    bundle = trainer.build_data(config, data_dir=data_dir)
    model = trainer.load_trained_model(config, weights)
    return RunData(name, config, bundle, model, root, dict(info or {}))


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
    run_dir,
    output_dir=None,
    *,
    compare=(),
    example=0,
    split="test",
    gif=False,
    weights=None,
    data_dir=None,
    max_examples=64,
):
    """Writes every figure of a run folder and returns `{figure name: path}`.

    Figures: `training_curves.png` (loss and learning rate) and
    `svq_sparsity.png` (when codebook diagnostics were logged) from the run's
    history, then those of `write_model_plots`.

    Args:
        run_dir: path. The run folder.
        output_dir: path or None. Destination; defaults to `RUN/plots`.
        compare: sequence of paths. Other run folders added to the skill chart.
        example: int. Index of the example drawn from `split`. Defaults to 0.
        split: str. "train", "val" or "test". Defaults to "test".
        gif: bool. Also write an animation. Defaults to False.
        weights: path or None. Checkpoint; None uses the run's best.
        data_dir: path or None. Folder of a full dataset's files.
        max_examples: int. Examples used for skill and codebook views. Defaults to 64.

    Returns:
        dict name -> `pathlib.Path`.

    Example:

    ```python
    paths = write_run_plots("runs/era5_svq", compare=["runs/era5_simvp"])
    ```
    """
    run = load_run_data(run_dir, weights=weights, data_dir=data_dir)
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
    run, output_dir, *, compare=(), example=0, split="test", gif=False, max_examples=64
):
    """Writes the figures that need the trained model (what `keras-svq evaluate` adds).

    Figures: `skill_by_lead.png` (this model, the `compare` models and
    persistence, in physical units; SSIM/PSNR too when the dataset reports
    them), `forecast_example_<i>.png` (and `.gif` with `gif=True`), and for
    models with SVQ `code_weights.png`, `codebook_usage.png`,
    `codebook_projection.png`.

    Args:
        run: `RunData` (from `load_run_data` or `load_model_data`).
        output_dir: path. Destination folder.
        compare: sequence of `RunData`. Other models on the skill chart.
        example: int. Index of the example drawn. Defaults to 0.
        split: str. "train", "val" or "test". Defaults to "test".
        gif: bool. Also write an animation. Defaults to False.
        max_examples: int. Examples used for skill and codebook views. Defaults to 64.

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
    if max_examples < 1:
        raise UserError(f"--max-examples must be at least 1; got {max_examples}")
    output_dir = pathlib.Path(output_dir)
    written = {}

    def save(name, figure):
        written[name] = save_figure(figure, output_dir / f"{name}.png")

    x, y = run.examples(split, max(max_examples, example + 1))
    if not 0 <= example < len(x):
        raise UserError(
            f"--example must be in [0, {len(x) - 1}] for the {split} split; got {example}"
        )
    pred = _predict(run.model, x)
    model_skill, base_skill = _physical_skill(run, x, y, pred)
    curves = {run.name: model_skill}
    for other in compare:
        ox, oy = other.examples(split, max_examples)
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
            title=f"Skill per lead time ({split}, {len(x)} examples)",
        ),
    )

    norm = run.bundle.normalizer
    coords = run.coordinates() or {}
    panel_args = dict(
        units=run.units,
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
            variable=run.variable,
            title=f"{run.name}: {split} example {example}",
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


def add_plot_arguments(parser):
    """Adds `keras-svq plot` options to an `argparse` parser."""
    parser.add_argument(
        "--run",
        required=True,
        action="append",
        metavar="DIR",
        help="run folder; repeat to compare runs on the skill chart (plots go to the first)",
    )
    parser.add_argument(
        "--output-dir", default=None, metavar="DIR", help="default: RUN/plots"
    )
    parser.add_argument("--split", default="test", choices=SPLITS)
    parser.add_argument(
        "--example", type=int, default=0, help="index of the example drawn"
    )
    parser.add_argument(
        "--gif", action="store_true", help="also write an animated GIF of the forecast"
    )
    parser.add_argument(
        "--weights", default=None, help="checkpoint (default: the run's best)"
    )
    parser.add_argument(
        "--data-dir", default=None, help="folder of a full dataset's files"
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=64,
        help="examples used for skill and codebook views",
    )
    return parser


def plot_command(args):
    """`keras-svq plot --run DIR [--run OTHER ...]`: writes the run's figures."""
    runs = list(args.run)
    written = write_run_plots(
        runs[0],
        args.output_dir,
        compare=runs[1:],
        example=args.example,
        split=args.split,
        gif=args.gif,
        weights=args.weights,
        data_dir=args.data_dir,
        max_examples=args.max_examples,
    )
    for path in written.values():
        print(path)
    return 0


def explain_run(
    run_dir,
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
        run_dir: path. The run folder.
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
    run = load_run_data(run_dir, weights=weights, data_dir=data_dir)
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


def add_explain_arguments(parser):
    """Adds `keras-svq explain` options to an `argparse` parser."""
    parser.add_argument("--run", required=True, metavar="DIR", help="run folder")
    parser.add_argument(
        "--region",
        required=True,
        metavar="R0:R1,C0:C1",
        help="output pixels scored (half-open rows, columns), e.g. 8:16,8:16",
    )
    parser.add_argument(
        "--lead", required=True, type=int, help="1-based lead time scored"
    )
    parser.add_argument(
        "--method", default="saliency", choices=sorted(attribution.ATTRIBUTION_METHODS)
    )
    parser.add_argument("--example", type=int, default=0)
    parser.add_argument("--split", default="test", choices=SPLITS)
    parser.add_argument(
        "--layer",
        default=None,
        help="Grad-CAM layer (default: quantizer, else encoder)",
    )
    parser.add_argument("--smooth-samples", type=int, default=16)
    parser.add_argument(
        "--output",
        default=None,
        help="PNG path (default: RUN/explain/METHOD_leadN.png)",
    )
    parser.add_argument("--weights", default=None)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--seed", type=int, default=0)
    return parser


def explain_command(args):
    """`keras-svq explain --run DIR --region R0:R1,C0:C1 --lead N`: writes the attribution figure."""
    path = explain_run(
        args.run,
        region=args.region,
        lead=args.lead,
        method=args.method,
        example=args.example,
        split=args.split,
        layer=args.layer,
        smooth_samples=args.smooth_samples,
        output=args.output,
        weights=args.weights,
        data_dir=args.data_dir,
        seed=args.seed,
    )
    print(path)
    return 0
