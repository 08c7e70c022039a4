"""Forecast animations (GIF): observed vs forecast vs error, frame by frame."""

import pathlib

import numpy as np

from keras_svq.viz import forecast_panels
from keras_svq.viz.figures import new_figure


def animate_forecast(
    inputs,
    truth,
    forecast,
    path,
    *,
    channel=0,
    fps=2,
    units="",
    time_step="",
    lat=None,
    lon=None,
    land_mask=None,
    cmap="viridis",
    dpi=80,
):
    """Writes a GIF: the input frames, then truth, forecast and error per lead time.

    Uses matplotlib's `PillowWriter`, so it needs `pillow` (installed with
    matplotlib); without it an `ImportError` says what to install.

    Args:
        inputs: array `(T_in, H, W[, C])`, physical units.
        truth: array `(T_out, H, W[, C])`.
        forecast: array `(T_out, H, W[, C])`.
        path: str or path. Destination `.gif`.
        channel: int. Channel drawn. Defaults to 0.
        fps: int. Frames per second. Defaults to 2.
        units: str. Colour-bar unit. Defaults to "".
        time_step: str. Time between frames, e.g. "1h". Defaults to "".
        lat: array `(H,)` or None. Latitudes. Defaults to None.
        lon: array `(W,)` or None. Longitudes. Defaults to None.
        land_mask: bool array `(H, W)` or None. Outline drawn on the panels.
        cmap: str. Colour map. Defaults to "viridis".
        dpi: int. Resolution. Defaults to 80.

    Returns:
        The `pathlib.Path` written (`T_in + T_out` frames).

    Example:

    ```python
    animate_forecast(x_phys[0], y_phys[0], pred_phys[0], "forecast.gif", units="K")
    ```
    """
    try:
        import PIL  # noqa: F401
        from matplotlib.animation import FuncAnimation
        from matplotlib.animation import PillowWriter
    except ImportError:
        raise ImportError(
            "Writing a GIF needs pillow: `pip install pillow` (or keras-svq[viz])."
        ) from None
    x = forecast_panels._frames(inputs, channel, "inputs")
    y_true = forecast_panels._frames(truth, channel, "truth")
    y_pred = forecast_panels._frames(forecast, channel, "forecast")
    if y_true.shape != y_pred.shape or x.shape[1:] != y_true.shape[1:]:
        raise ValueError(
            "`truth` and `forecast` must have the same shape and the frames of "
            f"`inputs` the same size. Received: inputs={x.shape}, truth={y_true.shape}, "
            f"forecast={y_pred.shape}"
        )
    vmin, vmax = forecast_panels.shared_limits(x, y_true, y_pred)
    error = y_pred - y_true
    emax = float(np.nanmax(np.abs(error))) or 1.0
    observed = np.concatenate([x, y_true])
    predicted = np.concatenate([x, y_pred])
    errors = np.concatenate([np.zeros_like(x), error])
    names = [
        f"input t{t - x.shape[0] + 1}" if t < x.shape[0] - 1 else "input t0"
        for t in range(x.shape[0])
    ]
    names += [
        forecast_panels.lead_label(lead, time_step)
        for lead in range(1, len(y_true) + 1)
    ]

    figure = new_figure((9.5, 3.4), layout="constrained")
    axes = figure.subplots(1, 3)
    context = {"lat": lat, "lon": lon, "land_mask": land_mask}
    images = [
        forecast_panels._draw(
            axes[0], observed[0], cmap=cmap, vmin=vmin, vmax=vmax, **context
        ),
        forecast_panels._draw(
            axes[1], predicted[0], cmap=cmap, vmin=vmin, vmax=vmax, **context
        ),
        forecast_panels._draw(
            axes[2], errors[0], cmap="RdBu_r", vmin=-emax, vmax=emax, **context
        ),
    ]
    for ax, name in zip(axes, ("observed", "forecast", "error")):
        ax.set_title(name, fontsize=9)
    figure.colorbar(images[0], ax=axes[:2].tolist(), shrink=0.8, label=units)
    figure.colorbar(images[2], ax=axes[2], shrink=0.8, label=f"error {units}".strip())
    suptitle = figure.suptitle(names[0])

    def update(i):
        images[0].set_data(observed[i])
        images[1].set_data(predicted[i])
        images[2].set_data(errors[i])
        suptitle.set_text(names[i])
        return images

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    animation = FuncAnimation(figure, update, frames=len(observed), blit=False)
    animation.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
    return path
