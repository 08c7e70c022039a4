"""Residual lookup-free quantization."""

import keras

from keras_svq.quantizers.lookup_free_quantizer import LookupFreeQuantizer
from keras_svq.quantizers.residual_quantizer import ResidualQuantizer
from keras_svq.quantizers.residual_quantizer import quantizer_kwargs_or_empty

_RESERVED = ("codebook_size", "name", "dtype")


@keras.saving.register_keras_serializable(package="keras_svq")
class ResidualLookupFreeQuantizer(ResidualQuantizer):
    """Residual LFQ: `num_quantizers` sign quantizers at halving scales.

    The input is projected to `log2(codebook_size)` dimensions (when D
    differs). Stage i quantizes the residual to `+-2**-i` per dimension (the
    sign of the residual times `2**-i`), a binary expansion of the code
    vector, as the reference's `codebook_scale`. The loss is the mean of the
    stages' LFQ losses (entropy against the stage's scaled codes, and
    commitment to them).

    Args:
        codebook_size: int, a power of two. Codes per stage K. Defaults to 256.
        num_quantizers: int. Number of stages. Defaults to 8.
        quantizer_kwargs: dict or None. Further `LookupFreeQuantizer`
            arguments of every stage (`entropy_loss_weight`,
            `commitment_weight`, `diversity_gamma`, `inverse_temperature`).
            Defaults to None.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(..., D)` of rank >= 2.
        training: bool. Adds the loss when True.

    Input shape: `(..., D)`. Output shape: `(..., D)`. `encode` returns int32
    indices `(..., num_quantizers)`, each in `[0, K)`.

    Example:

    ```python
    import numpy as np
    from keras_svq.quantizers import ResidualLookupFreeQuantizer

    rlfq = ResidualLookupFreeQuantizer(codebook_size=256, num_quantizers=4)
    x = np.random.rand(2, 8, 8, 32).astype("float32")
    indices = rlfq.encode(x)            # (2, 8, 8, 4)
    ```

    Reference:
        Yu et al., "Language Model Beats Diffusion -- Tokenizer is Key to
        Visual Generation", https://arxiv.org/abs/2310.05737; residual scheme
        of Zeghidour et al., https://arxiv.org/abs/2107.03312.
    """

    def __init__(
        self, codebook_size=256, num_quantizers=8, quantizer_kwargs=None, **kwargs
    ):
        super().__init__(num_quantizers=num_quantizers, **kwargs)
        self.quantizer_kwargs = quantizer_kwargs_or_empty(
            quantizer_kwargs, _RESERVED, LookupFreeQuantizer
        )
        self.stage_layers = [
            LookupFreeQuantizer(
                codebook_size=codebook_size,
                dtype="float32",
                name=f"stage_{i}",
                **self.quantizer_kwargs,
            )
            for i in range(self.num_quantizers)
        ]
        for index, stage in enumerate(self.stage_layers):
            stage._codebook_scale = 2.0**-index
        self.codebook_size = codebook_size
        self._stage_order = list(range(self.num_quantizers))

    def _code_dim(self, input_dim):
        return self.stage_layers[0].num_bits

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "codebook_size": self.codebook_size,
                "quantizer_kwargs": dict(self.quantizer_kwargs) or None,
            }
        )
        return config
