"""The persistence baseline: tomorrow looks like today."""

import numpy as np


def persistence_forecast(x, output_length):
    """Repeats the last input frame `output_length` times.

    Args:
        x: array `(B, T_in, H, W, C)` (numpy or tensor).
        output_length: int. Frames to forecast (`T_out`).

    Returns:
        numpy array `(B, T_out, H, W, C)`.

    Example:

    ```python
    baseline = evaluate_forecast(lambda x: persistence_forecast(x, 12), splits)
    ```
    """
    x = np.asarray(x)
    if x.ndim != 5:
        raise ValueError(
            f"Expected x of shape (B, T_in, H, W, C). Received: x.shape={x.shape}"
        )
    if int(output_length) < 1:
        raise ValueError(
            f"`output_length` must be >= 1. Received: output_length={output_length}"
        )
    return np.repeat(x[:, -1:], int(output_length), axis=1)
