"""How far a result is from a reference, for tolerance checks in tests."""

import numpy as np


def relative_rms(actual, expected):
    """`sqrt(mean((actual - expected)^2) / mean(expected^2))`, in float64.

    Accepts NumPy arrays and backend tensors (bfloat16 ones included).
    """
    import keras

    def as_float64(x):
        return np.asarray(
            keras.ops.convert_to_numpy(keras.ops.cast(x, "float32")), "float64"
        )

    actual, expected = as_float64(actual), as_float64(expected)
    return float(np.sqrt(np.mean((actual - expected) ** 2) / np.mean(expected**2)))
