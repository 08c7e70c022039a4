"""`evaluate_forecast`: a model and a dataset in, the reference's metric set out.

The metrics are accumulated frame by frame over the whole dataset (nothing but
one batch is held in memory), so the overall values equal `openstl_metrics` on
the concatenated predictions, and the same sums split by forecast step give the
per-lead-time breakdown. Masked figures keep valid error sums and valid counts
per lead time, so they too equal `openstl_metrics` on the whole split.
"""

import numpy as np

from keras_svq.metrics.error_accumulator import ErrorAccumulator
from keras_svq.metrics.openstl_metrics import ALLOWED_METRICS
from keras_svq.metrics.openstl_metrics import QUALITY_METRICS
from keras_svq.metrics.openstl_metrics import check_mask
from keras_svq.metrics.openstl_metrics import default_error_metrics
from keras_svq.metrics.openstl_metrics import error_kinds
from keras_svq.metrics.openstl_metrics import frame_values
from keras_svq.metrics.openstl_metrics import masked_frame_values
from keras_svq.metrics.openstl_metrics import valid_frame_sums
from keras_svq.metrics.openstl_metrics import valid_pixels

_SPLIT_INDEX = {"train": 0, "val": 1, "test": 2}


def _predict(model, x):
    if hasattr(model, "predict_on_batch"):
        return np.asarray(model.predict_on_batch(x))
    out = model(x)
    return np.asarray(out.numpy() if hasattr(out, "numpy") else out)


def _batches(data):
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], np.ndarray):
        yield data
        return
    for x, y in data:
        yield np.asarray(x), np.asarray(y)


def _ratio(numerator, denominator):
    """`numerator / denominator`, NaN where the denominator is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.true_divide(numerator, denominator)


def _batch_valid(true, mask, start):
    """Valid elements of one batch, or None when all are valid."""
    if mask is not None and mask.ndim == 5 and mask.shape[0] > 1:
        # A mask of the whole split: its rows follow the batches in order.
        batch = true.shape[0]
        mask = mask[start : start + batch]
        if mask.shape[0] != batch:
            raise ValueError(
                f"`mask` covers {start + mask.shape[0]} examples but the data "
                f"has at least {start + batch}. Received: mask.shape="
                f"{(start + mask.shape[0],) + mask.shape[1:]}"
            )
    if mask is None and np.isfinite(true).all():
        return None
    valid = valid_pixels(true, mask)
    return None if valid.all() else valid


def evaluate_forecast(
    model,
    dataset_or_splits,
    *,
    metrics=None,
    mean=None,
    std=None,
    spatial_norm=None,
    split="test",
    clip_range=(0.0, 1.0),
    ssim_data_range=None,
    channel_names=None,
    mask=None,
    latitudes=None,
    max_batches=None,
):
    """Evaluates a forecaster with the reference's metrics, overall and per lead time.

    Targets that are NaN, and pixels where `mask` is False, are invalid and
    left out of every figure, with `openstl_metrics`' rules: `mse`/`mae` are
    the valid error sums over the valid counts (per lead time, and over all
    steps for the overall value); `frame_mse`/`frame_mae` per-frame sums over
    the valid pixels, averaged over frames; PSNR/SNR/SSIM/
    LPIPS average over the frames that have a valid pixel (SSIM and LPIPS on
    arrays set to 0 at the invalid pixels).

    With `latitudes`, `mse_lat_weighted`, `mae_lat_weighted` and
    `rmse_lat_weighted` (overall and per lead time) are added: per-element
    means over all channels, each element weighted by WeatherBench's
    `cos(lat) / mean(cos(lat))` of its row, i.e. `sum(w * err * valid) /
    sum(w * valid)` over the valid elements. `rmse_lat_weighted` is the root of
    the weighted MSE (WeatherBench 2: the root of the mean over time of the
    weighted MSE), not a mean of per-sample roots; `rmse` likewise is the root
    of the (unweighted) MSE. See `ErrorAccumulator`.

    Args:
        model: a Keras model (`predict_on_batch` is used) or any callable
            `x -> y_pred` (e.g. `lambda x: persistence_forecast(x, 12)`).
        dataset_or_splits: a `Splits` (its `split` dataset is used and its facts
            give the defaults below), a `tf.data.Dataset` of `(x, y)` batches, or
            an `(x, y)` tuple of numpy arrays.
        metrics: iterable of metric names (`ALLOWED_METRICS`: `mse`/`mae`/
            `rmse` are per-element means, `frame_mse`/`frame_mae`/`frame_rmse`
            OpenSTL's per-frame sums over `C*H*W`), or None for the dataset's
            set (`splits.info.metrics`; otherwise `("mse", "mae")` with
            `spatial_norm=True` and the reference's default `("frame_mse",
            "frame_mae")` without).
        mean: per-channel offset to denormalise with, or None. With a `Splits`
            whose facts say the reference reports physical units (weather),
            defaults to its normaliser's mean.
        std: per-channel scale, or None (same default rule as `mean`).
        spatial_norm: bool or None. Only read for the reference's legacy
            names: False makes `"mse"`/`"mae"`/`"rmse"` per-frame sums (with a
            `FutureWarning`, see `error_kind`). None takes
            `splits.info.spatial_norm` (None without a `Splits`: the names
            decide).
        split: str. Which split of a `Splits` to evaluate. Defaults to `"test"`.
        clip_range: `(low, high)` for the quality metrics (see `openstl_metrics`).
        ssim_data_range: float or None. See `openstl_metrics`.
        channel_names: sequence of str or None. As the reference for
            WeatherBench-M: channels split into equal groups, `mse_<name>` etc.
            per group and the error metrics the group means. None takes
            `splits.info.channel_groups` (none without a `Splits`).
        mask: boolean array or None. True = valid. Either broadcastable to one
            batch `(B, T, H, W, C)` (a static mask such as a land-sea mask
            `(H, W, 1)`), or the mask of the whole split `(N, T, H, W, C)`,
            whose rows are taken batch by batch in the data's order. Defaults
            to None: only NaN targets are invalid.
        latitudes: 1-D array-like `(H,)` of degrees, or None. Adds the
            latitude-weighted errors. Defaults to None.
        max_batches: int or None. Stop after this many batches.

    Returns:
        dict: every metric as a float, with latitudes the `*_lat_weighted`
        errors, `"valid_fraction"` (valid target elements over all, only when
        some were invalid), `"per_lead_time"`: `{metric: [value per forecast
        step]}`, and `"num_examples"`.

    Example:

    ```python
    scores = evaluate_forecast(model, splits)
    scores["frame_mse"], scores["per_lead_time"]["frame_mse"][-1]  # traffic
    sea = evaluate_forecast(model, splits, mask=sea_mask, latitudes=lat)
    sea["rmse_lat_weighted"], sea["valid_fraction"]
    ```
    """
    data = dataset_or_splits
    info = getattr(data, "info", None)
    if info is not None:
        if metrics is None:
            metrics = info.metrics
        if spatial_norm is None:
            spatial_norm = info.spatial_norm
        if channel_names is None:
            channel_names = info.channel_groups or None
        if mean is None and std is None and info.denormalize_metrics:
            mean, std = data.normalizer.mean, data.normalizer.std
        if split not in _SPLIT_INDEX:
            raise ValueError(
                f"Unknown split. Valid: {list(_SPLIT_INDEX)}. Received: split={split!r}"
            )
        data = data[_SPLIT_INDEX[split]]
    metrics = tuple(metrics or default_error_metrics(spatial_norm))
    invalid = sorted(set(metrics) - set(ALLOWED_METRICS))
    if invalid:
        raise ValueError(
            f"Unsupported metrics {invalid}. Valid: {list(ALLOWED_METRICS)}."
        )
    low, high = clip_range
    # name -> (the error whose sums it needs, per-frame sum or per-element mean)
    kinds = {
        m: ("mse" if base == "rmse" else base, per_frame)
        for m, (base, per_frame) in error_kinds(metrics, spatial_norm).items()
    }
    errors = sorted({base for base, _ in kinds.values()})
    quality = [m for m in metrics if m in QUALITY_METRICS]
    groups = list(channel_names) if channel_names else [None]
    mask = check_mask(mask)
    # Per-frame values summed over examples: the error sums (`raw`), the
    # same divided by the elements per frame (`normed`, the reference's
    # `spatial_norm` formula) and the quality metrics (`sums`); and what the
    # masked figures need: valid counts and the frames that have a valid pixel.
    sums, raw, normed, counts, frames = {}, {}, {}, {}, {}
    elements = valid_elements = 0
    any_invalid = False
    weighted = None
    num_examples = 0
    for i, (x, y) in enumerate(_batches(data)):
        if max_batches is not None and i >= max_batches:
            break
        pred = _predict(model, x).astype("float32")
        true = y.astype("float32")
        if pred.shape != true.shape:
            raise ValueError(
                f"The model predicts {pred.shape} for targets {true.shape}; they must match."
            )
        if mean is not None and std is not None:
            pred = pred * np.asarray(std, "float32") + np.asarray(mean, "float32")
            true = true * np.asarray(std, "float32") + np.asarray(mean, "float32")
        width = pred.shape[-1] // len(groups)
        if width * len(groups) != pred.shape[-1]:
            raise ValueError(
                f"{pred.shape[-1]} channels cannot be split into {len(groups)} groups. "
                f"Received: channel_names={channel_names}"
            )
        valid = _batch_valid(true, mask, num_examples)
        any_invalid = any_invalid or valid is not None
        if latitudes is not None:
            if weighted is None:
                weighted = ErrorAccumulator(pred.shape[1], latitudes)
            weighted.add(pred, true, valid)
        elements += true.size
        valid_elements += true.size if valid is None else int(valid.sum())
        for g, group in enumerate(groups):
            part = slice(g * width, (g + 1) * width)
            # Dividing the per-frame sums by `norm` is `frame_values`'
            # `spatial_norm`, so unmasked sums stay bit-identical to it.
            norm = np.prod(pred[..., part].shape[-3:])
            if valid is None:
                count = np.full(pred.shape[1], pred[:, 0, ..., part].size)
            else:
                count = valid[..., part].sum(axis=(0, 2, 3, 4))
            counts[group] = counts.get(group, 0) + count
            for m in errors:
                if valid is None:
                    frame_sums = frame_values(pred[..., part], true[..., part], m)
                else:
                    frame_sums, _ = valid_frame_sums(
                        pred[..., part], true[..., part], valid[..., part], m
                    )
                normed[m, group] = normed.get((m, group), 0.0) + (
                    frame_sums / norm
                ).sum(axis=0)
                raw[m, group] = raw.get((m, group), 0.0) + frame_sums.sum(axis=0)
        clipped = np.clip(pred, low, high)
        for m in quality:
            if valid is None:
                values = frame_values(
                    clipped,
                    true,
                    m,
                    data_range=high - low,
                    ssim_data_range=ssim_data_range,
                )
                has_valid = np.ones(values.shape, bool)
            else:
                values, has_valid = masked_frame_values(
                    clipped,
                    true,
                    valid,
                    m,
                    data_range=high - low,
                    ssim_data_range=ssim_data_range,
                )
                values = np.where(has_valid, values, 0.0)
            sums[m, None] = sums.get((m, None), 0.0) + values.sum(axis=0)
            frames[m] = frames.get(m, 0) + has_valid.sum(axis=0)
        num_examples += pred.shape[0]
    if not num_examples:
        raise ValueError("The dataset is empty: nothing to evaluate.")
    # (overall, per lead time) of every per-frame quantity, per group.
    summary = {}
    for key, total in sums.items():
        if not any_invalid:
            step = total / num_examples
            summary[key] = step.mean(), step
        else:
            m = key[0]
            summary[key] = (
                _ratio(total.sum(), frames[m].sum()),
                _ratio(total, frames[m]),
            )
    for m, (base, per_frame) in kinds.items():
        for group in groups:
            key = base, group
            if per_frame:
                step = raw[key] / num_examples
                summary[m, group] = step.mean(), step
            elif not any_invalid:
                step = normed[key] / num_examples
                summary[m, group] = step.mean(), step
            else:
                summary[m, group] = (
                    _ratio(raw[key].sum(), counts[group].sum()),
                    _ratio(raw[key], counts[group]),
                )
    # RMSE is the root of the MSE over the frames it summarises (all frames
    # for the overall value, one step for a lead time).
    result, per_lead = {}, {}
    for m in metrics:
        keys = [(m, None)] if m in quality else [(m, g) for g in groups]
        root = m in ("rmse", "frame_rmse")
        overall, lead, by_group = [], [], {}
        for key in keys:
            total, values = summary[key]
            overall.append(np.sqrt(total) if root else total)
            lead.append(np.sqrt(values) if root else values)
            if key[1] is not None:
                by_group[f"{m}_{key[1]}"] = float(overall[-1])
        # With channel groups the reference reports the mean over groups.
        result[m] = float(np.mean(overall))
        result.update(by_group)
        per_lead[m] = [float(v) for v in np.mean(lead, axis=0)]
    if weighted is not None:
        figures = weighted.result()
        for name in ("mse", "rmse", "mae"):
            key = f"{name}_lat_weighted"
            result[key] = figures[key]
            per_lead[key] = figures["per_lead_time"][key]
    if any_invalid:
        result["valid_fraction"] = valid_elements / elements
    result["per_lead_time"] = per_lead
    result["num_examples"] = int(num_examples)
    return result
