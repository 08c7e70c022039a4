"""Figure creation and saving shared by every plot: no display, no global pyplot state.

Every plot function of `keras_svq.viz` builds a `matplotlib.figure.Figure`
directly (not through `pyplot`), so it renders without a display (the Agg
canvas), never changes the user's backend, and needs no `plt.close`. In a
notebook a returned `Figure` displays as the cell's value.
"""

import pathlib


def _matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ImportError(
            "keras_svq.viz needs matplotlib. Install it with "
            "`pip install keras-svq[viz]` (or `pip install matplotlib`)."
        ) from None
    return matplotlib


def new_figure(figsize=(6.0, 4.0), **kwargs):
    """A `matplotlib.figure.Figure` with an Agg canvas, outside pyplot.

    Args:
        figsize: tuple. Width and height in inches. Defaults to (6, 4).
        **kwargs: passed to `Figure` (e.g. `layout="constrained"`).

    Returns:
        A `Figure`.

    Example:

    ```python
    fig = new_figure((4, 3))
    fig.add_subplot().plot([1, 2, 3])
    save_figure(fig, "/tmp/line.png")
    ```
    """
    _matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, **kwargs)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure, path, dpi=100):
    """Writes `figure` to `path` (format from the suffix), creating folders.

    Args:
        figure: a matplotlib `Figure`.
        path: str or path. Destination, e.g. `"plots/skill.png"`.
        dpi: int. Resolution. Defaults to 100.

    Returns:
        The `pathlib.Path` written.

    Example:

    ```python
    save_figure(plot_skill_by_lead({"SimVP": {"mse": [1.0, 2.0]}}), "skill.png")
    ```
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    return path
