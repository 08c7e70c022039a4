"""SimVP v1's grouped Inception block (`gInception_ST`)."""

import keras

from keras_svq.initializers import TorchUniform
from keras_svq.layers import ConvNormAct


@keras.saving.register_keras_serializable(package="keras_svq")
class IncepUBlock(keras.layers.Layer):
    """A 1x1 conv, then the sum of parallel grouped convs of several sizes.

    `y = Σ_k LeakyReLU_0.2(GroupNorm_g(GroupConv_k(conv1x1(x))))` over
    `kernel_sizes`, with `g = groups` (or 1 when `hidden_dim` is not
    divisible by `groups`, as in the reference).

    Args:
        hidden_dim: int. Width after the 1x1 conv.
        output_dim: int. Output width.
        kernel_sizes: tuple of odd ints. Defaults to (3, 5, 7, 11).
        groups: int. Defaults to 8.

    Call arguments:
        inputs: a tensor `(B, H, W, C)`.

    Example:

    ```python
    y = IncepUBlock(16, 32)(np.zeros((2, 8, 8, 32)))  # (2, 8, 8, 32)
    ```

    Reference:
        Gao et al., "SimVP: Simpler yet Better Video Prediction",
        https://arxiv.org/abs/2206.05099
    """

    def __init__(
        self, hidden_dim, output_dim, kernel_sizes=(3, 5, 7, 11), groups=8, **kwargs
    ):
        super().__init__(**kwargs)
        self.hidden_dim = hidden_dim
        self.output_dim = output_dim
        self.kernel_sizes = tuple(kernel_sizes)
        self.groups = groups
        effective = groups if hidden_dim % groups == 0 else 1
        if output_dim % effective:
            raise ValueError(
                "`output_dim` must be divisible by `groups`. Received: "
                f"output_dim={output_dim}, groups={groups}"
            )
        self.conv1 = None
        self.branches = [
            ConvNormAct(
                output_dim,
                kernel_size=k,
                groups=effective,
                norm_groups=effective,
                activation=keras.layers.LeakyReLU(negative_slope=0.2),
                kernel_initializer=TorchUniform(),
                bias_initializer="zeros",
                dtype=self.dtype_policy,
                name=f"branch_{i}",
            )
            for i, k in enumerate(self.kernel_sizes)
        ]

    def build(self, input_shape):
        self.conv1 = keras.layers.Dense(
            self.hidden_dim,
            kernel_initializer=TorchUniform(),
            bias_initializer=TorchUniform(fan_in=input_shape[-1]),
            dtype=self.dtype_policy,
            name="conv1",
        )
        self.conv1.build(input_shape)
        hidden_shape = tuple(input_shape[:-1]) + (self.hidden_dim,)
        for branch in self.branches:
            branch.build(hidden_shape)
        self.built = True

    def call(self, inputs):
        x = self.conv1(inputs)
        y = self.branches[0](x)
        for branch in self.branches[1:]:
            y = y + branch(x)
        return y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.output_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "output_dim": self.output_dim,
            "kernel_sizes": list(self.kernel_sizes),
            "groups": self.groups,
        }
