"""The residual scheme shared by RVQ, residual FSQ and residual LFQ."""

import inspect

import numpy as np
from keras import ops

from keras_svq.quantizers.projected_quantizer import ProjectedQuantizer
from keras_svq.quantizers.projected_quantizer import _positive_int
from keras_svq.quantizers.projected_quantizer import mean_loss


class ResidualQuantizer(ProjectedQuantizer):
    """Base of residual quantizers: each stage quantizes what the previous left.

    In code space (after the optional projection to `c` dimensions):

    ```
    r_0 = z
    q_i = s_i * stage_i(r_i / s_i)          # s_i: the stage's scale
    r_{i+1} = r_i - stop_gradient(q_i)
    q = sum_i q_i
    ```

    Each stage gets its gradient through its own straight-through estimator,
    and the auxiliary loss is the mean of the stages' losses (the reference
    averages the stacked per-stage losses). Indices are stacked on a last
    axis of size `num_quantizers`.

    Subclasses set `self.stage_layers` (the distinct stage quantizers, created
    in `__init__`) and `self._stage_order` (which of them runs at each stage,
    so that stages can share one quantizer), and may override
    `_stage_scale(index)`.
    """

    def __init__(self, num_quantizers=8, **kwargs):
        super().__init__(**kwargs)
        self.num_quantizers = _positive_int(num_quantizers, "num_quantizers")

    def _stage_scale(self, index):
        """Scale `s_i` of stage `index` (a float or a `(c,)` array), or None."""
        return None

    def _stages(self):
        for index, layer_index in enumerate(self._stage_order):
            yield self.stage_layers[layer_index], self._stage_scale(index)

    def _build_codes(self, code_dim):
        for layer in self.stage_layers:
            layer.build((None, code_dim))

    def _quantize(self, z, training):
        residual = z
        quantized = ops.zeros_like(z)
        all_indices, losses = [], []
        for stage, scale in self._stages():
            stage_input = residual if scale is None else ops.divide(residual, scale)
            q, indices, loss = stage._quantize(stage_input, training)
            if scale is not None:
                q = ops.multiply(q, scale)
            residual = residual - ops.stop_gradient(q)
            quantized = quantized + q
            all_indices.append(indices)
            losses.append(loss)
        return quantized, ops.stack(all_indices, axis=-1), mean_loss(losses)

    def _lookup(self, indices):
        quantized = None
        for index, (stage, scale) in enumerate(self._stages()):
            q = stage._lookup(indices[..., index])
            if scale is not None:
                q = ops.multiply(q, scale)
            quantized = q if quantized is None else quantized + q
        return quantized

    def get_config(self):
        config = super().get_config()
        config.update({"num_quantizers": self.num_quantizers})
        return config


def quantizer_kwargs_or_empty(quantizer_kwargs, reserved, stage_cls):
    """Validates the dict of extra arguments a quantizer forwards to its stages."""
    owner = stage_cls.__name__
    if quantizer_kwargs is None:
        return {}
    if not isinstance(quantizer_kwargs, dict):
        raise ValueError(
            f"`quantizer_kwargs` must be a dict of {owner} arguments or None. "
            f"Received: quantizer_kwargs={quantizer_kwargs!r}"
        )
    accepted = set(inspect.signature(stage_cls.__init__).parameters) - {
        "self",
        "kwargs",
    }
    unknown = sorted(set(quantizer_kwargs) - accepted)
    if unknown:
        raise ValueError(
            f"`quantizer_kwargs` has keys that {owner} does not accept: {unknown}. "
            f"Valid keys: {sorted(accepted - set(reserved))}. "
            f"Received: quantizer_kwargs={quantizer_kwargs!r}"
        )
    clash = sorted(set(quantizer_kwargs) & set(reserved))
    if clash:
        raise ValueError(
            f"`quantizer_kwargs` cannot set {clash}: they are arguments of the "
            f"outer quantizer itself. Received: quantizer_kwargs={quantizer_kwargs!r}"
        )
    return dict(quantizer_kwargs)


def as_scale(values):
    return np.asarray(values, dtype="float32")
