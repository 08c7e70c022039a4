"""Latitude/longitude axes and an estimated coastline, without a map package.

No cartographic package (cartopy, basemap) is required: fields on a regular
lat/lon grid are drawn with `imshow` in plate carree (degrees on both axes),
and the "coastline" is a land/sea boundary *estimated from the data*, not a
coastline database. `land_mask_from_variability` uses the fact that land has a
much larger day-to-day and diurnal temperature range than the sea: pixels
whose temporal standard deviation of the hourly change lies above an Otsu
threshold are called land. It is good for near-surface temperature (the
ERA5 sample's UK, Ireland and France come out clearly); for other variables,
pass your own land/sea mask to `draw_boundary`.
"""

import pathlib

import numpy as np

ASSETS = pathlib.Path(__file__).resolve().parents[1] / "assets"

# Samples whose shipped file holds `lat`/`lon` (and the field used for the mask).
_SAMPLE_FILES = {"era5_t2m_uk": ("era5_t2m_uk_2019-03_hourly.npz", "t2m")}


def sample_coordinates(name, crop=None):
    """The `lat`/`lon` vectors of an embedded sample, or None when it has none.

    The data loaders return windows, not coordinates; this reads them from the
    shipped file. `crop = (H, W)` keeps the top-left corner, as the trainer's
    `data.crop` does.

    Args:
        name: str. A sample name (`keras_svq.data.SAMPLES`).
        crop: tuple `(H, W)` or None. Defaults to None.

    Returns:
        dict with `"lat"` `(H,)` and `"lon"` `(W,)` float arrays, or None.

    Example:

    ```python
    coords = sample_coordinates("era5_t2m_uk", crop=(32, 48))
    coords["lat"][:2]   # array([58.  , 57.75])
    ```
    """
    if name not in _SAMPLE_FILES:
        return None
    filename, _ = _SAMPLE_FILES[name]
    with np.load(ASSETS / filename) as data:
        lat, lon = (
            np.asarray(data["lat"], "float64"),
            np.asarray(data["lon"], "float64"),
        )
    if crop is not None:
        lat, lon = lat[: crop[0]], lon[: crop[1]]
    return {"lat": lat, "lon": lon}


def sample_land_mask(name, crop=None):
    """The estimated land mask `(H, W)` of a sample with coordinates, or None.

    Args:
        name: str. A sample name.
        crop: tuple `(H, W)` or None. Top-left crop. Defaults to None.

    Returns:
        bool array `(H, W)` (True on land), or None for samples without a map.

    Example:

    ```python
    mask = sample_land_mask("era5_t2m_uk")
    ```
    """
    if name not in _SAMPLE_FILES:
        return None
    filename, variable = _SAMPLE_FILES[name]
    with np.load(ASSETS / filename) as data:
        series = np.asarray(data[variable], "float64")
    mask = land_mask_from_variability(series)
    if crop is not None:
        mask = mask[: crop[0], : crop[1]]
    return mask


def _otsu_threshold(values, bins=128):
    values = np.asarray(values, "float64").ravel()
    counts, edges = np.histogram(values, bins=bins)
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    sum_low = np.cumsum(counts * centres)
    mean_low = sum_low / np.maximum(weight_low, 1)
    mean_high = (sum_low[-1] - sum_low) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(centres[int(np.argmax(between))])


def land_mask_from_variability(series):
    """Estimates land (True) vs sea from a `(time, H, W)` temperature-like series.

    Land warms and cools much faster than the sea, so the standard deviation
    of the frame-to-frame change is large over land and small over water; an
    Otsu threshold splits the two. This is a heuristic, not a coastline
    database: it suits near-surface temperature at hourly to daily steps.

    Args:
        series: array `(time, H, W)` (extra trailing channel axis of size 1 allowed).

    Returns:
        bool array `(H, W)`.

    Example:

    ```python
    mask = land_mask_from_variability(t2m)   # t2m: (744, 33, 49)
    ```
    """
    series = np.asarray(series, "float64")
    if series.ndim == 4 and series.shape[-1] == 1:
        series = series[..., 0]
    if series.ndim != 3 or series.shape[0] < 3:
        raise ValueError(
            "`series` must have shape (time, H, W) with at least 3 frames. "
            f"Received: shape={series.shape}"
        )
    variability = np.nanstd(np.diff(series, axis=0), axis=0)
    return variability > _otsu_threshold(variability[np.isfinite(variability)])


def grid_extent(lat, lon):
    """`imshow` arguments (`extent`, `origin`) placing pixel centres on `lat`/`lon`.

    Args:
        lat: array `(H,)`, ascending or descending (row 0 is `lat[0]`).
        lon: array `(W,)`, ascending.

    Returns:
        dict with `extent` and `origin` for `Axes.imshow`.

    Example:

    ```python
    ax.imshow(field, **grid_extent(lat, lon))
    ```
    """
    lat, lon = np.asarray(lat, "float64"), np.asarray(lon, "float64")
    dlat = abs(lat[1] - lat[0]) / 2 if len(lat) > 1 else 0.5
    dlon = abs(lon[1] - lon[0]) / 2 if len(lon) > 1 else 0.5
    left, right = lon[0] - dlon, lon[-1] + dlon
    if lat[0] >= lat[-1]:  # north at row 0: the usual reanalysis order
        return {
            "extent": (left, right, lat[-1] - dlat, lat[0] + dlat),
            "origin": "upper",
        }
    return {"extent": (left, right, lat[0] - dlat, lat[-1] + dlat), "origin": "lower"}


def set_lat_lon_ticks(ax, lat, lon, num_ticks=4, grid=True):
    """Degree tick labels (`52°N`, `4°W`) and optional grid lines on an axis.

    Args:
        ax: a matplotlib `Axes` whose data coordinates are degrees (see `grid_extent`).
        lat: array `(H,)`.
        lon: array `(W,)`.
        num_ticks: int. Ticks per axis. Defaults to 4.
        grid: bool. Draw thin grid lines at the ticks. Defaults to True.

    Example:

    ```python
    ax.imshow(field, **grid_extent(lat, lon))
    set_lat_lon_ticks(ax, lat, lon)
    ```
    """
    lat, lon = np.asarray(lat), np.asarray(lon)
    lat_ticks = np.unique(np.round(np.linspace(lat.min(), lat.max(), num_ticks)))
    lon_ticks = np.unique(np.round(np.linspace(lon.min(), lon.max(), num_ticks)))
    ax.set_yticks(lat_ticks)
    ax.set_yticklabels([format_latitude(v) for v in lat_ticks], fontsize=6)
    ax.set_xticks(lon_ticks)
    ax.set_xticklabels([format_longitude(v) for v in lon_ticks], fontsize=6)
    if grid:
        ax.grid(True, color="white", linewidth=0.4, alpha=0.6)


def format_latitude(value):
    """`52.0` -> `"52°N"`, `-10` -> `"10°S"`."""
    hemisphere = "N" if value >= 0 else "S"
    return f"{abs(value):g}°{hemisphere}"


def format_longitude(value):
    """`-4.0` -> `"4°W"`, `2` -> `"2°E"`, `0` -> `"0°"`."""
    if value == 0:
        return "0°"
    return f"{abs(value):g}°{'E' if value > 0 else 'W'}"


def draw_boundary(ax, mask, lat=None, lon=None, color="black", linewidth=0.8):
    """Draws the outline of a boolean mask (e.g. land) as a contour line.

    Args:
        ax: a matplotlib `Axes`.
        mask: bool array `(H, W)`.
        lat: array `(H,)` or None. Row coordinates; pixel indices when None.
        lon: array `(W,)` or None. Column coordinates.
        color: str. Line colour. Defaults to "black".
        linewidth: float. Defaults to 0.8.

    Example:

    ```python
    draw_boundary(ax, sample_land_mask("era5_t2m_uk"), lat, lon)
    ```
    """
    mask = np.asarray(mask, "float64")
    rows = np.arange(mask.shape[0]) if lat is None else np.asarray(lat)
    cols = np.arange(mask.shape[1]) if lon is None else np.asarray(lon)
    if 0 < mask.mean() < 1:
        ax.contour(cols, rows, mask, levels=[0.5], colors=color, linewidths=linewidth)
