"""OpenSTL's `metric()` for channels-last numpy arrays, and its per-frame building blocks.

Formulas (as OpenSTL computes them, after denormalising with `mean`/`std`):

- `frame_mse` / `frame_mae` (OpenSTL's MSE / MAE of traffic and video,
  `spatial_norm=False` there): per frame, the sum over `C*H*W` of the squared
  / absolute error, averaged over samples and frames
  (`np.mean(err, axis=(0, 1)).sum()`). They grow with the frame size: a
  `32x32x2` taxi frame with a per-element MSE of 0.01 has a `frame_mse` of
  20.5.
- `mse` / `mae` (OpenSTL's weather MSE / MAE, `spatial_norm=True`, and
  Keras' `"mse"`): the per-frame value divided by `C*H*W`, i.e. the mean over
  every element.
- `rmse` / `frame_rmse`: the square root of that global MSE / frame MSE (not a
  mean of per-frame roots).

Legacy names: the reference calls both kinds "mse"; a call that asks for
`"mse"`, `"mae"` or `"rmse"` with `spatial_norm=False` still gets the
per-frame sums under those names, with a `FutureWarning` to ask for
`frame_mse` & co. instead. Without `spatial_norm` (None) the name decides.
- SSIM, PSNR, SNR, LPIPS: predictions are first clipped to `clip_range`; then
  per frame, averaged over samples and frames.
  - SSIM: scikit-image's `structural_similarity` with a 7x7 uniform window,
    sample covariance, K1=0.01, K2=0.03, averaged over channels and over the
    image minus a 3-pixel border. The reference called scikit-image on float
    images without `data_range`, which scikit-image then took as 2 (the span of
    its float dtype range [-1, 1]); here the default is the true span of
    `clip_range` (1 for [0, 1] data). Pass `ssim_data_range=2.0` to reproduce
    the reference's published numbers.
  - PSNR: `20 log10(peak / sqrt(mse))` per frame in float32, `peak` the span of
    `clip_range` (1, as the reference); `inf` for a perfect frame.
  - SNR: `10 log10(mean(true^2) / mean((true - pred)^2))` per frame.
  - LPIPS: AlexNet v0.1 on images mapped from [0, 1] to [-1, 1] (see
    `lpips_distance`).

Invalid pixels (land in a sea-surface-temperature field, radar out of range)
are the target pixels that are NaN (or infinite) or False in a boolean `mask`
(True = valid, broadcastable to `(N, T, H, W, C)`). When any pixel is invalid,
every figure is computed over the valid pixels only, so predictions there never
matter:

- `mse` / `mae`: the total valid error over the number of valid elements.
  `frame_mse` / `frame_mae`: per frame, the error summed over its valid
  pixels, averaged over all frames. RMSEs: the roots of those MSEs.
- PSNR / SNR: per frame over its valid pixels, averaged over the frames that
  have at least one valid pixel.
- SSIM / LPIPS (windowed and network metrics cannot skip pixels): both
  prediction and target are set to 0 at the invalid pixels (so the prediction
  equals the target there, and NaN targets and an explicit mask give the same
  images), then averaged over the frames that have a valid pixel. Windows that
  straddle the edge of the valid region still see the filled zeros.

Without any invalid pixel the unmasked formulas above are used unchanged.
"""

import warnings

import numpy as np

# Per-element means (Keras' meaning of "mse") and OpenSTL's per-frame sums.
ERROR_METRICS = ("mae", "mse", "rmse")
FRAME_ERROR_METRICS = ("frame_mae", "frame_mse", "frame_rmse")
# Metrics computed on clipped predictions, frame by frame.
QUALITY_METRICS = ("ssim", "psnr", "snr", "lpips")
ALLOWED_METRICS = ERROR_METRICS + FRAME_ERROR_METRICS + QUALITY_METRICS


def error_kind(name, spatial_norm=None, _stacklevel=2):
    """What an error metric name computes: `(base, per_frame)`.

    `base` is `"mse"`, `"mae"` or `"rmse"`; `per_frame` is True for the
    per-frame sums (`frame_*`) and False for the per-element means. A plain
    name with `spatial_norm=False` is the reference's legacy spelling of the
    per-frame sum: it stays per-frame, with a `FutureWarning`.

    Example:

    ```python
    error_kind("frame_mse")  # ("mse", True)
    error_kind("mse")  # ("mse", False)
    ```
    """
    if name in FRAME_ERROR_METRICS:
        return name[len("frame_") :], True
    if name not in ERROR_METRICS:
        raise ValueError(
            f"Not an error metric. Valid: {list(ERROR_METRICS + FRAME_ERROR_METRICS)}. "
            f"Received: {name!r}"
        )
    if spatial_norm is False:
        warnings.warn(
            f"metric {name!r} with spatial_norm=False is OpenSTL's per-frame sum over "
            f"C*H*W, now named 'frame_{name}'; ask for 'frame_{name}' (the same "
            f"number). {name!r} alone is the per-element mean.",
            FutureWarning,
            stacklevel=_stacklevel,
        )
        return name, True
    return name, False


def default_error_metrics(spatial_norm=None):
    """The reference's default metric set, by name: per-element with `spatial_norm`."""
    return ("mse", "mae") if spatial_norm else ("frame_mse", "frame_mae")


def error_kinds(metrics, spatial_norm=None):
    """`{name: error_kind(name, spatial_norm)}` for the error metrics among `metrics`."""
    kinds = {}
    for name in metrics:
        if name not in QUALITY_METRICS:
            # The warning points at the caller of `openstl_metrics` / `evaluate_forecast`.
            kinds[name] = error_kind(name, spatial_norm, _stacklevel=4)
    return kinds


SSIM_WINDOW = 7
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _check(pred, true):
    pred = np.asarray(pred)
    true = np.asarray(true)
    if pred.shape != true.shape or pred.ndim != 5:
        raise ValueError(
            "`pred` and `true` must have the same shape (N, T, H, W, C). "
            f"Received: pred.shape={pred.shape}, true.shape={true.shape}"
        )
    return pred, true


def _box_mean(a, k):
    """Mean over every valid k x k window of axes (-3, -2) of `(..., H, W, C)`."""
    c = np.cumsum(np.cumsum(a, axis=-3), axis=-2)
    c = np.pad(c, [(0, 0)] * (a.ndim - 3) + [(1, 0), (1, 0), (0, 0)])
    s = (
        c[..., k:, k:, :]
        - c[..., :-k, k:, :]
        - c[..., k:, :-k, :]
        + c[..., :-k, :-k, :]
    )
    return s / (k * k)


def ssim_frames(pred, true, data_range=1.0, win_size=SSIM_WINDOW):
    """Per-image SSIM of `(..., H, W, C)` arrays (scikit-image's defaults), float64."""
    x = np.asarray(pred, dtype="float64")
    y = np.asarray(true, dtype="float64")
    if min(x.shape[-3:-1]) < win_size:
        raise ValueError(
            f"SSIM needs frames of at least {win_size}x{win_size}. Received: frame "
            f"shape {x.shape[-3:-1]}"
        )
    # Centre each image first: variances and covariances are shift invariant,
    # and centring keeps E[x^2] - E[x]^2 from cancelling.
    xc = x - x.mean(axis=(-3, -2), keepdims=True)
    yc = y - y.mean(axis=(-3, -2), keepdims=True)
    ux, uy = _box_mean(x, win_size), _box_mean(y, win_size)
    uxc, uyc = _box_mean(xc, win_size), _box_mean(yc, win_size)
    cov_norm = win_size**2 / (win_size**2 - 1.0)
    vx = cov_norm * (_box_mean(xc * xc, win_size) - uxc * uxc)
    vy = cov_norm * (_box_mean(yc * yc, win_size) - uyc * uyc)
    vxy = cov_norm * (_box_mean(xc * yc, win_size) - uxc * uyc)
    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return s.mean(axis=(-3, -2, -1))


def frame_values(
    pred, true, metric, *, spatial_norm=False, data_range=1.0, ssim_data_range=None
):
    """Per-frame values `(N, T)` of one metric on `(N, T, H, W, C)` arrays.

    `pred` must already be denormalised (and clipped, for quality metrics).
    "rmse" has no per-frame value: it is derived from the MSE.
    """
    norm = np.prod(pred.shape[-3:]) if spatial_norm else 1
    if metric == "mse":
        err = (pred - true) ** 2
        return err.reshape(err.shape[:2] + (-1,)).sum(-1, dtype="float64") / norm
    if metric == "mae":
        err = np.abs(pred - true)
        return err.reshape(err.shape[:2] + (-1,)).sum(-1, dtype="float64") / norm
    if metric == "ssim":
        return ssim_frames(
            pred, true, data_range if ssim_data_range is None else ssim_data_range
        )
    if metric == "psnr":
        mse = np.mean(
            (pred.astype("float32") - true.astype("float32")) ** 2,
            axis=(2, 3, 4),
            dtype="float64",
        )
        with np.errstate(divide="ignore"):
            return 20.0 * np.log10(data_range / np.sqrt(mse))
    if metric == "snr":
        signal = np.mean(np.asarray(true, "float64") ** 2, axis=(2, 3, 4))
        noise = np.mean((np.asarray(true, "float64") - pred) ** 2, axis=(2, 3, 4))
        with np.errstate(divide="ignore"):
            return 10.0 * np.log10(signal / noise)
    if metric == "lpips":
        from keras_svq.metrics.lpips_network import lpips_distance

        return np.asarray(lpips_distance(pred, true), dtype="float64")
    raise ValueError(f"No per-frame value for metric {metric!r}.")


def check_mask(mask):
    """`mask` as a boolean array (None stays None); other dtypes are refused."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(
            "`mask` must be a boolean array (True = valid). "
            f"Received: mask.dtype={mask.dtype}"
        )
    return mask


def valid_pixels(true, mask=None):
    """Which target elements are valid: finite in `true` and True in `mask`.

    Args:
        true: numpy array `(N, T, H, W, C)`. Targets; NaN marks an invalid pixel.
        mask: boolean array broadcastable to `true.shape`, or None. True = valid.

    Returns:
        A boolean array of `true`'s shape.
    """
    true = np.asarray(true)
    valid = np.isfinite(true)
    mask = check_mask(mask)
    if mask is None:
        return valid
    try:
        mask = np.broadcast_to(mask, true.shape)
    except ValueError:
        raise ValueError(
            f"`mask` must be broadcastable to the targets' shape {true.shape}. "
            f"Received: mask.shape={mask.shape}"
        ) from None
    return valid & mask


def _ratio(numerator, denominator):
    """`numerator / denominator`, NaN where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.true_divide(numerator, denominator)


def valid_frame_sums(pred, true, valid, metric):
    """Per-frame error sums over the valid pixels, and the valid counts.

    Args:
        pred: numpy array `(N, T, H, W, C)`, denormalised.
        true: numpy array `(N, T, H, W, C)`; may be NaN where `valid` is False.
        valid: boolean array `(N, T, H, W, C)`.
        metric: `"mse"` (squared errors) or `"mae"` (absolute errors).

    Returns:
        `(sums, counts)`: float64 sums and integer counts, both `(N, T)`.
    """
    if metric not in ("mse", "mae"):
        raise ValueError(f"No error sum for metric {metric!r}.")
    diff = pred - true
    err = diff * diff if metric == "mse" else np.abs(diff)
    err = np.where(valid, err, 0)
    frames = err.shape[:2] + (-1,)
    sums = err.reshape(frames).sum(-1, dtype="float64")
    return sums, valid.reshape(frames).sum(-1)


def masked_frame_values(
    pred, true, valid, metric, *, data_range=1.0, ssim_data_range=None
):
    """Per-frame values `(N, T)` of a quality metric over the valid pixels.

    PSNR and SNR use the valid pixels of each frame; SSIM and LPIPS are
    computed with both arrays set to 0 at the invalid pixels. `pred` must
    already be denormalised and clipped.

    Returns:
        `(values, has_valid)`: float64 `(N, T)` values, NaN for frames without
        a valid pixel, and the boolean `(N, T)` array of frames that have one.
    """
    has_valid = valid.any(axis=(2, 3, 4))
    counts = valid.sum(axis=(2, 3, 4))
    if metric == "psnr":
        diff = pred.astype("float32") - true.astype("float32")
        squared = np.where(valid, diff * diff, 0)
        mse = _ratio(squared.sum(axis=(2, 3, 4), dtype="float64"), counts)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = 20.0 * np.log10(data_range / np.sqrt(mse))
    elif metric == "snr":
        true = np.asarray(true, "float64")
        signal = _ratio(np.where(valid, true**2, 0).sum(axis=(2, 3, 4)), counts)
        noise = np.where(valid, (true - pred) ** 2, 0).sum(axis=(2, 3, 4))
        with np.errstate(divide="ignore", invalid="ignore"):
            values = 10.0 * np.log10(signal / _ratio(noise, counts))
    elif metric in ("ssim", "lpips"):
        values = frame_values(
            np.where(valid, pred, 0),
            np.where(valid, true, 0),
            metric,
            data_range=data_range,
            ssim_data_range=ssim_data_range,
        )
    else:
        raise ValueError(f"No masked per-frame value for metric {metric!r}.")
    return np.where(has_valid, values, np.nan), has_valid


def _error_value(pred, true, base, per_frame, valid):
    """The MSE or MAE (`base`) over all frames: per-frame sum or per-element mean."""
    if valid is None:
        return frame_values(pred, true, base, spatial_norm=not per_frame).mean()
    # Per frame: mean of the valid per-frame sums; per element: total over count.
    sums, counts = valid_frame_sums(pred, true, valid, base)
    return sums.mean() if per_frame else _ratio(sums.sum(), counts.sum())


def _errors(pred, true, kinds, valid=None):
    """`{name: value}` of the error metrics, `kinds` as `error_kind` gives them."""
    result, cache = {}, {}
    for name, (base, per_frame) in kinds.items():
        key = ("mae" if base == "mae" else "mse", per_frame)
        if key not in cache:
            cache[key] = _error_value(pred, true, key[0], per_frame, valid)
        value = cache[key]
        result[name] = float(np.sqrt(value) if base == "rmse" else value)
    return result


def openstl_metrics(
    pred,
    true,
    *,
    mean=None,
    std=None,
    metrics=None,
    spatial_norm=None,
    clip_range=(0.0, 1.0),
    channel_names=None,
    ssim_data_range=None,
    mask=None,
):
    """The counterpart of OpenSTL's `metric()` for channels-last arrays.

    Targets that are NaN, and pixels where `mask` is False, are invalid: the
    figures are then computed over the valid pixels only (see the module
    docstring for each metric's rule).

    Args:
        pred: numpy array `(N, T, H, W, C)`. Predictions (normalised if `mean`
            and `std` are given).
        true: numpy array `(N, T, H, W, C)`. Targets, same space as `pred`.
        mean: array-like broadcastable to `(C,)` or None. With `std`, both
            arrays are denormalised (`a * std + mean`) first.
        std: array-like broadcastable to `(C,)` or None.
        metrics: iterable of names from `ALLOWED_METRICS`: `"mse"`, `"mae"`,
            `"rmse"` (per-element means), `"frame_mse"`, `"frame_mae"`,
            `"frame_rmse"` (per-frame sums over `C*H*W`, OpenSTL's traffic and
            video figures), `"ssim"`, `"psnr"`, `"snr"`, `"lpips"`. None asks for
            `("mse", "mae")` with `spatial_norm=True` and for the reference's
            default `("frame_mse", "frame_mae")` without.
        spatial_norm: bool or None. The reference's switch, only needed for
            its legacy names: False makes `"mse"`/`"mae"`/`"rmse"` per-frame
            sums (with a `FutureWarning`); None or True leaves them
            per-element means. Defaults to None.
        clip_range: `(low, high)`. Predictions are clipped to it before the
            quality metrics; its span is the PSNR peak and the default SSIM data
            range. Defaults to `(0.0, 1.0)`.
        channel_names: list of str or None. As the reference: the channels are
            split into `len(channel_names)` equal groups, `mse_<name>` etc. are
            reported per group and the error metrics are the group means.
        ssim_data_range: float or None. SSIM data range; defaults to the span of
            `clip_range`. `2.0` reproduces the reference (see module docstring).
        mask: boolean array broadcastable to `(N, T, H, W, C)` or None. True
            marks a valid pixel, e.g. a land-sea mask `(H, W, 1)`. Defaults to
            None: only NaN targets are invalid.

    Returns:
        dict of metric name -> float.

    Example:

    ```python
    scores = openstl_metrics(pred, true, metrics=("frame_mse", "mse", "ssim", "psnr"))
    sea = openstl_metrics(pred, true, mask=land_sea_mask[..., None])  # (H, W, 1)
    ```
    """
    pred, true = _check(pred, true)
    metrics = tuple(metrics or default_error_metrics(spatial_norm))
    invalid = sorted(set(metrics) - set(ALLOWED_METRICS))
    if invalid:
        raise ValueError(
            f"Unsupported metrics {invalid}. Valid: {list(ALLOWED_METRICS)}. Received: metrics={metrics}"
        )
    pred = (
        pred.astype("float64") if pred.dtype == np.float64 else pred.astype("float32")
    )
    true = true.astype(pred.dtype)
    if mean is not None and std is not None:
        pred = pred * np.asarray(std, pred.dtype) + np.asarray(mean, pred.dtype)
        true = true * np.asarray(std, true.dtype) + np.asarray(mean, true.dtype)
    kinds = error_kinds(metrics, spatial_norm)
    valid = None
    if mask is not None or not np.isfinite(true).all():
        valid = valid_pixels(true, mask)
        if valid.all():
            valid = None  # nothing to leave out: the unmasked formulas
    result = {}
    if channel_names:
        channels = pred.shape[-1]
        groups = len(channel_names)
        if channels % groups or groups < 2:
            raise ValueError(
                f"{channels} channels cannot be split into {groups} groups. "
                f"Received: channel_names={list(channel_names)}"
            )
        width = channels // groups
        per_group = [
            _errors(
                pred[..., i * width : (i + 1) * width],
                true[..., i * width : (i + 1) * width],
                kinds,
                None if valid is None else valid[..., i * width : (i + 1) * width],
            )
            for i in range(groups)
        ]
        for key in kinds:
            for name, values in zip(channel_names, per_group):
                result[f"{key}_{name}"] = values[key]
            result[key] = float(np.mean([values[key] for values in per_group]))
    else:
        result.update(_errors(pred, true, kinds, valid))
    low, high = clip_range
    clipped = np.clip(pred, low, high)
    for key in QUALITY_METRICS:
        if key not in metrics:
            continue
        if valid is None:
            values = frame_values(
                clipped,
                true,
                key,
                data_range=high - low,
                ssim_data_range=ssim_data_range,
            )
            result[key] = float(np.mean(values))
        else:
            values, has_valid = masked_frame_values(
                clipped,
                true,
                valid,
                key,
                data_range=high - low,
                ssim_data_range=ssim_data_range,
            )
            result[key] = float(
                np.mean(values[has_valid]) if has_valid.any() else np.nan
            )
    return {key: result[key] for key in _order(result, metrics)}


def _order(result, metrics):
    """Keys in the order the metrics were asked for (per-channel keys after their metric)."""
    ordered = []
    for metric in metrics:
        ordered += [k for k in result if k == metric or k.startswith(metric + "_")]
    return ordered
