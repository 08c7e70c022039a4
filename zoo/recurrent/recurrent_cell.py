"""The base of every convolutional recurrent cell in the zoo."""

import keras
from keras import ops

from zoo.recurrent.gate_conv import GateConv


@keras.saving.register_keras_serializable(package="keras_svq")
class RecurrentCell(keras.layers.Layer):
    """What ConvLSTM, ST-LSTM, Causal LSTM, MIM and the other cells share.

    A cell follows the Keras cell contract: `call(inputs, states, training)`
    returns `(output, new_states)`, with `states` a list of `(B, H, W, C_k)`
    maps whose channels are `state_size`. Subclasses declare their gate
    convolutions in `__init__` with `gate_conv(name, num_gates)` (a
    `GateConv`, `num_gates * hidden_dim` channels) and `pointwise_conv(...)`,
    and implement `build_gates(input_shape)` and `call`. The attribute name of
    each conv is its PyTorch module name, which is how
    `load_recurrent_state_dict` finds it.

    Args:
        hidden_dim: int. Channels of every state (`num_hidden[i]`).
        kernel_size: int. Odd kernel of the gate convs (`filter_size`). Defaults to 5.
        stride: int. Must be 1. Defaults to 1.
        layer_norm: bool. LayerNorm after every gate conv. Defaults to False.
    """

    # How many of the trailing states are shared between the layers of a stack
    # (the spatio-temporal memory `m` of PredRNN): they flow upwards through
    # the layers within a step and from the top layer to the bottom one at the
    # next step.
    num_shared_states = 0

    def __init__(self, hidden_dim, kernel_size=5, stride=1, layer_norm=False, **kwargs):
        super().__init__(**kwargs)
        if (
            isinstance(hidden_dim, bool)
            or not isinstance(hidden_dim, int)
            or hidden_dim < 1
        ):
            raise ValueError(
                f"`hidden_dim` must be a positive integer. Received: hidden_dim={hidden_dim!r}"
            )
        self.hidden_dim = hidden_dim
        self.kernel_size = kernel_size
        self.stride = stride
        self.layer_norm = bool(layer_norm)
        # (torch module name, kind) in the reference's registration order.
        self._torch_names = []

    # ------------------------------------------------------------ declarations
    def gate_conv(
        self,
        name,
        num_gates,
        kernel_size=None,
        use_bias=False,
        layer_norm=None,
        kernel_initializer=None,
    ):
        """A `GateConv` with `num_gates * hidden_dim` outputs, registered as `name`."""
        layer = GateConv(
            num_gates * self.hidden_dim,
            kernel_size or self.kernel_size,
            stride=self.stride,
            use_bias=use_bias,
            layer_norm=self.layer_norm if layer_norm is None else layer_norm,
            kernel_initializer=kernel_initializer,
            dtype=self.dtype_policy,
            name=name,
        )
        self._torch_names.append((name, "sequential"))
        return layer

    def pointwise_conv(self, name, filters, use_bias=False):
        """A bare 1x1 conv (a torch `nn.Conv2d`, not wrapped in a `Sequential`)."""
        layer = GateConv(
            filters, 1, use_bias=use_bias, dtype=self.dtype_policy, name=name
        )
        self._torch_names.append((name, "conv"))
        return layer

    def torch_modules(self):
        """`[(torch name, keras layer or variable, kind)]` for checkpoint loading."""
        return [(name, getattr(self, name), kind) for name, kind in self._torch_names]

    # ------------------------------------------------------------------ state
    @property
    def state_size(self):
        """Channels of each state map."""
        raise NotImplementedError

    @staticmethod
    def split_gates(x, num_gates):
        return ops.split(x, num_gates, axis=-1)

    def with_channels(self, input_shape, channels):
        return tuple(input_shape[:-1]) + (channels,)

    def compute_output_shape(self, input_shape, states_shape=None):
        return self.with_channels(input_shape, self.hidden_dim)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dim": self.hidden_dim,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "layer_norm": self.layer_norm,
        }
