"""Finite Scalar Quantization (FSQ)."""

import keras
import numpy as np
from keras import ops

from keras_svq.quantizers.projected_quantizer import ProjectedQuantizer
from keras_svq.quantizers.projected_quantizer import straight_through


def validate_levels(levels):
    """`levels` as a tuple of ints >= 2, or a ValueError naming it."""
    if isinstance(levels, (str, bytes)) or not hasattr(levels, "__len__") or not levels:
        raise ValueError(
            "`levels` must be a non-empty sequence of integers >= 2, one per code "
            f"dimension, e.g. [8, 5, 5, 5]. Received: levels={levels!r}"
        )
    for level in levels:
        if (
            isinstance(level, bool)
            or not isinstance(level, (int, np.integer))
            or level < 2
        ):
            raise ValueError(
                "`levels` must be a non-empty sequence of integers >= 2, one per "
                f"code dimension, e.g. [8, 5, 5, 5]. Received: levels={levels!r}"
            )
    return tuple(int(level) for level in levels)


@keras.saving.register_keras_serializable(package="keras_svq")
class FiniteScalarQuantizer(ProjectedQuantizer):
    """Finite Scalar Quantization: round each code dimension to a few levels.

    The input is projected to `d = len(levels)` dimensions (when D differs),
    and dimension i is bounded to `L_i` values and rounded:

    ```
    half = (L - 1) * (1 - eps) / 2
    offset = 0.5 if L is even else 0
    shift = atanh(offset / half)
    b = tanh(z + shift) * half - offset       # in (-L/2, L/2)
    q = round(b) / (L // 2)                   # straight-through round
    ```

    The implicit codebook is the grid of all `prod(levels)` points; the index
    of a code is its mixed-radix number, `sum_i (round(b_i) + L_i // 2) *
    prod(L_j for j < i)` (the first dimension varies fastest). There is no
    codebook to learn, no auxiliary loss and no EMA state.

    Args:
        levels: sequence of int >= 2. Number of levels of each code dimension;
            the codebook size is their product. Defaults to (8, 5, 5, 5)
            (1000 codes, one of the paper's recommended settings).
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(..., D)` of rank >= 2.
        training: unused (FSQ behaves the same in training and inference).

    Input shape: `(..., D)`. Output shape: `(..., D)`. `encode` returns int32
    indices `(...)` in `[0, prod(levels))`.

    Example:

    ```python
    import numpy as np
    from keras_svq.quantizers import FiniteScalarQuantizer

    fsq = FiniteScalarQuantizer(levels=[8, 5, 5, 5])
    x = np.random.rand(2, 8, 8, 32).astype("float32")
    y = fsq(x)                          # (2, 8, 8, 32)
    indices = fsq.encode(x)             # (2, 8, 8) int32 in [0, 1000)
    ```

    Reference:
        Mentzer et al., "Finite Scalar Quantization: VQ-VAE Made Simple",
        https://arxiv.org/abs/2309.15505.
    """

    # Keeps the bound strictly inside the outermost rounding interval.
    _EPS = 1e-3

    def __init__(self, levels=(8, 5, 5, 5), **kwargs):
        super().__init__(**kwargs)
        self.levels = validate_levels(levels)
        levels = np.asarray(self.levels, dtype="float64")
        self._half_width = np.floor(levels / 2.0).astype("float32")
        half = (levels - 1.0) * (1.0 - self._EPS) / 2.0
        offset = np.where(np.asarray(self.levels) % 2 == 0, 0.5, 0.0)
        self._half = half.astype("float32")
        self._offset = offset.astype("float32")
        self._shift = np.arctanh(offset / half).astype("float32")
        self._basis = np.cumprod((1,) + self.levels[:-1]).astype("int32")

    @property
    def codebook_size(self):
        """Number of codes, `prod(levels)`."""
        return int(np.prod(self.levels))

    def _code_dim(self, input_dim):
        return len(self.levels)

    def bound(self, z):
        """Maps `z` into `(-L/2, L/2)` per dimension (before rounding)."""
        return ops.subtract(
            ops.multiply(ops.tanh(ops.add(z, self._shift)), self._half), self._offset
        )

    def _quantize(self, z, training):
        bounded = self.bound(z)
        rounded = ops.round(bounded)
        quantized = ops.divide(straight_through(bounded, rounded), self._half_width)
        digits = ops.cast(ops.add(rounded, self._half_width), "int32")
        indices = ops.sum(ops.multiply(digits, self._basis), axis=-1)
        return quantized, indices, None

    def _lookup(self, indices):
        digits = ops.mod(
            ops.floor_divide(indices[..., None], self._basis),
            np.asarray(self.levels, "int32"),
        )
        return ops.divide(
            ops.subtract(ops.cast(digits, "float32"), self._half_width),
            self._half_width,
        )

    def get_config(self):
        config = super().get_config()
        config.update({"levels": list(self.levels)})
        return config
