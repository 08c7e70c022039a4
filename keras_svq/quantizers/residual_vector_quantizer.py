"""Residual vector quantization (RVQ)."""

import keras

from keras_svq.quantizers.residual_quantizer import ResidualQuantizer
from keras_svq.quantizers.vector_quantizer import VectorQuantizer
from keras_svq.quantizers.vector_quantizer import vector_codebook_options


@keras.saving.register_keras_serializable(package="keras_svq")
class ResidualVectorQuantizer(ResidualQuantizer):
    """Residual VQ: `num_quantizers` VQ stages, each quantizing the residual.

    Stage i is a `VectorQuantizer` applied to what stages `0..i-1` left
    unexplained; the output is the sum of the stages' codes, so the
    reconstruction error shrinks as stages are added. With `shared_codebook`
    all stages use (and EMA-update) one codebook, as the reference's
    comparison config does. The commitment loss is the mean of the stages'.

    Args:
        num_quantizers: int. Number of stages. Defaults to 8.
        codebook_size: int. Codes per codebook K. Defaults to 1024.
        codebook_dim: int or None. Code dimension c; dense projections map to
            and from it when it differs from D. Defaults to None (c = D).
        shared_codebook: bool. One codebook for all stages. Defaults to False.
        quantizer_kwargs: dict or None. Further `VectorQuantizer` arguments of
            every stage, e.g. `{"decay": 0.99, "kmeans_init": True}`.
            Defaults to None.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(..., D)` of rank >= 2.
        training: bool. Updates EMA codebooks and adds the loss when True.

    Input shape: `(..., D)`. Output shape: `(..., D)`. `encode` returns int32
    indices `(..., num_quantizers)`.

    Example:

    ```python
    import numpy as np
    from keras_svq.quantizers import ResidualVectorQuantizer

    rvq = ResidualVectorQuantizer(num_quantizers=4, codebook_size=256)
    x = np.random.rand(2, 8, 8, 32).astype("float32")
    y = rvq(x, training=True)
    indices = rvq.encode(x)             # (2, 8, 8, 4)
    ```

    Reference:
        Zeghidour et al., "SoundStream: An End-to-End Neural Audio Codec",
        https://arxiv.org/abs/2107.03312.
    """

    def __init__(
        self,
        num_quantizers=8,
        codebook_size=1024,
        codebook_dim=None,
        shared_codebook=False,
        quantizer_kwargs=None,
        **kwargs,
    ):
        super().__init__(num_quantizers=num_quantizers, **kwargs)
        vector_codebook_options(
            self, codebook_size, codebook_dim, shared_codebook, quantizer_kwargs
        )
        count = 1 if self.shared_codebook else self.num_quantizers
        self.stage_layers = [
            VectorQuantizer(
                codebook_size=self.codebook_size,
                dtype="float32",
                name=f"stage_{i}",
                **self.quantizer_kwargs,
            )
            for i in range(count)
        ]
        self._stage_order = [
            0 if self.shared_codebook else i for i in range(self.num_quantizers)
        ]

    def _code_dim(self, input_dim):
        return self.codebook_dim or input_dim

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "codebook_size": self.codebook_size,
                "codebook_dim": self.codebook_dim,
                "shared_codebook": self.shared_codebook,
                "quantizer_kwargs": dict(self.quantizer_kwargs) or None,
            }
        )
        return config
