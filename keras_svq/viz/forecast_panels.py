"""Forecast panels: input frames, truth, forecast and error per lead time for one example."""

import numpy as np

from keras_svq.viz import geo
from keras_svq.viz.figures import new_figure
from keras_svq.viz.figures import per_channel
from keras_svq.viz.figures import quantity_label


def _frames(array, channel, name):
    """`(T, H, W[, C])` -> `(T, H, W)` for one channel, with a clear error otherwise."""
    array = _channels(array, name)
    if not 0 <= channel < array.shape[-1]:
        raise ValueError(
            f"`channel` must be in [0, {array.shape[-1]}) for `{name}` of shape "
            f"{array.shape}. Received: channel={channel}"
        )
    return array[..., channel]


def _channels(array, name):
    """`(T, H, W[, C])` -> `(T, H, W, C)`, with a clear error otherwise."""
    array = np.asarray(array, "float64")
    if array.ndim == 3:
        return array[..., None]
    if array.ndim == 4:
        return array
    raise ValueError(
        f"`{name}` must be one example `(T, H, W, C)` or `(T, H, W)`; pass e.g. "
        f"`x[0]` for a batch. Received: shape={array.shape}"
    )


def channel_names(variable, num_channels):
    """One display name per channel: `variable` (str or per-channel), else `channel c`.

    Example:

    ```python
    channel_names(("inflow", "outflow"), 2)   # ["inflow", "outflow"]
    channel_names("", 2)                      # ["channel 0", "channel 1"]
    ```
    """
    names = per_channel(variable, num_channels, "variable")
    if num_channels == 1:
        return names
    return [name or f"channel {c}" for c, name in enumerate(names)]


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
    channel=None,
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
    """Input frames, truth, forecast and error per lead time, one block per channel.

    Each channel gets its own block of four rows: the last input frames, the
    truth, the forecast and the error (forecast - truth). In a block, input,
    truth and forecast share one colour scale and one colour bar labelled
    with the channel's name and unit; the error has a symmetric scale around
    zero and its own colour bar. Blocks sit two side by side. Colour bars and
    their labels are laid out inside the figure (constrained layout; long
    labels wrap). With `lat`/`lon` the axes are in degrees; a `land_mask` adds
    its outline (see `keras_svq.viz.geo`: an estimated land/sea boundary, no
    map package).

    Args:
        inputs: array `(T_in, H, W, C)` or `(T_in, H, W)`, in physical units.
        truth: array `(T_out, H, W[, C])`.
        forecast: array `(T_out, H, W[, C])`.
        channel: int or None. The one channel drawn; None draws every
            channel. Defaults to None.
        leads: sequence of int or None. 1-based lead times to show; None picks
            up to `max_columns` evenly spaced. Defaults to None.
        max_columns: int. Defaults to 6.
        units: str or sequence of str. Unit of every channel (a str) or of
            each channel, e.g. "K" or `("trips per 30 min", "trips per 30 min")`.
            Defaults to "".
        variable: str or sequence of str. Channel name(s), e.g. "t2m" or
            `("inflow", "outflow")`. Defaults to "" (`channel c` when C > 1).
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
    norm, info = splits.normalizer, splits.info
    fig = plot_forecast_panels(norm.denormalize(x[0]), norm.denormalize(y[0]),
                               norm.denormalize(pred[0]), units=info.units,
                               variable=info.variables, time_step=info.time_step)
    fig.savefig("forecast.png")
    ```
    """
    x = _channels(inputs, "inputs")
    y_true = _channels(truth, "truth")
    y_pred = _channels(forecast, "forecast")
    if (
        y_true.shape != y_pred.shape
        or x.shape[1:3] != y_true.shape[1:3]
        or x.shape[-1] != y_true.shape[-1]
    ):
        raise ValueError(
            "`truth` and `forecast` must have the same shape and the frames of "
            f"`inputs` the same size. Received: inputs={x.shape}, truth={y_true.shape}, "
            f"forecast={y_pred.shape}"
        )
    num_channels = x.shape[-1]
    names = channel_names(variable, num_channels)
    unit_list = per_channel(units, num_channels, "units")
    if channel is None:
        shown_channels = list(range(num_channels))
    else:
        _frames(x, channel, "inputs")  # checks the index
        shown_channels = [channel]
    if (lat is None) != (lon is None):
        raise ValueError("Pass both `lat` and `lon`, or neither.")
    if lat is not None and (len(lat) != x.shape[1] or len(lon) != x.shape[2]):
        raise ValueError(
            f"`lat`/`lon` must match the frame size {x.shape[1:3]}. "
            f"Received: len(lat)={len(lat)}, len(lon)={len(lon)}"
        )
    shown = select_leads(y_true.shape[0], max_columns, leads)
    columns = len(shown)
    height, width = x.shape[1:3]
    block_width = _PANEL * columns * max(width / height, 0.6) + 1.6
    block_height = _PANEL * 4 + 0.5
    per_row = min(len(shown_channels), 2)
    block_rows = -(-len(shown_channels) // per_row)
    figure = new_figure(
        (block_width * per_row, block_height * block_rows + (0.4 if title else 0.0)),
        layout="constrained",
    )
    if len(shown_channels) == 1:
        blocks = [figure]
    else:
        blocks = list(figure.subfigures(block_rows, per_row, squeeze=False).ravel())
        for unused in blocks[len(shown_channels) :]:
            unused.set_visible(False)
    for block, c in zip(blocks, shown_channels):
        _draw_channel(
            block,
            x[..., c],
            y_true[..., c],
            y_pred[..., c],
            shown=shown,
            name=names[c],
            unit=unit_list[c],
            titled=len(shown_channels) > 1,
            time_step=time_step,
            context={"lat": lat, "lon": lon, "land_mask": land_mask},
            cmap=cmap,
            error_cmap=error_cmap,
            robust=robust,
        )
    if title:
        figure.suptitle(title)
    return figure


# Height of one panel in inches; a colour bar label longer than its bar wraps.
_PANEL = 1.9
_LABEL_SIZE = 9


def _fit_label(text, length_inches):
    """Wraps a colour-bar label so each line fits along a bar `length_inches` long."""
    import textwrap

    # An average character of the default sans-serif font is ~0.6 em wide.
    width = max(8, int(length_inches * 72 / (0.6 * _LABEL_SIZE)))
    if len(text) <= width:
        return text
    # Break before the unit first: "inflow error" / "[trips per 30 min]".
    parts = text.replace(" [", "\n[", 1).split("\n")
    return "\n".join(line for part in parts for line in textwrap.wrap(part, width))


def _draw_channel(
    figure,
    x,
    y_true,
    y_pred,
    *,
    shown,
    name,
    unit,
    titled,
    time_step,
    context,
    cmap,
    error_cmap,
    robust,
):
    """The four rows of one channel, with its two colour bars, into `figure` (or a subfigure)."""
    columns = len(shown)
    input_steps = list(range(max(0, x.shape[0] - columns), x.shape[0]))
    vmin, vmax = shared_limits(x, y_true, y_pred, robust=robust)
    error = y_pred - y_true
    emax = float(np.nanmax(np.abs(error))) or 1.0
    label = quantity_label(name, unit)
    axes = figure.subplots(4, columns, squeeze=False, sharex=True, sharey=True)
    lead_names = [lead_label(lead, time_step) for lead in shown]
    rows = (
        (
            "input",
            [x[t] for t in input_steps],
            [
                f"t{t - x.shape[0] + 1}" if t < x.shape[0] - 1 else "t0"
                for t in input_steps
            ],
        ),
        ("truth", [y_true[lead - 1] for lead in shown], lead_names),
        ("forecast", [y_pred[lead - 1] for lead in shown], lead_names),
        ("error", [error[lead - 1] for lead in shown], lead_names),
    )
    field_image = error_image = None
    for r, (row, images, titles) in enumerate(rows):
        for c in range(columns):
            ax = axes[r][c]
            if c >= len(images):
                ax.axis("off")
                continue
            if row == "error":
                error_image = _draw(
                    ax, images[c], cmap=error_cmap, vmin=-emax, vmax=emax, **context
                )
            else:
                field_image = _draw(
                    ax, images[c], cmap=cmap, vmin=vmin, vmax=vmax, **context
                )
            ax.set_title(titles[c], fontsize=8)
        axes[r][0].set_ylabel(row)
    field_bar = figure.colorbar(
        field_image, ax=axes[:3, :].ravel().tolist(), shrink=0.8
    )
    field_bar.set_label(_fit_label(label, 3 * _PANEL * 0.8), fontsize=_LABEL_SIZE)
    error_bar = figure.colorbar(error_image, ax=axes[3, :].ravel().tolist(), shrink=0.9)
    error_label = quantity_label(f"{name} error" if name else "error", unit)
    error_bar.set_label(_fit_label(error_label, _PANEL * 0.9), fontsize=_LABEL_SIZE)
    if titled:
        figure.suptitle(label, fontsize=10)
