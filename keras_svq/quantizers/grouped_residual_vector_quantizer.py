"""Grouped residual vector quantization (GRVQ)."""

import keras
from keras import ops

from keras_svq.quantizers.projected_quantizer import ProjectedQuantizer
from keras_svq.quantizers.projected_quantizer import _positive_int
from keras_svq.quantizers.projected_quantizer import mean_loss
from keras_svq.quantizers.residual_vector_quantizer import ResidualVectorQuantizer
from keras_svq.quantizers.vector_quantizer import vector_codebook_options


@keras.saving.register_keras_serializable(package="keras_svq")
class GroupedResidualVectorQuantizer(ProjectedQuantizer):
    """Grouped residual VQ: the D channels split into groups, one RVQ per group.

    The input's last axis is split into `groups` equal slices of `D / groups`
    channels; each slice is quantized by its own `ResidualVectorQuantizer`
    (own codebooks; `shared_codebook` shares a codebook between the stages of
    one group), and the slices are concatenated back. The loss is the mean of
    all groups' stage losses.

    Args:
        groups: int. Number of groups; must divide D. Defaults to 2.
        num_quantizers: int. Residual stages per group. Defaults to 8.
        codebook_size: int. Codes per codebook K. Defaults to 1024.
        codebook_dim: int or None. Code dimension of each group's RVQ (with
            projections from `D / groups`). Defaults to None (`D / groups`).
        shared_codebook: bool. One codebook for the stages of a group.
            Defaults to False.
        quantizer_kwargs: dict or None. Further `VectorQuantizer` arguments of
            every stage. Defaults to None.
        **kwargs: standard `keras.layers.Layer` arguments.

    Call arguments:
        inputs: float tensor `(..., D)` of rank >= 2.
        training: bool. Updates EMA codebooks and adds the loss when True.

    Input shape: `(..., D)`. Output shape: `(..., D)`. `encode` returns int32
    indices `(..., groups, num_quantizers)`.

    Example:

    ```python
    import numpy as np
    from keras_svq.quantizers import GroupedResidualVectorQuantizer

    grvq = GroupedResidualVectorQuantizer(groups=2, num_quantizers=4,
                                          codebook_size=256)
    x = np.random.rand(2, 8, 8, 32).astype("float32")
    indices = grvq.encode(x)            # (2, 8, 8, 2, 4)
    ```

    Reference:
        Yang et al., "HiFi-Codec: Group-residual Vector quantization for High
        Fidelity Audio Codec", https://arxiv.org/abs/2305.02765.
    """

    def __init__(
        self,
        groups=2,
        num_quantizers=8,
        codebook_size=1024,
        codebook_dim=None,
        shared_codebook=False,
        quantizer_kwargs=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.groups = _positive_int(groups, "groups")
        self.num_quantizers = _positive_int(num_quantizers, "num_quantizers")
        vector_codebook_options(
            self, codebook_size, codebook_dim, shared_codebook, quantizer_kwargs
        )
        self.group_layers = [
            ResidualVectorQuantizer(
                num_quantizers=self.num_quantizers,
                codebook_size=self.codebook_size,
                codebook_dim=self.codebook_dim,
                shared_codebook=self.shared_codebook,
                quantizer_kwargs=self.quantizer_kwargs or None,
                dtype="float32",
                name=f"group_{g}",
            )
            for g in range(self.groups)
        ]

    def _build_codes(self, code_dim):
        if code_dim % self.groups:
            raise ValueError(
                "`groups` must divide the input's last axis D. Received: "
                f"groups={self.groups} for D={code_dim}"
            )
        for layer in self.group_layers:
            layer.build((None, code_dim // self.groups))

    def _quantize(self, z, training):
        outputs, all_indices, losses = [], [], []
        for layer, part in zip(self.group_layers, ops.split(z, self.groups, axis=-1)):
            q, indices, loss = layer._forward(part, training)
            outputs.append(q)
            all_indices.append(indices)
            losses.append(loss)
        return (
            ops.concatenate(outputs, axis=-1),
            ops.stack(all_indices, axis=-2),
            mean_loss(losses),
        )

    def _lookup(self, indices):
        return ops.concatenate(
            [
                layer._from_code_space(layer._lookup(indices[..., g, :]))
                for g, layer in enumerate(self.group_layers)
            ],
            axis=-1,
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "groups": self.groups,
                "num_quantizers": self.num_quantizers,
                "codebook_size": self.codebook_size,
                "codebook_dim": self.codebook_dim,
                "shared_codebook": self.shared_codebook,
                "quantizer_kwargs": dict(self.quantizer_kwargs) or None,
            }
        )
        return config
