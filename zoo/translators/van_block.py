"""The Visual Attention Network (VAN) block as a SimVP translator block."""

import keras

from zoo.translators.gsta_block import GatedSpatialAttention
from zoo.translators.gsta_block import GSTABlock
from zoo.translators.translator_registry import register_meta_block


@keras.saving.register_keras_serializable(package="keras_svq")
class LargeKernelAttention(GatedSpatialAttention):
    """VAN's attention: the input multiplied by a large-kernel conv of itself.

    `u = GELU(1x1(x))`, output `1x1(u · 1x1(dilated_dw(dw(u)))) + x`. The
    decomposed kernel is gSTA's (a 5x5 depthwise conv and a 7x7 depthwise
    conv with dilation 3 for `kernel_size=21`), but the 1x1 conv after it
    keeps the width and the input `u` itself is the gate.

    Args:
        kernel_size: int. Receptive field of the decomposed large kernel.
            Defaults to 21.
        dilation: int. Defaults to 3.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.

    Reference:
        Guo et al., "Visual Attention Network", https://arxiv.org/abs/2202.09741
    """

    def _gating_output_dim(self, dim):
        return dim

    def _gate(self, u):
        return u * self.conv1(self.conv_spatial(self.conv0(u)))


@keras.saving.register_keras_serializable(package="keras_svq")
class VANBlock(GSTABlock):
    """The VAN block (OpenSTL's `VANSubBlock`).

    ```
    x = x + drop_path(ls1 · large_kernel_attention(BN(x)))
    x = x + drop_path(ls2 · mix_mlp(BN(x)))
    ```

    The gSTA block's layout, initialisation and layer scales (1e-2) with
    `LargeKernelAttention` as its attention.

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
    y = VANBlock(mlp_ratio=8.0)(np.zeros((2, 8, 8, 32)))
    ```

    Reference:
        Guo et al., "Visual Attention Network", https://arxiv.org/abs/2202.09741
    """

    attention_class = LargeKernelAttention


def _van_factory(*, mlp_ratio, drop_rate, drop_path_rate, name, dtype=None, **unused):
    return VANBlock(
        kernel_size=21,
        mlp_ratio=mlp_ratio,
        drop_rate=drop_rate,
        drop_path_rate=drop_path_rate,
        name=name,
        dtype=dtype,
    )


register_meta_block("van", _van_factory)
