"""Forecast panels: input frames, truth, forecast and error per lead time for one example."""

import numpy as np

from keras_svq.viz import geo
from keras_svq.viz.figures import new_figure


def _frames(array, channel, name):
    """`(T, H, W[, C])` -> `(T, H, W)` for one channel, with a clear error otherwise."""
    array = np.asarray(array, "float64")
    if array.ndim == 4:
        if not 0 <= channel < array.shape[-1]:
            raise ValueError(
                f"`channel` must be in [0, {array.shape[-1]}) for `{name}` of shape "
                f"{array.shape}. Received: channel={channel}"
            )
        return array[..., channel]
    if array.ndim == 3:
        return array
    raise ValueError(
        f"`{name}` must be one example `(T, H, W, C)` or `(T, H, W)`; pass e.g. "
        f"`x[0]` for a batch. Received: shape={array.shape}"
    )


def select_leads(output_length, max_columns=6, leads=None):
    """1-based lead times to show: `leads` checked, or up to `max_columns` evenly spaced.

    Args:
        output_length: int. `T_out`.
        max_columns: int. Most lead times picked when `leads` is None. Defaults to 6.
        leads: sequence of int or None. 1-based lead times.

    Returns:
        sorted list of 1-based lead times.

    Example:

    ```python
    select_leads(12, 4)   # [1, 5, 8, 12]
    ```
    """
    if leads is not None:
        leads = sorted({int(lead) for lead in leads})
        bad = [lead for lead in leads if not 1 <= lead <= output_length]
        if bad or not leads:
            raise ValueError(
                f"`leads` are 1-based lead times in [1, {output_length}]. Received: leads={leads}"
            )
        return leads
    if output_length <= max_columns:
        return list(range(1, output_length + 1))
    picks = np.linspace(1, output_length, max_columns).round().astype(int)
    return sorted({int(i) for i in picks})


def shared_limits(*arrays, robust=False):
    """One `(vmin, vmax)` for several fields (the 1st/99th percentiles when `robust`)."""
    values = np.concatenate([np.asarray(a, "float64").ravel() for a in arrays])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return 0.0, 1.0
    if robust:
        low, high = np.percentile(values, [1, 99])
    else:
        low, high = values.min(), values.max()
    if high <= low:
        high = low + 1.0
    return float(low), float(high)


def lead_label(lead, time_step=""):
    """`"+3 h"` for lead 3 and time step `"1h"`; `"+3"` without a time step."""
    if not time_step:
        return f"+{lead}"
    digits = "".join(ch for ch in time_step if ch.isdigit() or ch == ".")
    unit = time_step[len(digits) :].strip() or "step"
    step = float(digits) if digits else 1.0
    return f"+{lead * step:g} {unit}"


def _draw(ax, field, *, cmap, vmin, vmax, lat, lon, land_mask):
    if lat is not None and lon is not None:
        image = ax.imshow(
            field, cmap=cmap, vmin=vmin, vmax=vmax, **geo.grid_extent(lat, lon)
        )
        geo.set_lat_lon_ticks(ax, lat, lon)
    else:
        image = ax.imshow(field, cmap=cmap, vmin=vmin, vmax=vmax)
        ax.set_xticks([])
        ax.set_yticks([])
    if land_mask is not None:
        geo.draw_boundary(ax, land_mask, lat, lon)
    return image


def plot_forecast_panels(
    inputs,
    truth,
    forecast,
    *,
    channel=0,
    leads=None,
    max_columns=6,
    units="",
    variable="",
    time_step="",
    lat=None,
    lon=None,
    land_mask=None,
    title=None,
    cmap="viridis",
    error_cmap="RdBu_r",
    robust=False,
):
    """Input frames, truth, forecast and error per lead time, on shared colour scales.

    Rows: the last input frames, the truth, the forecast and the error
    (forecast - truth). Input, truth and forecast share one colour scale and
    one colour bar in physical units; the error has a symmetric scale around
    zero and its own colour bar. With `lat`/`lon` the axes are in degrees; a
    `land_mask` adds its outline (see `keras_svq.viz.geo`: an estimated
    land/sea boundary, no map package).

    Args:
        inputs: array `(T_in, H, W, C)` or `(T_in, H, W)`, in physical units.
        truth: array `(T_out, H, W[, C])`.
        forecast: array `(T_out, H, W[, C])`.
        channel: int. Channel drawn. Defaults to 0.
        leads: sequence of int or None. 1-based lead times to show; None picks
            up to `max_columns` evenly spaced. Defaults to None.
        max_columns: int. Defaults to 6.
        units: str. Colour-bar unit, e.g. "K". Defaults to "".
        variable: str. Variable name in the colour-bar label. Defaults to "".
        time_step: str. Time between frames, e.g. "1h" (column titles "+3 h").
        lat: array `(H,)` or None. Latitudes of the rows. Defaults to None.
        lon: array `(W,)` or None. Longitudes of the columns. Defaults to None.
        land_mask: bool array `(H, W)` or None. Outline drawn on every panel.
        title: str or None. Figure title.
        cmap: str. Colour map of the fields. Defaults to "viridis".
        error_cmap: str. Colour map of the error. Defaults to "RdBu_r".
        robust: bool. Colour limits from the 1st/99th percentiles. Defaults to False.

    Returns:
        A matplotlib `Figure`.

    Example:

    ```python
    x, y = splits.arrays("test")
    pred = model.predict(x[:1])
    norm = splits.normalizer
    fig = plot_forecast_panels(norm.denormalize(x[0]), norm.denormalize(y[0]),
                               norm.denormalize(pred[0]), units="K", time_step="1h")
    fig.savefig("forecast.png")
    ```
    """
    x = _frames(inputs, channel, "inputs")
    y_true = _frames(truth, channel, "truth")
    y_pred = _frames(forecast, channel, "forecast")
    if y_true.shape != y_pred.shape or x.shape[1:] != y_true.shape[1:]:
        raise ValueError(
            "`truth` and `forecast` must have the same shape and the frames of "
            f"`inputs` the same size. Received: inputs={x.shape}, truth={y_true.shape}, "
            f"forecast={y_pred.shape}"
        )
    if (lat is None) != (lon is None):
        raise ValueError("Pass both `lat` and `lon`, or neither.")
    if lat is not None and (len(lat) != x.shape[1] or len(lon) != x.shape[2]):
        raise ValueError(
            f"`lat`/`lon` must match the frame size {x.shape[1:]}. "
            f"Received: len(lat)={len(lat)}, len(lon)={len(lon)}"
        )
    shown = select_leads(y_true.shape[0], max_columns, leads)
    columns = len(shown)
    input_steps = list(range(max(0, x.shape[0] - columns), x.shape[0]))
    vmin, vmax = shared_limits(x, y_true, y_pred, robust=robust)
    error = y_pred - y_true
    emax = float(np.nanmax(np.abs(error))) or 1.0
    label = " ".join(part for part in (variable, f"[{units}]" if units else "") if part)
    height, width = x.shape[1:]
    panel = 1.9
    figure = new_figure(
        (panel * columns * max(width / height, 0.6) + 1.4, panel * 4 + 0.6),
        layout="constrained",
    )
    axes = figure.subplots(4, columns, squeeze=False, sharex=True, sharey=True)
    context = {"lat": lat, "lon": lon, "land_mask": land_mask}
    rows = (
        (
            "input",
            [x[t] for t in input_steps],
            [
                f"t{t - x.shape[0] + 1}" if t < x.shape[0] - 1 else "t0"
                for t in input_steps
            ],
        ),
        (
            "truth",
            [y_true[lead - 1] for lead in shown],
            [lead_label(lead, time_step) for lead in shown],
        ),
        (
            "forecast",
            [y_pred[lead - 1] for lead in shown],
            [lead_label(lead, time_step) for lead in shown],
        ),
        (
            "error",
            [error[lead - 1] for lead in shown],
            [lead_label(lead, time_step) for lead in shown],
        ),
    )
    field_image = error_image = None
    for r, (name, images, names) in enumerate(rows):
        for c in range(columns):
            ax = axes[r][c]
            if c >= len(images):
                ax.axis("off")
                continue
            if name == "error":
                error_image = _draw(
                    ax, images[c], cmap=error_cmap, vmin=-emax, vmax=emax, **context
                )
            else:
                field_image = _draw(
                    ax, images[c], cmap=cmap, vmin=vmin, vmax=vmax, **context
                )
            ax.set_title(names[c], fontsize=8)
        axes[r][0].set_ylabel(name)
    figure.colorbar(
        field_image, ax=axes[:3, :].ravel().tolist(), shrink=0.8, label=label
    )
    figure.colorbar(
        error_image,
        ax=axes[3, :].ravel().tolist(),
        shrink=0.9,
        label=f"error {label}".strip(),
    )
    if title:
        figure.suptitle(title)
    return figure
