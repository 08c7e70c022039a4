"""PredRNN v2's stack: ST-LSTM cells plus the memory-decoupling loss."""

import keras
from keras import ops

from zoo.predrnn.spatiotemporal_lstm_cell import SpatioTemporalLSTMCell
from zoo.recurrent.gate_conv import GateConv
from zoo.recurrent.recurrent_stack import RecurrentStack


def _normalize(x, epsilon):
    norm = ops.sqrt(ops.sum(ops.square(x), axis=1, keepdims=True))
    return x / ops.maximum(norm, epsilon)


@keras.saving.register_keras_serializable(package="keras_svq")
class PredRNNv2Stack(RecurrentStack):
    """One time step of PredRNN v2: ST-LSTM cells and the decoupling loss.

    The cells are PredRNN's. In training, the increments `Δc` and `Δm` of
    every layer go through one shared bias-free 1x1 `adapter`, are
    L2-normalised over the frame for each channel, and their absolute cosine
    similarity (per channel, averaged) is added to the model's losses with
    weight `decoupling_weight`, averaged over the layers and the `num_steps`
    steps, as the reference's `decouple_beta * mean(decouple_loss)`.

    Args:
        hidden_dims, frame_channels, kernel_size, stride, layer_norm: see
            `RecurrentStack`.
        decoupling_weight: float. `decouple_beta`. Defaults to 0.1.
        num_steps: int. Steps per sequence, `T_in + T_out - 1`, over which the
            loss is averaged. Defaults to 1.
    """

    shared_memory = True

    def __init__(
        self,
        hidden_dims,
        frame_channels,
        kernel_size=5,
        stride=1,
        layer_norm=False,
        decoupling_weight=0.1,
        num_steps=1,
        **kwargs,
    ):
        super().__init__(
            hidden_dims, frame_channels, kernel_size, stride, layer_norm, **kwargs
        )
        if decoupling_weight < 0:
            raise ValueError(
                f"`decoupling_weight` must be >= 0. Received: decoupling_weight={decoupling_weight}"
            )
        if not isinstance(num_steps, int) or num_steps < 1:
            raise ValueError(
                f"`num_steps` must be a positive integer. Received: num_steps={num_steps!r}"
            )
        self.decoupling_weight = decoupling_weight
        self.num_steps = num_steps
        self.adapter = GateConv(
            self.hidden_dims[0], 1, dtype=self.dtype_policy, name="adapter"
        )

    def make_cell(self, index):
        return SpatioTemporalLSTMCell(return_increments=True, **self.cell_kwargs(index))

    def build(self, input_shape):
        super().build(input_shape)
        self.adapter.build(tuple(input_shape[:-1]) + (self.hidden_dims[0],))

    def decoupling_loss(self, delta_c, delta_m):
        """Mean |cosine| between the adapted increments, per channel."""

        def flat(x):
            x = ops.cast(self.adapter(x), "float32")
            return _normalize(ops.reshape(x, (ops.shape(x)[0], -1, x.shape[-1])), 1e-12)

        a, b = flat(delta_c), flat(delta_m)
        dot = ops.sum(a * b, axis=1)
        norms = ops.sqrt(ops.sum(a * a, axis=1)) * ops.sqrt(ops.sum(b * b, axis=1))
        return ops.mean(ops.abs(dot / ops.maximum(norms, 1e-8)))

    def cell_output(self, index, output, training=None):
        hidden, delta_c, delta_m = output
        if training and self.decoupling_weight:
            scale = self.decoupling_weight / (self.num_layers * self.num_steps)
            self.add_loss(scale * self.decoupling_loss(delta_c, delta_m))
        return hidden

    def torch_modules(self):
        return super().torch_modules() + [("adapter", self.adapter, "conv")]

    def get_config(self):
        return {
            **super().get_config(),
            "decoupling_weight": self.decoupling_weight,
            "num_steps": self.num_steps,
        }
