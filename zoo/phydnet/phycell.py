"""PhyDNet's physically constrained cell."""

import math

import keras
import numpy as np
from keras import ops

from zoo.recurrent.gate_conv import GateConv
from zoo.recurrent.recurrent_cell import RecurrentCell


def moment_matrix(size):
    """`M[i, j] = (j - (size - 1) // 2)**i / i!`: kernel -> moments, `m = M k M^T`."""
    offsets = np.arange(size) - (size - 1) // 2
    return np.stack(
        [offsets.astype("float64") ** i / math.factorial(i) for i in range(size)]
    )


@keras.saving.register_keras_serializable(package="keras_svq")
class PhyCell(RecurrentCell):
    """PhyCell: a learned PDE step, corrected by the observation (a Kalman-like gain).

    `h~ = h + Φ(h)` with `Φ = conv2(GroupNorm(conv1(h)))` (a `kernel_size`
    conv to `kernel_size**2` channels, GroupNorm with 7 groups, a 1x1 conv
    back); the gain `K = σ(convgate([x, h]))` (3x3) corrects it:
    `h' = h~ + K·(x - h~)`. `moment_loss()` is the paper's moment constraint:
    the moments `M k M^T` of each input channel's `conv1` kernels should be
    the identity basis (kernel `n` has moment `n` and no other), as the
    `k2m` loss of the reference, summed over input channels.

    Args:
        hidden_dim: int. Channels of `x` and `h` (`input_dim`, 64).
        kernel_size: int. Kernel of `conv1` (7; `F_hidden_dim = 49`).
            Defaults to 7.

    Call arguments:
        inputs: `(B, H, W, hidden_dim)`.
        states: `[h]`.

    Returns:
        `(h', [h'])`.

    Reference:
        Le Guen and Thome, "Disentangling Physical Dynamics from Unknown
        Factors for Unsupervised Video Prediction", CVPR 2020,
        https://arxiv.org/abs/2003.01460
    """

    def __init__(self, hidden_dim, kernel_size=7, **kwargs):
        for key in ("stride", "layer_norm"):
            kwargs.pop(key, None)
        super().__init__(hidden_dim, kernel_size, **kwargs)
        physics_dim = kernel_size * kernel_size
        if physics_dim % 7:
            raise ValueError(
                "`kernel_size**2` must be a multiple of 7 (GroupNorm with 7 groups). "
                f"Received: kernel_size={kernel_size}"
            )
        dtype = self.dtype_policy
        self.conv1 = GateConv(
            physics_dim, kernel_size, use_bias=True, dtype=dtype, name="conv1"
        )
        self.norm = keras.layers.GroupNormalization(
            7, epsilon=1e-5, dtype=dtype, name="norm"
        )
        self.conv2 = GateConv(hidden_dim, 1, use_bias=True, dtype=dtype, name="conv2")
        self.convgate = GateConv(
            hidden_dim, 3, use_bias=True, dtype=dtype, name="convgate"
        )
        self.moments = moment_matrix(kernel_size).astype("float32")

    @property
    def state_size(self):
        return [self.hidden_dim]

    def build(self, input_shape, states_shape=None):
        hidden = self.with_channels(input_shape, self.hidden_dim)
        self.conv1.build(hidden)
        self.norm.build(self.with_channels(input_shape, self.kernel_size**2))
        self.conv2.build(self.with_channels(input_shape, self.kernel_size**2))
        self.convgate.build(self.with_channels(input_shape, 2 * self.hidden_dim))

    def call(self, inputs, states, training=None):
        (h,) = states
        gain = ops.sigmoid(self.convgate(ops.concatenate([inputs, h], axis=-1)))
        predicted = h + self.conv2(self.norm(self.conv1(h)))
        h_new = predicted + gain * (inputs - predicted)
        return h_new, [h_new]

    def moment_loss(self):
        """`Σ_c MSE(M k_c M^T, identity basis)` over the input channels c of `conv1`."""
        kernel = ops.cast(self.conv1.conv.kernel, "float32")  # (k, k, C_in, k*k)
        moments = ops.convert_to_tensor(self.moments)
        m = ops.einsum("ap,bq,pqcn->cnab", moments, moments, kernel)
        size = self.kernel_size
        target = ops.reshape(
            ops.eye(size * size, dtype="float32"), (1, size * size, size, size)
        )
        return ops.sum(ops.mean(ops.square(m - target), axis=(1, 2, 3)))

    def torch_modules(self):
        return [
            ("F.conv1", self.conv1, "conv"),
            ("F.bn1", self.norm, "group_norm"),
            ("F.conv2", self.conv2, "conv"),
            ("convgate", self.convgate, "conv"),
        ]

    def get_config(self):
        config = super().get_config()
        for key in ("stride", "layer_norm"):
            config.pop(key)
        return config
