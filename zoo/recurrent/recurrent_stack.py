"""One time step of a stack of recurrent cells, itself a Keras cell."""

import keras
from keras import ops

from zoo.recurrent.gate_conv import GateConv


def check_hidden_dims(hidden_dims, equal=False):
    """Validates `hidden_dims` (the reference's `num_hidden`) and returns a list."""
    if isinstance(hidden_dims, int) or not hidden_dims:
        raise ValueError(
            "`hidden_dims` must be a non-empty list of positive integers, one per "
            f"layer. Received: hidden_dims={hidden_dims!r}"
        )
    dims = list(hidden_dims)
    if any(isinstance(d, bool) or not isinstance(d, int) or d < 1 for d in dims):
        raise ValueError(
            f"`hidden_dims` must hold positive integers. Received: hidden_dims={dims}"
        )
    if equal and len(set(dims)) > 1:
        raise ValueError(
            "This model passes its memory between layers, so every layer needs the "
            f"same width. Received: hidden_dims={dims}"
        )
    return dims


@keras.saving.register_keras_serializable(package="keras_svq")
class RecurrentStack(keras.layers.Layer):
    """A stack of recurrent cells plus the 1x1 readout, for one time step.

    The stack follows the Keras cell contract: `call(inputs, states, training)`
    maps a (patched) frame `(B, H, W, C)` and the flat list of states to the
    predicted next frame `(B, H, W, C)` and the new states. Layer `i` reads
    the hidden state of layer `i - 1`. States a cell marks as shared
    (`RecurrentCell.num_shared_states`, PredRNN's memory `m`) go up the
    layers within a step and from the top layer back to the bottom one at the
    next step. The readout is a bias-free 1x1 conv (`conv_last`).

    Subclasses implement `make_cell(index)`; stacks that wire their layers
    differently (PredRNN++'s gradient highway, MIM) override `call`,
    `state_size` and `torch_modules`.

    Args:
        hidden_dims: list of int. Channels of each layer (`num_hidden`).
        frame_channels: int. Channels of the (patched) frames, `p * p * C`.
        kernel_size: int. Odd kernel of the gate convs (`filter_size`). Defaults to 5.
        stride: int. Must be 1. Defaults to 1.
        layer_norm: bool. LayerNorm after every gate conv. Defaults to False.
    """

    shared_memory = False
    readout_use_bias = False

    def __init__(
        self,
        hidden_dims,
        frame_channels,
        kernel_size=5,
        stride=1,
        layer_norm=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_dims = check_hidden_dims(hidden_dims, equal=self.shared_memory)
        if not isinstance(frame_channels, int) or frame_channels < 1:
            raise ValueError(
                "`frame_channels` must be a positive integer. "
                f"Received: frame_channels={frame_channels!r}"
            )
        self.frame_channels = frame_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.layer_norm = bool(layer_norm)
        self.cells = [self.make_cell(i) for i in range(len(self.hidden_dims))]
        self.readout = self.make_readout()
        self.frame_size = None

    @property
    def num_layers(self):
        return len(self.hidden_dims)

    def make_cell(self, index):
        raise NotImplementedError

    def make_readout(self):
        """The 1x1 conv from the top hidden state to the frame (`conv_last`)."""
        return GateConv(
            self.frame_channels,
            1,
            use_bias=self.readout_use_bias,
            dtype=self.dtype_policy,
            name="conv_last",
        )

    def cell_kwargs(self, index):
        return {
            "hidden_dim": self.hidden_dims[index],
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "layer_norm": self.layer_norm,
            "dtype": self.dtype_policy,
            "name": f"cell_{index}",
        }

    def build(self, input_shape):
        self.frame_size = tuple(input_shape[1:3])
        shape = tuple(input_shape)
        for cell in self.cells:
            cell.build(shape)
            shape = shape[:-1] + (cell.hidden_dim,)
        self.readout.build(shape)

    # ------------------------------------------------------------------ state
    @property
    def state_size(self):
        """Channels of the flat states: each layer's own, then the shared ones."""
        sizes = []
        for cell in self.cells:
            own = len(cell.state_size) - cell.num_shared_states
            sizes += list(cell.state_size[:own])
        first = self.cells[0]
        if first.num_shared_states:
            sizes += list(first.state_size[-first.num_shared_states :])
        return sizes

    def state_shapes(self):
        """Per-sample shapes of the flat states (without the batch axis)."""
        height, width = self.frame_size
        return [(height, width, c) for c in self.state_size]

    def get_initial_state(self, batch_size):
        return [
            ops.zeros((batch_size,) + shape, dtype=self.compute_dtype)
            for shape in self.state_shapes()
        ]

    # ------------------------------------------------------------------- step
    def cell_output(self, index, output, training=None):
        """Hook on each cell's output; returns the hidden map passed upwards."""
        return output

    def call(self, inputs, states, training=None):
        states = list(states)
        num_shared = self.cells[0].num_shared_states
        shared = states[len(states) - num_shared :] if num_shared else []
        position, new_states, x = 0, [], inputs
        for index, cell in enumerate(self.cells):
            own = len(cell.state_size) - cell.num_shared_states
            cell_states = states[position : position + own] + shared
            position += own
            output, cell_states = cell(x, cell_states, training=training)
            new_states += list(cell_states[:own])
            shared = list(cell_states[own:])
            x = self.cell_output(index, output, training=training)
        return self.readout(x), new_states + shared

    def sequence_loss(self):
        """A loss added once per sequence in training (PhyDNet's moment loss), or None."""
        return None

    def compute_output_shape(self, input_shape, states_shape=None):
        return tuple(input_shape[:-1]) + (self.frame_channels,)

    def torch_modules(self):
        """`[(torch name, keras object, kind)]` in the reference's order."""
        modules = [
            (f"cell_list.{i}", cell, "module") for i, cell in enumerate(self.cells)
        ]
        return modules + [("conv_last", self.readout, "conv")]

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_dims": self.hidden_dims,
            "frame_channels": self.frame_channels,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "layer_norm": self.layer_norm,
        }
