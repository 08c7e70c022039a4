"""PredRNN++'s gradient highway unit."""

import keras
from keras import ops

from zoo.recurrent.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="keras_svq")
class GradientHighwayUnit(RecurrentCell):
    """GHU: a gated shortcut state `z` between the first two layers.

    `[p, u] = x_concat(x) + z_concat(z)`;
    `z' = σ(u)·tanh(p) + (1 - σ(u))·z`. The gate convs start from
    `U(-initializer_range, initializer_range)`, as in the reference.
    (The reference's layer-norm variant normalises `hidden_dim` channels of a
    `2·hidden_dim` map and cannot run; here the norm covers the whole map.)

    Args:
        hidden_dim, kernel_size, stride, layer_norm: see `RecurrentCell`.
        initializer_range: float. Defaults to 0.001.

    Call arguments:
        inputs: `(B, H, W, C_in)`.
        states: `[z]`.

    Returns:
        `(z', [z'])`.

    Reference:
        Wang et al., "PredRNN++", https://arxiv.org/abs/1804.06300
    """

    def __init__(
        self,
        hidden_dim,
        kernel_size=5,
        stride=1,
        layer_norm=False,
        initializer_range=0.001,
        **kwargs,
    ):
        super().__init__(hidden_dim, kernel_size, stride, layer_norm, **kwargs)
        if initializer_range <= 0:
            raise ValueError(
                f"`initializer_range` must be > 0. Received: initializer_range={initializer_range}"
            )
        self.initializer_range = initializer_range
        init = keras.initializers.RandomUniform(-initializer_range, initializer_range)
        self.z_concat = self.gate_conv("z_concat", 2, kernel_initializer=init)
        self.x_concat = self.gate_conv("x_concat", 2, kernel_initializer=init)

    @property
    def state_size(self):
        return [self.hidden_dim]

    def build(self, input_shape, states_shape=None):
        self.z_concat.build(self.with_channels(input_shape, self.hidden_dim))
        self.x_concat.build(input_shape)

    def call(self, inputs, states, training=None):
        (z,) = states
        p, u = self.split_gates(self.x_concat(inputs) + self.z_concat(z), 2)
        u = ops.sigmoid(u)
        z_new = u * ops.tanh(p) + (1.0 - u) * z
        return z_new, [z_new]

    def get_config(self):
        return {**super().get_config(), "initializer_range": self.initializer_range}
