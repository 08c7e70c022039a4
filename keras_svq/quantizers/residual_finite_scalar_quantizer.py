"""Residual finite scalar quantization."""

import keras
import numpy as np

from keras_svq.quantizers.finite_scalar_quantizer import FiniteScalarQuantizer
from keras_svq.quantizers.finite_scalar_quantizer import validate_levels
from keras_svq.quantizers.residual_quantizer import ResidualQuantizer


@keras.saving.register_keras_serializable(package="keras_svq")
class ResidualFiniteScalarQuantizer(ResidualQuantizer):
    """Residual FSQ: `num_quantizers` FSQ stages on ever finer grids.

    The input is projected to `len(levels)` dimensions (when D differs) and
    bounded as FSQ bounds it (`FiniteScalarQuantizer.bound`); stage i then
    quantizes the residual on the FSQ grid scaled by `(L - 1) ** -i` per
    dimension (`q_i = s_i * FSQ(r_i / s_i)`), so every stage refines the
    previous one's rounding error. As in vector-quantize-pytorch 1.12.5 (the
    reference's implementation), the residual starts from the bounded input,
    in `(-L/2, L/2)`, while the codes are in `[-1, 1]`. No auxiliary loss, no
    learned codebook.

    Args:
        levels: sequence of int >= 2. FSQ levels of every stage. Defaults to
            (8, 5, 5, 3) (the reference's comparison config).
        num_quantizers: int. Number of stages. Defaults to 8.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(..., D)` of rank >= 2.
        training: unused.

    Input shape: `(..., D)`. Output shape: `(..., D)`. `encode` returns int32
    indices `(..., num_quantizers)`, each in `[0, prod(levels))`.

    Example:

    ```python
    import numpy as np
    from keras_svq.quantizers import ResidualFiniteScalarQuantizer

    rfsq = ResidualFiniteScalarQuantizer(levels=[8, 5, 5, 3], num_quantizers=4)
    x = np.random.rand(2, 8, 8, 32).astype("float32")
    indices = rfsq.encode(x)            # (2, 8, 8, 4)
    ```

    Reference:
        Mentzer et al., "Finite Scalar Quantization: VQ-VAE Made Simple",
        https://arxiv.org/abs/2309.15505; residual scheme of Zeghidour et al.,
        https://arxiv.org/abs/2107.03312.
    """

    def __init__(self, levels=(8, 5, 5, 3), num_quantizers=8, **kwargs):
        super().__init__(num_quantizers=num_quantizers, **kwargs)
        self.levels = validate_levels(levels)
        self.stage_layers = [
            FiniteScalarQuantizer(
                levels=self.levels, dtype="float32", name=f"stage_{i}"
            )
            for i in range(self.num_quantizers)
        ]
        self._stage_order = list(range(self.num_quantizers))
        self._scale_base = np.asarray(self.levels, dtype="float32") - 1.0

    def _code_dim(self, input_dim):
        return len(self.levels)

    def _quantize(self, z, training):
        return super()._quantize(self.stage_layers[0].bound(z), training)

    def _stage_scale(self, index):
        return (self._scale_base ** -float(index)).astype("float32") if index else None

    def get_config(self):
        config = super().get_config()
        config.update({"levels": list(self.levels)})
        return config
