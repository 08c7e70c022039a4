"""Multi-head vector quantization."""

import keras
from keras import ops

from keras_svq.quantizers.projected_quantizer import ProjectedQuantizer
from keras_svq.quantizers.projected_quantizer import _positive_int
from keras_svq.quantizers.projected_quantizer import mean_loss
from keras_svq.quantizers.vector_quantizer import VectorQuantizer
from keras_svq.quantizers.vector_quantizer import vector_codebook_options


@keras.saving.register_keras_serializable(package="keras_svq")
class MultiHeadVectorQuantizer(ProjectedQuantizer):
    """Multi-head VQ: each vector projected to `num_heads` codes quantized apart.

    The input is projected to `num_heads * c` dimensions (when that differs
    from D), split into `num_heads` vectors of dimension c, each replaced by
    its nearest code, and projected back. The heads share one codebook
    (`shared_codebook=True`, the reference's `separate_codebook_per_head=
    False`) or each has its own.

    Args:
        num_heads: int. Number of heads. Defaults to 8.
        codebook_size: int. Codes per codebook K. Defaults to 1024.
        codebook_dim: int or None. Code dimension c of each head. Defaults to
            None (c = D, as the reference).
        shared_codebook: bool. One codebook for all heads. Defaults to True.
        quantizer_kwargs: dict or None. Further `VectorQuantizer` arguments
            (`decay`, `commitment_weight`...). Defaults to None.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(..., D)` of rank >= 2.
        training: bool. Updates EMA codebooks and adds the loss when True.

    Input shape: `(..., D)`. Output shape: `(..., D)`. `encode` returns int32
    indices `(..., num_heads)`.

    Example:

    ```python
    import numpy as np
    from keras_svq.quantizers import MultiHeadVectorQuantizer

    mhvq = MultiHeadVectorQuantizer(num_heads=4, codebook_size=256)
    x = np.random.rand(2, 8, 8, 32).astype("float32")
    indices = mhvq.encode(x)            # (2, 8, 8, 4)
    ```

    Reference:
        van den Oord et al., "Neural Discrete Representation Learning",
        https://arxiv.org/abs/1711.00937 (multi-head codes as in
        vector-quantize-pytorch's `heads`).
    """

    def __init__(
        self,
        num_heads=8,
        codebook_size=1024,
        codebook_dim=None,
        shared_codebook=True,
        quantizer_kwargs=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_heads = _positive_int(num_heads, "num_heads")
        vector_codebook_options(
            self, codebook_size, codebook_dim, shared_codebook, quantizer_kwargs
        )
        count = 1 if self.shared_codebook else self.num_heads
        self.head_layers = [
            VectorQuantizer(
                codebook_size=self.codebook_size,
                dtype="float32",
                name=f"head_{h}",
                **self.quantizer_kwargs,
            )
            for h in range(count)
        ]

    def _code_dim(self, input_dim):
        return self.num_heads * (self.codebook_dim or input_dim)

    def _build_codes(self, code_dim):
        self.head_dim = code_dim // self.num_heads
        for layer in self.head_layers:
            layer.build((None, self.head_dim))

    def _split_heads(self, z):
        return ops.reshape(z, ops.shape(z)[:-1] + (self.num_heads, self.head_dim))

    def _merge_heads(self, q):
        return ops.reshape(q, ops.shape(q)[:-2] + (self.num_heads * self.head_dim,))

    def _quantize(self, z, training):
        heads = self._split_heads(z)
        if self.shared_codebook:
            q, indices, loss = self.head_layers[0]._quantize(heads, training)
            return self._merge_heads(q), indices, loss
        results = [
            layer._quantize(heads[..., h, :], training)
            for h, layer in enumerate(self.head_layers)
        ]
        q = ops.stack([r[0] for r in results], axis=-2)
        indices = ops.stack([r[1] for r in results], axis=-1)
        return self._merge_heads(q), indices, mean_loss([r[2] for r in results])

    def _lookup(self, indices):
        if self.shared_codebook:
            q = self.head_layers[0]._lookup(indices)
        else:
            q = ops.stack(
                [
                    layer._lookup(indices[..., h])
                    for h, layer in enumerate(self.head_layers)
                ],
                axis=-2,
            )
        return self._merge_heads(q)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "codebook_size": self.codebook_size,
                "codebook_dim": self.codebook_dim,
                "shared_codebook": self.shared_codebook,
                "quantizer_kwargs": dict(self.quantizer_kwargs) or None,
            }
        )
        return config
