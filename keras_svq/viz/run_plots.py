"""Training curves and skill from run folders (`keras-svq train` / `evaluate` output).

A run folder holds `logs/history.json` (one row per epoch: `epoch`, `loss`,
`val_loss`, `learning_rate`, and `svq_*` with codebook diagnostics) and, once
evaluated, `evaluation/metrics.json` (`physical` and `persistence_physical`
with `per_lead_time`).
"""

import json
import pathlib

import numpy as np

from keras_svq.viz.codebook_plots import _history_columns
from keras_svq.viz.figures import new_figure


def load_history(run_dir):
    """The per-epoch rows of a run folder's `logs/history.json`.

    Args:
        run_dir: str or path. A run folder.

    Returns:
        list of dicts (one per epoch).

    Example:

    ```python
    rows = load_history("runs/era5")
    ```
    """
    path = pathlib.Path(run_dir) / "logs" / "history.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"No training history at {path}: is {run_dir} a keras-svq run folder "
            "that has trained at least one epoch?"
        )
    return json.loads(path.read_text())


def load_evaluation(run_dir):
    """`evaluation/metrics.json` of a run folder, or None before `keras-svq evaluate`.

    Example:

    ```python
    results = load_evaluation("runs/era5")
    results["physical"]["per_lead_time"]["rmse"]
    ```
    """
    path = pathlib.Path(run_dir) / "evaluation" / "metrics.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _is_run_mapping(history):
    """True for `{run name: history}`, False for one history (rows, dict of lists, History)."""
    if not isinstance(history, dict) or not history:
        return False
    return all(
        hasattr(v, "history")
        or isinstance(v, dict)
        or (isinstance(v, list) and v and isinstance(v[0], dict))
        for v in history.values()
    )


def plot_training_history(history, *, title=None):
    """Training and validation loss (log scale) and the learning rate per epoch.

    Args:
        history: a Keras `History`, its `.history` dict, the rows of
            `logs/history.json`, or a dict run name -> any of those to
            compare runs (one colour per run).
        title: str or None. Figure title.

    Returns:
        A matplotlib `Figure` with two panels (loss, learning rate); the
        learning-rate panel says so when the history has none.

    Example:

    ```python
    fig = plot_training_history(load_history("runs/era5"))
    fig = plot_training_history({"SimVP": rows_a, "SimVP+SVQ": rows_b})
    ```
    """
    from matplotlib.ticker import MaxNLocator

    single = not _is_run_mapping(history)
    runs = {"": history} if single else dict(history)
    figure = new_figure((9.0, 3.4), layout="constrained")
    loss_ax, lr_ax = figure.subplots(1, 2)
    has_lr = False
    for i, (name, entry) in enumerate(runs.items()):
        columns = _history_columns(entry)
        epochs = columns["epoch"]
        prefix = f"{name} " if name else ""
        if "loss" in columns:
            loss_ax.plot(
                epochs,
                columns["loss"],
                color=f"C{i}",
                marker="o",
                markersize=3,
                label=f"{prefix}train",
            )
        if "val_loss" in columns:
            loss_ax.plot(
                epochs,
                columns["val_loss"],
                color=f"C{i}",
                linestyle="--",
                marker="s",
                markersize=3,
                label=f"{prefix}validation",
            )
        rate = columns.get("learning_rate", columns.get("lr"))
        if rate is not None:
            has_lr = True
            lr_ax.plot(
                epochs,
                rate,
                color=f"C{i}",
                marker="o",
                markersize=3,
                label=name or None,
            )
    values = [v for line in loss_ax.get_lines() for v in line.get_ydata()]
    if values and np.nanmin(np.asarray(values, "float64")) > 0:
        loss_ax.set_yscale("log")
    for ax in (loss_ax, lr_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    loss_ax.set_xlabel("epoch")
    loss_ax.set_ylabel("loss")
    if loss_ax.get_lines():
        loss_ax.legend(fontsize=8)
    lr_ax.set_xlabel("epoch")
    lr_ax.set_ylabel("learning rate (end of epoch)")
    if not has_lr:
        lr_ax.text(
            0.5,
            0.5,
            "no learning rate logged",
            ha="center",
            va="center",
            transform=lr_ax.transAxes,
        )
    elif not single:
        lr_ax.legend(fontsize=8)
    figure.suptitle(title or "Training curves")
    return figure
