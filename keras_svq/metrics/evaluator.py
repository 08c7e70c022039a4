"""`evaluate_forecast`: a model and a dataset in, the reference's metric set out.

The metrics are accumulated frame by frame over the whole dataset (nothing but
one batch is held in memory), so the overall values equal `openstl_metrics` on
the concatenated predictions, and the same sums split by forecast step give the
per-lead-time breakdown.
"""

import numpy as np

from keras_svq.metrics.openstl_metrics import ALLOWED_METRICS
from keras_svq.metrics.openstl_metrics import QUALITY_METRICS
from keras_svq.metrics.openstl_metrics import frame_values

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
    max_batches=None,
):
    """Evaluates a forecaster with the reference's metrics, overall and per lead time.

    Args:
        model: a Keras model (`predict_on_batch` is used) or any callable
            `x -> y_pred` (e.g. `lambda x: persistence_forecast(x, 12)`).
        dataset_or_splits: a `Splits` (its `split` dataset is used and its facts
            give the defaults below), a `tf.data.Dataset` of `(x, y)` batches, or
            an `(x, y)` tuple of numpy arrays.
        metrics: iterable of metric names, or None for the dataset's set
            (`splits.info.metrics`; `("mse", "mae")` otherwise).
        mean: per-channel offset to denormalise with, or None. With a `Splits`
            whose facts say the reference reports physical units (weather),
            defaults to its normaliser's mean.
        std: per-channel scale, or None (same default rule as `mean`).
        spatial_norm: bool or None. Per-element MSE/MAE (weather). None takes
            `splits.info.spatial_norm` (False without a `Splits`).
        split: str. Which split of a `Splits` to evaluate. Defaults to `"test"`.
        clip_range: `(low, high)` for the quality metrics (see `openstl_metrics`).
        ssim_data_range: float or None. See `openstl_metrics`.
        channel_names: sequence of str or None. As the reference for
            WeatherBench-M: channels split into equal groups, `mse_<name>` etc.
            per group and `mse`/`mae`/`rmse` the group means. None takes
            `splits.info.channel_groups` (none without a `Splits`).
        max_batches: int or None. Stop after this many batches.

    Returns:
        dict: every metric as a float, `"per_lead_time"`: `{metric: [value per
        forecast step]}`, and `"num_examples"`.

    Example:

    ```python
    scores = evaluate_forecast(model, splits)
    scores["mse"], scores["per_lead_time"]["mse"][-1]
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
    metrics = tuple(metrics or ("mse", "mae"))
    invalid = sorted(set(metrics) - set(ALLOWED_METRICS))
    if invalid:
        raise ValueError(
            f"Unsupported metrics {invalid}. Valid: {list(ALLOWED_METRICS)}."
        )
    spatial_norm = bool(spatial_norm)
    low, high = clip_range
    errors = [m for m in ("mse", "mae") if m in metrics]
    if "rmse" in metrics and "mse" not in errors:
        errors.append("mse")
    quality = [m for m in metrics if m in QUALITY_METRICS]
    groups = list(channel_names) if channel_names else [None]
    sums = {}
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
        for g, group in enumerate(groups):
            part = slice(g * width, (g + 1) * width)
            for m in errors:
                values = frame_values(
                    pred[..., part], true[..., part], m, spatial_norm=spatial_norm
                )
                sums[m, group] = sums.get((m, group), 0.0) + values.sum(axis=0)
        clipped = np.clip(pred, low, high)
        for m in quality:
            values = frame_values(
                clipped,
                true,
                m,
                data_range=high - low,
                ssim_data_range=ssim_data_range,
            )
            sums[m, None] = sums.get((m, None), 0.0) + values.sum(axis=0)
        num_examples += pred.shape[0]
    if not num_examples:
        raise ValueError("The dataset is empty: nothing to evaluate.")
    # Per step and per group; RMSE is the root of the MSE over the frames it
    # summarises (all frames for the overall value, one step for a lead time).
    step = {key: value / num_examples for key, value in sums.items()}
    result, per_lead = {}, {}
    for m in metrics:
        keys = (
            [(m, None)]
            if m in quality
            else [("mse" if m == "rmse" else m, g) for g in groups]
        )
        overall, lead, by_group = [], [], {}
        for key in keys:
            values = step[key]
            overall.append(np.sqrt(values.mean()) if m == "rmse" else values.mean())
            lead.append(np.sqrt(values) if m == "rmse" else values)
            if key[1] is not None:
                by_group[f"{m}_{key[1]}"] = float(overall[-1])
        # With channel groups the reference reports the mean over groups.
        result[m] = float(np.mean(overall))
        result.update(by_group)
        per_lead[m] = [float(v) for v in np.mean(lead, axis=0)]
    result["per_lead_time"] = per_lead
    result["num_examples"] = int(num_examples)
    return result
