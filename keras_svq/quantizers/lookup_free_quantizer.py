"""Lookup-Free Quantization (LFQ, MAGVIT-v2)."""

import math

import keras
import numpy as np
from keras import ops

from keras_svq.quantizers.projected_quantizer import ProjectedQuantizer
from keras_svq.quantizers.projected_quantizer import _non_negative_float
from keras_svq.quantizers.projected_quantizer import straight_through


def _entropy(probs):
    return -ops.sum(probs * ops.log(ops.maximum(probs, 1e-5)), axis=-1)


@keras.saving.register_keras_serializable(package="keras_svq")
class LookupFreeQuantizer(ProjectedQuantizer):
    """Lookup-Free Quantization: the sign of each of `log2(K)` code dimensions.

    The input is projected to `b = log2(codebook_size)` dimensions (when D
    differs) and each is quantized to its sign, `q_i = +1 if z_i > 0 else -1`,
    with a straight-through gradient. The code index is the binary number
    `sum_i [z_i > 0] * 2**i` (dimension 0 is the least significant bit). The
    implicit codebook is `{-1, +1}^b`; there is no lookup and no EMA state.

    In training the auxiliary loss is

    ```
    p = softmax(2 * inverse_temperature * z @ codes^T)      # (N, K)
    entropy_loss = mean_n H(p_n) - diversity_gamma * H(mean_n p_n)
    loss = entropy_loss_weight * entropy_loss
         + commitment_weight * mean((z - stop_gradient(q))**2)
    ```

    which makes each assignment confident and the codebook evenly used.
    Computing it costs `O(N * K)`; keep K moderate.

    Args:
        codebook_size: int, a power of two >= 2. Number of codes K. Defaults to
            1024 (10 bits).
        entropy_loss_weight: float. Defaults to 0.1.
        commitment_weight: float. Defaults to 0.25.
        diversity_gamma: float. Weight of the codebook (batch) entropy.
            Defaults to 1.
        inverse_temperature: float. Sharpness of the soft assignments of the
            entropy loss. Defaults to 100.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(..., D)` of rank >= 2.
        training: bool. Adds the auxiliary loss when True.

    Input shape: `(..., D)`. Output shape: `(..., D)`. `encode` returns int32
    indices `(...)` in `[0, K)`.

    Example:

    ```python
    import numpy as np
    from keras_svq.quantizers import LookupFreeQuantizer

    lfq = LookupFreeQuantizer(codebook_size=256)
    x = np.random.rand(2, 8, 8, 32).astype("float32")
    y = lfq(x, training=True)           # adds entropy + commitment losses
    indices = lfq.encode(x)             # (2, 8, 8) int32 in [0, 256)
    ```

    Reference:
        Yu et al., "Language Model Beats Diffusion -- Tokenizer is Key to
        Visual Generation", https://arxiv.org/abs/2310.05737.
    """

    def __init__(
        self,
        codebook_size=1024,
        entropy_loss_weight=0.1,
        commitment_weight=0.25,
        diversity_gamma=1.0,
        inverse_temperature=100.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if (
            isinstance(codebook_size, bool)
            or not isinstance(codebook_size, int)
            or codebook_size < 2
            or codebook_size & (codebook_size - 1)
        ):
            raise ValueError(
                "`codebook_size` must be a power of two >= 2 (one bit per code "
                f"dimension). Received: codebook_size={codebook_size!r}"
            )
        self.codebook_size = codebook_size
        self.num_bits = int(math.log2(codebook_size))
        self.entropy_loss_weight = _non_negative_float(
            entropy_loss_weight, "entropy_loss_weight"
        )
        self.commitment_weight = _non_negative_float(
            commitment_weight, "commitment_weight"
        )
        self.diversity_gamma = _non_negative_float(diversity_gamma, "diversity_gamma")
        self.inverse_temperature = _non_negative_float(
            inverse_temperature, "inverse_temperature"
        )
        self._bit_values = (2 ** np.arange(self.num_bits)).astype("int32")
        # The code values are +-scale; a residual LFQ scales its stage i by
        # 2**-i (`ResidualLookupFreeQuantizer`), the reference's `codebook_scale`.
        self._codebook_scale = 1.0

    def _code_dim(self, input_dim):
        return self.num_bits

    def codes(self):
        """The implicit codebook `(K, b)` of +-1 codes, row k the code of index k."""
        bits = (np.arange(self.codebook_size)[:, None] >> np.arange(self.num_bits)) & 1
        codes = (2.0 * bits - 1.0) * self._codebook_scale
        return ops.convert_to_tensor(codes, dtype="float32")

    def _quantize(self, z, training):
        positive = z > 0
        scale = self._codebook_scale
        quantized = ops.where(positive, scale, -scale)
        indices = ops.sum(
            ops.multiply(ops.cast(positive, "int32"), self._bit_values), axis=-1
        )
        loss = None
        if training:
            commitment = ops.mean(ops.square(z - ops.stop_gradient(quantized)))
            loss = self.commitment_weight * commitment
            if self.entropy_loss_weight > 0:
                loss = loss + self.entropy_loss_weight * self._entropy_loss(z)
        return straight_through(z, quantized), indices, loss

    def _entropy_loss(self, z):
        flat = ops.reshape(z, (-1, self.num_bits))
        logits = (
            2.0
            * self.inverse_temperature
            * ops.matmul(flat, ops.transpose(self.codes()))
        )
        probs = ops.softmax(logits, axis=-1)
        per_sample = ops.mean(_entropy(probs))
        codebook = _entropy(ops.mean(probs, axis=0))
        return per_sample - self.diversity_gamma * codebook

    def _lookup(self, indices):
        bits = ops.mod(ops.floor_divide(indices[..., None], self._bit_values), 2)
        return (2.0 * ops.cast(bits, "float32") - 1.0) * self._codebook_scale

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "codebook_size": self.codebook_size,
                "entropy_loss_weight": self.entropy_loss_weight,
                "commitment_weight": self.commitment_weight,
                "diversity_gamma": self.diversity_gamma,
                "inverse_temperature": self.inverse_temperature,
            }
        )
        return config
