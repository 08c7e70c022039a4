"""Skill per lead time: error metrics against lead time for several runs and a baseline."""

import numpy as np

from keras_svq.viz.figures import common_unit
from keras_svq.viz.figures import format_unit
from keras_svq.viz.figures import new_figure
from keras_svq.viz.figures import sample_size

# Metrics where higher is better: their axis label says so.
HIGHER_IS_BETTER = ("ssim", "psnr", "snr")


def skill_per_lead_time(
    pred, true, *, metrics=("mse", "mae"), spatial_norm=True, **options
):
    """Each metric per lead time, from `(N, T_out, H, W, C)` forecasts and truth.

    Computed with `keras_svq.metrics.openstl_metrics` on one lead time at a
    time, so the numbers are the same as the evaluator's. SSIM and PSNR only
    apply to data in a known range (`clip_range`, [0, 1] by default): ask for
    them on Moving MNIST or traffic in model space, not on temperatures.

    Args:
        pred: array `(N, T_out, H, W, C)`.
        true: array `(N, T_out, H, W, C)`.
        metrics: sequence of str. Names accepted by `openstl_metrics`.
            Defaults to ("mse", "mae").
        spatial_norm: bool. Per-element means (the weather convention).
            Defaults to True.
        **options: passed to `openstl_metrics` (`mean`, `std`, `clip_range`...).

    Returns:
        dict metric -> list of `T_out` floats.

    Example:

    ```python
    skill = skill_per_lead_time(pred, y, metrics=("mse", "mae", "ssim", "psnr"))
    ```
    """
    from keras_svq.metrics import openstl_metrics

    pred, true = np.asarray(pred), np.asarray(true)
    if pred.shape != true.shape or pred.ndim != 5:
        raise ValueError(
            "`pred` and `true` must both be (N, T_out, H, W, C). "
            f"Received: pred={pred.shape}, true={true.shape}"
        )
    result = {m: [] for m in metrics}
    for t in range(pred.shape[1]):
        scores = openstl_metrics(
            pred[:, t : t + 1],
            true[:, t : t + 1],
            metrics=tuple(metrics),
            spatial_norm=spatial_norm,
            **options,
        )
        for m in metrics:
            result[m].append(float(scores[m]))
    return result


def _per_lead(entry, name):
    """Accepts `{metric: [...]}` or anything holding it under `"per_lead_time"`."""
    if isinstance(entry, dict) and "per_lead_time" in entry:
        entry = entry["per_lead_time"]
    if not isinstance(entry, dict) or not entry:
        raise ValueError(
            f"Run {name!r} must map metric names to per-lead-time lists, e.g. "
            f"{{'mse': [0.1, 0.2]}} (or an evaluator result with 'per_lead_time'). "
            f"Received: {type(entry).__name__}"
        )
    return {k: np.asarray(v, "float64") for k, v in entry.items() if np.ndim(v) == 1}


def plot_skill_by_lead(
    runs,
    *,
    metrics=None,
    baseline=None,
    baseline_name="persistence",
    time_step="",
    units="",
    title=None,
    num_examples=None,
):
    """Metric against lead time, one line per run, the baseline dashed, one panel per metric.

    Args:
        runs: dict run name -> `{metric: [value per lead time]}`, or an
            evaluator result (`evaluate_forecast`, `keras-svq evaluate`'s
            `physical` entry) holding such a dict under `"per_lead_time"`.
        metrics: sequence of str or None. Panels; None uses every metric that
            all runs report, in the first run's order. Defaults to None.
        baseline: dict or None. The same format, for the baseline (persistence).
        baseline_name: str. Legend label of the baseline. Defaults to "persistence".
        time_step: str. Lead-time unit for the x axis, e.g. "1h". Defaults to "".
        units: str or sequence of str. Data units (one per channel allowed),
            added to the MAE/RMSE labels and squared for MSE:
            `"MSE [(trips per 30 min)^2]"`, `"MSE [K^2]"`. Channels with
            different units give no unit (the metrics average over channels).
            Defaults to "".
        title: str or None. Figure title.
        num_examples: int, tuple `(used, total)` or None. Windows the metrics
            were computed on, added to the title as `n=857` or
            `n=64 of 857`. Defaults to None.

    Returns:
        A matplotlib `Figure`.

    Example:

    ```python
    fig = plot_skill_by_lead(
        {"SimVP": {"mse": [0.2, 0.5, 0.9]}, "SimVP+SVQ": {"mse": [0.2, 0.4, 0.8]}},
        baseline={"mse": [0.4, 1.0, 1.6]}, time_step="1h", units="K",
        num_examples=857)
    ```
    """
    if not runs:
        raise ValueError("`runs` is empty; pass at least one {name: per-lead metrics}.")
    curves = {name: _per_lead(entry, name) for name, entry in runs.items()}
    base = _per_lead(baseline, baseline_name) if baseline is not None else None
    if metrics is None:
        first = next(iter(curves.values()))
        metrics = [m for m in first if all(m in c for c in curves.values())]
    missing = {name: [m for m in metrics if m not in c] for name, c in curves.items()}
    missing = {k: v for k, v in missing.items() if v}
    if missing or not metrics:
        raise ValueError(
            f"Every run must report every metric plotted. Missing: {missing or 'no common metric'}. "
            "Pass `metrics=` with the names they share."
        )
    figure, axes = _panels(len(metrics))
    for ax, metric in zip(axes, metrics):
        _plot_runs(ax, curves, metric)
        if base is not None and metric in base:
            values = base[metric]
            ax.plot(
                np.arange(1, len(values) + 1),
                values,
                color="black",
                linestyle="--",
                label=baseline_name,
            )
        label = metric.upper()
        unit = common_unit(units)
        if unit and metric in ("mae", "rmse"):
            label += f" [{unit}]"
        elif unit and metric == "mse":
            label += f" [{format_unit(unit, 2)}]"
        if metric in HIGHER_IS_BETTER:
            label += " (higher is better)"
        ax.set_ylabel(label)
        _lead_axis(ax, time_step)
    return _finish(figure, axes, title or "Skill per lead time", num_examples)


def plot_skill_scores(runs, *, time_step="", title=None, num_examples=None):
    """MSE skill score against each baseline per lead time (above 0 beats it).

    Args:
        runs: dict run name -> `{baseline name: [skill per lead time]}`, or
            `keras-svq evaluate`'s `"skill"` entry (`{"vs_<name>":
            {"per_lead_time": {"mse_skill": [...]}}}`).
        time_step: str. Lead-time unit for the x axis. Defaults to "".
        title: str or None. Figure title.
        num_examples: int, tuple `(used, total)` or None. Windows scored,
            added to the title (`n=857`). Defaults to None.

    Returns:
        A matplotlib `Figure`, one panel per baseline.

    Example:

    ```python
    fig = plot_skill_scores({"SimVP": metrics["skill"]}, time_step="1h")
    ```
    """
    curves = {}
    for name, entry in runs.items():
        curves[name] = {
            reference.removeprefix("vs_"): np.asarray(
                value["per_lead_time"]["mse_skill"]
                if isinstance(value, dict)
                else value,
                "float64",
            )
            for reference, value in entry.items()
        }
    references = list(dict.fromkeys(r for c in curves.values() for r in c))
    if not references:
        raise ValueError("`runs` holds no skill scores.")
    figure, axes = _panels(len(references))
    for ax, reference in zip(axes, references):
        _plot_runs(ax, curves, reference)
        ax.axhline(0.0, color="black", linestyle="--", linewidth=1)
        ax.set_ylabel(f"MSE skill vs {reference.replace('_', ' ')}")
        _lead_axis(ax, time_step)
    return _finish(figure, axes, title or "MSE skill score", num_examples)


def _panels(count):
    figure = new_figure((4.0 * count, 3.3), layout="constrained")
    return figure, figure.subplots(1, count, squeeze=False)[0]


def _plot_runs(ax, curves, key):
    """One line per run (colour by run order) of `curve[key]` against lead time."""
    for i, (name, curve) in enumerate(curves.items()):
        if key in curve:
            values = curve[key]
            ax.plot(
                np.arange(1, len(values) + 1),
                values,
                marker="o",
                markersize=3,
                color=f"C{i}",
                label=name,
            )


def _lead_axis(ax, time_step):
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel(
        f"lead time (steps of {time_step})" if time_step else "lead time (steps)"
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)


def _finish(figure, axes, title, num_examples=None):
    axes[0].legend(fontsize=8)
    if num_examples is not None:
        used, total = (
            num_examples if isinstance(num_examples, tuple) else (num_examples, None)
        )
        title = f"{title} ({sample_size(used, total)})"
    if title:
        figure.suptitle(title)
    return figure
