"""The climatology baseline and skill scores.

Climatology forecasts the training split's average field for the time the
forecast is valid: one mean field per time-of-day slot when timestamps are
known (the diurnal cycle of temperature, the rush hours of traffic), else the
training mean. A forecaster that cannot beat it (or persistence) has learnt
nothing a table lookup would not give.

A skill score compares an error with a reference forecast's:
`skill = 1 - error / reference_error` (1 is perfect, 0 no better than the
reference, negative worse), the MSE skill score of verification practice.
"""

import numpy as np

DAY_SECONDS = 86400


def _seconds(times):
    times = np.asarray(times)
    if np.issubdtype(times.dtype, np.datetime64):
        return times.astype("datetime64[s]").astype("int64")
    return times.astype("int64")


class Climatology:
    """Mean fields of the training frames, per time-of-day slot or overall.

    Args:
        fields: float array `(S, H, W, C)`: one mean field per slot (`S = 1`
            for the plain training mean).
        slot_seconds: int or None. Slot width in seconds (e.g. 3600 for
            hourly slots) when the fields are per slot. Defaults to None.
        period_seconds: int. The cycle the slots divide. Defaults to one day.

    Example:

    ```python
    climatology = Climatology.fit(train_frames, times=train_times)  # hourly slots
    baseline = climatology.forecast(target_times)   # (N, T_out, H, W, C)
    ```
    """

    def __init__(self, fields, slot_seconds=None, period_seconds=DAY_SECONDS):
        fields = np.asarray(fields, dtype="float32")
        if fields.ndim != 4:
            raise ValueError(
                f"`fields` must be (slots, H, W, C). Received: fields.shape={fields.shape}"
            )
        if (
            slot_seconds is not None
            and fields.shape[0] * slot_seconds != period_seconds
        ):
            raise ValueError(
                f"{fields.shape[0]} slots of {slot_seconds} s do not make one period "
                f"of {period_seconds} s."
            )
        self.fields = fields
        self.slot_seconds = slot_seconds
        self.period_seconds = int(period_seconds)

    @classmethod
    def fit(cls, frames, times=None, slot_seconds=None, period_seconds=DAY_SECONDS):
        """Fits on training frames `(T, H, W, C)` in physical units (NaN ignored).

        Args:
            frames: array `(T, H, W, C)`.
            times: None, or `(T,)` timestamps (datetime64 or seconds). With
                times, one field per slot; without, the training mean.
            slot_seconds: int or None. Slot width; None takes the frames' own
                spacing (e.g. hourly data -> 24 slots a day).
            period_seconds: int. Defaults to one day.
        """
        frames = np.asarray(frames, dtype="float64")
        if frames.ndim != 4:
            raise ValueError(
                f"`frames` must be (T, H, W, C). Received: frames.shape={frames.shape}"
            )
        with np.errstate(invalid="ignore"):
            if times is None:
                return cls(np.nanmean(frames, axis=0, keepdims=True))
            seconds = _seconds(times)
            if seconds.shape != (frames.shape[0],):
                raise ValueError(
                    f"`times` must hold one timestamp per frame: {seconds.shape} for "
                    f"{frames.shape[0]} frames."
                )
            if slot_seconds is None:
                steps = np.diff(seconds)
                slot_seconds = int(np.median(steps)) if len(steps) else period_seconds
            slots = period_seconds // slot_seconds
            index = (seconds % period_seconds) // slot_seconds
            fields = np.stack(
                [
                    np.nanmean(frames[index == s], axis=0)
                    if np.any(index == s)
                    else np.nanmean(frames, axis=0)
                    for s in range(slots)
                ]
            )
        return cls(fields, slot_seconds=slot_seconds, period_seconds=period_seconds)

    def forecast(self, target_times=None, *, num_windows=None, output_length=None):
        """Forecasts `(N, T_out, H, W, C)`.

        Args:
            target_times: `(N, T_out)` timestamps the forecasts are valid at
                (needed for slot climatologies), or None.
            num_windows, output_length: int. The shape when `target_times` is
                None (a plain training mean).
        """
        if self.slot_seconds is None:
            if target_times is not None:
                num_windows, output_length = np.asarray(target_times).shape[:2]
            if num_windows is None or output_length is None:
                raise ValueError("Pass target_times or num_windows and output_length.")
            return np.broadcast_to(
                self.fields[0], (num_windows, output_length) + self.fields.shape[1:]
            ).copy()
        if target_times is None:
            raise ValueError(
                "This climatology has time-of-day slots: pass the target times "
                "(N, T_out) of the forecasts."
            )
        index = (_seconds(target_times) % self.period_seconds) // self.slot_seconds
        return self.fields[index]


def skill_score(errors, reference_errors):
    """`1 - errors / reference_errors`, elementwise (lists per lead time work).

    Example:

    ```python
    skill_score(model["per_lead_time"]["mse"], persistence["per_lead_time"]["mse"])
    ```
    """
    errors = np.asarray(errors, dtype="float64")
    reference = np.asarray(reference_errors, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        skill = 1.0 - errors / reference
    return skill.tolist() if skill.ndim else float(skill)
