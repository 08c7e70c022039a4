"""`ErrorAccumulator`: masked MSE, MAE and RMSE in physical units, streamed over batches."""

import numpy as np

from keras_svq.metrics.openstl_metrics import valid_pixels

# Summed over everything but the lead time of a `(B, T, H, W, C)` batch.
_NOT_LEAD = (0, 2, 3, 4)


def latitude_weights(latitudes):
    """WeatherBench's area weights of grid rows: `cos(lat) / mean(cos(lat))`.

    Args:
        latitudes: 1-D array-like `(H,)`. Latitude of each grid row, in degrees.

    Returns:
        A float64 array `(H,)` with mean 1.

    Example:

    ```python
    latitude_weights([60.0, 0.0, -60.0])  # [0.75, 1.5, 0.75]
    ```

    Reference:
        Rasp et al., "WeatherBench: A benchmark dataset for data-driven
        weather forecasting", https://arxiv.org/abs/2002.00469
    """
    lat = np.asarray(latitudes, dtype="float64")
    if lat.ndim != 1 or lat.size == 0 or not np.all(np.abs(lat) <= 90.0):
        raise ValueError(
            "`latitudes` must be a non-empty 1-D array of degrees in [-90, 90]. "
            f"Received: latitudes={latitudes!r}"
        )
    weights = np.cos(np.deg2rad(lat))
    return weights / weights.mean()


class ErrorAccumulator:
    """Running MSE, MAE and RMSE over valid target pixels, overall and per lead time.

    Batches of predictions and targets in physical units are added one by one;
    only running sums are kept. Invalid pixels (NaN targets, or False in
    `mask`) are left out of every figure. The rules:

    - Per lead time: the valid error sum over the valid count of that step.
    - Overall: the valid error sum of all steps over their total valid count.
      With a static mask every step has the same count and this is the mean of
      the per-lead values; with masks that vary over time, steps with more
      valid pixels weigh more.
    - RMSE: the root of the MSE it goes with (overall, or one step), not a
      mean of roots.
    - With `latitudes`, `*_lat_weighted` figures weight every element by
      `latitude_weights(latitudes)` of its row: `sum(w * err * valid) /
      sum(w * valid)`. `rmse_lat_weighted` is the root of the weighted MSE
      (WeatherBench 2: the root of the mean over time of the weighted MSE).
    - `valid_fraction`: valid target elements over all target elements.
    - A figure with no valid element is NaN.

    To also get unmasked figures, feed a second accumulator filled arrays.

    Args:
        output_length: int. Number of lead times T of every batch.
        latitudes: 1-D array-like `(H,)` of degrees, or None. Adds the
            latitude-weighted figures. Defaults to None.

    Call arguments (`add`):
        pred: array `(B, T, H, W, C)`. Predictions, physical units.
        true: array `(B, T, H, W, C)`. Targets; NaN marks an invalid pixel.
        mask: boolean array broadcastable to `(B, T, H, W, C)` or None.
            True = valid.

    Returns (`result`):
        dict with `"mse"`, `"mae"`, `"rmse"`, with latitudes
        `"mse_lat_weighted"`, `"mae_lat_weighted"`, `"rmse_lat_weighted"`,
        then `"valid_fraction"` and `"per_lead_time"`: `{name: [T values]}`
        for every error figure.

    Example:

    ```python
    errors = ErrorAccumulator(output_length=2, latitudes=[45.0, 0.0, -45.0])
    true = np.full((1, 2, 3, 4, 1), 280.0)
    true[0, :, 0, 0] = np.nan  # missing values
    errors.add(true + 1.0, true)  # one batch; call once per batch
    errors.result()["rmse_lat_weighted"]  # 1.0
    ```

    Reference:
        Rasp et al., "WeatherBench 2: A benchmark for the next generation of
        data-driven global weather models", https://arxiv.org/abs/2308.15560
    """

    def __init__(self, output_length, latitudes=None):
        if not isinstance(output_length, (int, np.integer)) or output_length < 1:
            raise ValueError(
                "`output_length` must be a positive integer. "
                f"Received: output_length={output_length!r}"
            )
        self.output_length = int(output_length)
        self.latitudes = None if latitudes is None else np.asarray(latitudes)
        self._weights = None if latitudes is None else latitude_weights(latitudes)
        self.reset()

    def reset(self):
        """Forgets every batch added so far."""
        keys = ("squared", "absolute", "count", "elements")
        keys += ("w_squared", "w_absolute", "w_count")  # with latitudes only
        self._sums = {key: np.zeros(self.output_length, "float64") for key in keys}

    def add(self, pred, true, mask=None):
        """Adds one batch `(B, T, H, W, C)`; see the class docstring."""
        pred = np.asarray(pred, "float64")
        true = np.asarray(true, "float64")
        if pred.shape != true.shape or pred.ndim != 5:
            raise ValueError(
                "`pred` and `true` must have the same shape (B, T, H, W, C). "
                f"Received: pred.shape={pred.shape}, true.shape={true.shape}"
            )
        if pred.shape[1] != self.output_length:
            raise ValueError(
                f"Expected {self.output_length} lead times (output_length). "
                f"Received: pred.shape={pred.shape}"
            )
        if self._weights is not None and pred.shape[2] != self._weights.size:
            raise ValueError(
                f"`latitudes` has {self._weights.size} rows but the batch has "
                f"H={pred.shape[2]}. Received: pred.shape={pred.shape}"
            )
        valid = valid_pixels(true, mask)
        error = np.where(valid, pred - true, 0.0)
        squared, absolute = error * error, np.abs(error)
        sums = self._sums
        sums["squared"] += squared.sum(axis=_NOT_LEAD)
        sums["absolute"] += absolute.sum(axis=_NOT_LEAD)
        sums["count"] += valid.sum(axis=_NOT_LEAD)
        sums["elements"] += error.size // error.shape[1]
        if self._weights is not None:
            w = self._weights[None, None, :, None, None]
            sums["w_squared"] += (w * squared).sum(axis=_NOT_LEAD)
            sums["w_absolute"] += (w * absolute).sum(axis=_NOT_LEAD)
            sums["w_count"] += (w * valid).sum(axis=_NOT_LEAD)

    def result(self):
        """The figures over every batch added; see the class docstring."""
        sums = self._sums
        if not sums["elements"].any():
            raise ValueError("No batch was added: nothing to report.")
        figures = [("", "squared", "absolute", "count")]
        if self._weights is not None:
            figures.append(("_lat_weighted", "w_squared", "w_absolute", "w_count"))
        result, per_lead = {}, {}
        with np.errstate(divide="ignore", invalid="ignore"):
            for suffix, squared, absolute, count in figures:
                mse = sums[squared].sum() / sums[count].sum()
                mse_lead = sums[squared] / sums[count]
                mae_lead = sums[absolute] / sums[count]
                result[f"mse{suffix}"] = float(mse)
                result[f"mae{suffix}"] = float(sums[absolute].sum() / sums[count].sum())
                result[f"rmse{suffix}"] = float(np.sqrt(mse))
                per_lead[f"mse{suffix}"] = mse_lead.tolist()
                per_lead[f"mae{suffix}"] = mae_lead.tolist()
                per_lead[f"rmse{suffix}"] = np.sqrt(mse_lead).tolist()
        result["valid_fraction"] = float(sums["count"].sum() / sums["elements"].sum())
        result["per_lead_time"] = per_lead
        return result
