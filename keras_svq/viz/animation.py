"""Forecast animations (GIF): observed vs forecast vs error, frame by frame."""

import pathlib

import numpy as np

from keras_svq.viz import forecast_panels
from keras_svq.viz.figures import new_figure
from keras_svq.viz.figures import per_channel
from keras_svq.viz.figures import quantity_label


def animate_forecast(
    inputs,
    truth,
    forecast,
    path,
    *,
    channel=None,
    fps=2,
    units="",
    variable="",
    time_step="",
    lat=None,
    lon=None,
    land_mask=None,
    cmap="viridis",
    dpi=80,
):
    """Writes a GIF: the input frames, then truth, forecast and error per lead time.

    One row per channel (observed, forecast, error), each with colour bars
    labelled by the channel's name and unit. Uses matplotlib's
    `PillowWriter`, so it needs `pillow` (installed with matplotlib); without
    it an `ImportError` says what to install.

    Args:
        inputs: array `(T_in, H, W[, C])`, physical units.
        truth: array `(T_out, H, W[, C])`.
        forecast: array `(T_out, H, W[, C])`.
        path: str or path. Destination `.gif`.
        channel: int or None. The one channel drawn; None draws every channel.
            Defaults to None.
        fps: int. Frames per second. Defaults to 2.
        units: str or sequence of str. Unit of every channel or of each.
            Defaults to "".
        variable: str or sequence of str. Channel name(s). Defaults to "".
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
    x = forecast_panels._channels(inputs, "inputs")
    y_true = forecast_panels._channels(truth, "truth")
    y_pred = forecast_panels._channels(forecast, "forecast")
    if y_true.shape != y_pred.shape or x.shape[1:] != y_true.shape[1:]:
        raise ValueError(
            "`truth` and `forecast` must have the same shape and the frames of "
            f"`inputs` the same size. Received: inputs={x.shape}, truth={y_true.shape}, "
            f"forecast={y_pred.shape}"
        )
    num_channels = x.shape[-1]
    names = forecast_panels.channel_names(variable, num_channels)
    unit_list = per_channel(units, num_channels, "units")
    if channel is None:
        shown_channels = list(range(num_channels))
    else:
        forecast_panels._frames(x, channel, "inputs")  # checks the index
        shown_channels = [channel]
    titles = [
        f"input t{t - x.shape[0] + 1}" if t < x.shape[0] - 1 else "input t0"
        for t in range(x.shape[0])
    ]
    titles += [
        forecast_panels.lead_label(lead, time_step)
        for lead in range(1, len(y_true) + 1)
    ]

    figure = new_figure((9.5, 3.1 * len(shown_channels) + 0.3), layout="constrained")
    axes = figure.subplots(len(shown_channels), 3, squeeze=False)
    context = {"lat": lat, "lon": lon, "land_mask": land_mask}
    series = []  # (image, frames) pairs updated per time step
    for row, c in zip(axes, shown_channels):
        observed = np.concatenate([x[..., c], y_true[..., c]])
        predicted = np.concatenate([x[..., c], y_pred[..., c]])
        error = y_pred[..., c] - y_true[..., c]
        errors = np.concatenate([np.zeros_like(x[..., c]), error])
        vmin, vmax = forecast_panels.shared_limits(
            x[..., c], y_true[..., c], y_pred[..., c]
        )
        emax = float(np.nanmax(np.abs(error))) or 1.0
        images = [
            forecast_panels._draw(
                row[0], observed[0], cmap=cmap, vmin=vmin, vmax=vmax, **context
            ),
            forecast_panels._draw(
                row[1], predicted[0], cmap=cmap, vmin=vmin, vmax=vmax, **context
            ),
            forecast_panels._draw(
                row[2], errors[0], cmap="RdBu_r", vmin=-emax, vmax=emax, **context
            ),
        ]
        series += list(zip(images, (observed, predicted, errors)))
        prefix = f"{names[c]} " if names[c] else ""
        for ax, name in zip(row, ("observed", "forecast", "error")):
            ax.set_title(prefix + name, fontsize=9)
        label = quantity_label(names[c], unit_list[c])
        error_label = quantity_label(f"{prefix}error", unit_list[c])
        figure.colorbar(images[0], ax=row[:2].tolist(), shrink=0.8).set_label(
            forecast_panels._fit_label(label, 2.6 * 0.8), fontsize=8
        )
        figure.colorbar(images[2], ax=row[2], shrink=0.8).set_label(
            forecast_panels._fit_label(error_label, 2.6 * 0.8), fontsize=8
        )
    suptitle = figure.suptitle(titles[0])

    def update(i):
        for image, frames in series:
            image.set_data(frames[i])
        suptitle.set_text(titles[i])
        return [image for image, _ in series]

    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    animation = FuncAnimation(figure, update, frames=len(titles), blit=False)
    animation.save(path, writer=PillowWriter(fps=fps), dpi=dpi)
    return path
