"""TAU's temporal attention block."""

import keras
from keras import ops

from keras_svq.initializers import TorchUniform
from zoo.translators.gsta_block import GatedSpatialAttention
from zoo.translators.gsta_block import GSTABlock
from zoo.translators.translator_registry import register_meta_block


@keras.saving.register_keras_serializable(package="keras_svq")
class TemporalAttention(GatedSpatialAttention):
    """TAU's attention: large-kernel (intra-frame) times squeeze-excite (inter-frame).

    `u = GELU(1x1(x))`; the output is `1x1(se(u) · lka(u) · u) + x`, where
    `lka` is the decomposed large-kernel conv followed by a 1x1 conv and `se`
    is `sigmoid(W2 · relu(W1 · mean_hw(u)))` with bias-free linears of width
    `C // r`, `r = max(C // 16, 4)`.

    Args:
        kernel_size: int. Defaults to 21.
        dilation: int. Defaults to 3.
        reduction: int. Squeeze ratio before the `max(C // reduction, 4)`
            rule. Defaults to 16.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
    """

    def __init__(self, kernel_size=21, dilation=3, reduction=16, **kwargs):
        super().__init__(kernel_size, dilation, **kwargs)
        self.reduction = reduction

    def _gating_output_dim(self, dim):
        return dim

    def build(self, input_shape):
        super().build(input_shape)
        dim = input_shape[-1]
        squeezed = dim // max(dim // self.reduction, 4)
        # The reference replaces the attention after its block's init ran,
        # so these layers keep torch's default (kaiming-uniform) init.
        self.fc1 = keras.layers.Dense(
            squeezed,
            use_bias=False,
            kernel_initializer=TorchUniform(),
            dtype=self.dtype_policy,
            name="fc1",
        )
        self.fc2 = keras.layers.Dense(
            dim,
            use_bias=False,
            kernel_initializer=TorchUniform(),
            dtype=self.dtype_policy,
            name="fc2",
        )
        self.fc1.build((None, dim))
        self.fc2.build((None, squeezed))
        self.built = True

    def _gate(self, u):
        f = self.conv1(self.conv_spatial(self.conv0(u)))
        se = ops.mean(u, axis=(1, 2))
        se = ops.sigmoid(self.fc2(ops.relu(self.fc1(se))))
        return se[:, None, None, :] * f * u

    def get_config(self):
        return {**super().get_config(), "reduction": self.reduction}


@keras.saving.register_keras_serializable(package="keras_svq")
class TAUBlock(GSTABlock):
    """The Temporal Attention Unit block (OpenSTL's `TAUSubBlock`).

    A gSTA block whose attention is `TemporalAttention`: statical (large
    kernel, within a frame) and dynamical (squeeze-excite over channels,
    i.e. across the frames stacked in C) attention multiplied together.

    Args:
        kernel_size: int. Defaults to 21.
        mlp_ratio: float. Defaults to 4.0.
        drop_rate: float. Defaults to 0.0.
        drop_path_rate: float. Defaults to 0.1.
        layer_scale_init_value: float. Defaults to 1e-2.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.
        training: bool.

    Example:

    ```python
    y = TAUBlock(mlp_ratio=8.0)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Tan et al., "Temporal Attention Unit: Towards Efficient
        Spatiotemporal Predictive Learning", https://arxiv.org/abs/2206.12126
    """

    attention_class = TemporalAttention


def _tau_factory(*, mlp_ratio, drop_rate, drop_path_rate, name, dtype=None, **unused):
    return TAUBlock(
        kernel_size=21,
        mlp_ratio=mlp_ratio,
        drop_rate=drop_rate,
        drop_path_rate=drop_path_rate,
        name=name,
        dtype=dtype,
    )


register_meta_block("tau", _tau_factory)
