"""Which forecast windows to draw by default: a stated rule, never a data artefact.

The default example of `keras-svq plot` (and of `evaluate`'s figures) used to
be window 0 of the test split. In the shipped NYC taxi sample that window
holds the daylight-saving hour of 13 March 2016 (02:00-03:00 does not exist,
so two half-hour frames count 36 and 41 trips against ~17,000 around them):
the least typical window of the split. The rule here:

1. Score every window by its mean squared error in physical units
   (`window_errors`).
2. Leave out windows that contain a *dropout frame* (`flag_dropout_windows`):
   a frame (input or target) whose mean absolute value per channel is below
   `ratio` (1 %) of the window's median frame. A real lull keeps a few tens
   of percent of its neighbours (the January 2016 blizzard in the taxi data:
   about 6 %); a recording gap or a missing clock hour drops to almost zero.
3. Draw the window of median error (`choose_examples(errors, 1)`), or for
   `k` windows those at the error quantiles `(i + 0.5) / k`.

For data where near-zero frames are real (rain fields, night-time light),
the dropout test may skip genuine windows: pass an explicit example then.
"""

import contextlib
import warnings

import numpy as np


def window_errors(forecast, truth):
    """Mean squared error of each window `(N,)`, over lead times, pixels and channels.

    Non-finite targets (missing data) are left out of each mean.

    Args:
        forecast: array `(N, T_out, H, W[, C])`, in physical units.
        truth: array of the same shape.

    Returns:
        float64 array `(N,)`; NaN for a window with no finite target.

    Example:

    ```python
    errors = window_errors(norm.denormalize(pred), norm.denormalize(y))
    ```
    """
    forecast = np.asarray(forecast, "float64")
    truth = np.asarray(truth, "float64")
    if forecast.shape != truth.shape or forecast.ndim < 2:
        raise ValueError(
            "`forecast` and `truth` must both be (N, T_out, H, W[, C]). "
            f"Received: forecast={forecast.shape}, truth={truth.shape}"
        )
    squared = (forecast - truth) ** 2
    squared = squared.reshape(len(squared), -1)
    valid = np.isfinite(squared)
    count = valid.sum(axis=1)
    total = np.where(valid, squared, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def flag_dropout_windows(inputs, truth, *, ratio=0.01):
    """True for windows holding a frame near zero against the rest of the window.

    A frame is a dropout when, for some channel, its mean absolute value is
    below `ratio` times the median of that channel's frames in the same
    window (inputs and targets together). In the NYC taxi sample this flags
    exactly the windows holding the missing daylight-saving hour of 13 March
    2016 (ratio ~0.003) and not the blizzard of 23-24 January 2016 (~0.06).

    Args:
        inputs: array `(N, T_in, H, W[, C])`, in physical units.
        truth: array `(N, T_out, H, W[, C])`.
        ratio: float. Fraction of the window's median frame below which a
            frame counts as a dropout. Defaults to 0.01.

    Returns:
        bool array `(N,)`.

    Example:

    ```python
    flags = flag_dropout_windows(norm.denormalize(x), norm.denormalize(y))
    ```
    """
    inputs = np.asarray(inputs, "float64")
    truth = np.asarray(truth, "float64")
    if inputs.ndim == 4:
        inputs, truth = inputs[..., None], truth[..., None]
    if inputs.ndim != 5 or truth.ndim != 5 or len(inputs) != len(truth):
        raise ValueError(
            "`inputs` and `truth` must be (N, T, H, W[, C]) with the same N. "
            f"Received: inputs={inputs.shape}, truth={truth.shape}"
        )
    frames = np.concatenate([inputs, truth], axis=1)
    with _quiet_nan_warnings():
        level = np.nanmean(np.abs(frames), axis=(2, 3))  # (N, T, C)
        median = np.nanmedian(level, axis=1, keepdims=True)
    dropout = (level < ratio * median) & (median > 0)
    return dropout.any(axis=(1, 2))


def choose_examples(errors, k=1, *, exclude=None):
    """Indices of `k` windows at the error quantiles, skipping excluded ones.

    The rule: sort the eligible windows (finite error, not excluded) by
    error and take rank `round((n - 1) * q)` for each quantile
    `q = (i + 0.5) / k`, so `k=1` gives the window of median error and `k=3`
    those near the 17th, 50th and 83rd percentiles. When every window is
    excluded, the exclusion is ignored rather than drawing nothing.

    Args:
        errors: array `(N,)`. One error per window (`window_errors`).
        k: int. Number of windows. Defaults to 1.
        exclude: bool array `(N,)` or None. Windows never chosen, e.g.
            `flag_dropout_windows(...)`. Defaults to None.

    Returns:
        list of at most `k` distinct int indices, in increasing error.

    Example:

    ```python
    (example,) = choose_examples(errors, 1, exclude=flags)   # the median window
    ```
    """
    errors = np.asarray(errors, "float64")
    if errors.ndim != 1 or errors.size == 0:
        raise ValueError(
            f"`errors` must be a non-empty 1-D array. Received: shape={errors.shape}"
        )
    if int(k) < 1:
        raise ValueError(f"`k` must be at least 1. Received: k={k}")
    eligible = np.isfinite(errors)
    if exclude is not None:
        exclude = np.asarray(exclude, bool)
        if exclude.shape != errors.shape:
            raise ValueError(
                f"`exclude` must have the shape of `errors` {errors.shape}. "
                f"Received: exclude={exclude.shape}"
            )
        if (eligible & ~exclude).any():
            eligible &= ~exclude
    if not eligible.any():
        eligible = np.ones_like(eligible)
    candidates = np.flatnonzero(eligible)
    order = candidates[np.argsort(np.nan_to_num(errors[candidates]), kind="stable")]
    quantiles = (np.arange(int(k)) + 0.5) / int(k)
    ranks = np.floor((len(order) - 1) * quantiles + 0.5).astype(int)
    return [int(order[r]) for r in dict.fromkeys(ranks.tolist())]


def default_example(inputs, truth, forecast, *, ratio=0.01):
    """The window drawn by default and why: `(index, description)`.

    Applies the module's rule: median error among windows without a dropout
    frame. The description reads e.g. `"median error of n=857; 6 windows
    with a dropout frame skipped"`, for a figure title.

    Args:
        inputs: array `(N, T_in, H, W[, C])`, in physical units.
        truth: array `(N, T_out, H, W[, C])`.
        forecast: array like `truth`.
        ratio: float. See `flag_dropout_windows`. Defaults to 0.01.

    Returns:
        tuple `(int, str)`.

    Example:

    ```python
    index, why = default_example(x_phys, y_phys, pred_phys)
    ```
    """
    errors = window_errors(forecast, truth)
    flags = flag_dropout_windows(inputs, truth, ratio=ratio)
    (index,) = choose_examples(errors, 1, exclude=flags)
    why = f"median error of n={len(errors)}"
    skipped = int(flags.sum())
    if skipped and skipped < len(flags):
        plural = "window" if skipped == 1 else "windows"
        why += f"; {skipped} {plural} with a dropout frame skipped"
    return index, why


@contextlib.contextmanager
def _quiet_nan_warnings():
    """Silences numpy's "Mean of empty slice" for all-NaN frames (they give NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
