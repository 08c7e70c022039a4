"""MIM's stack: an ST-LSTM, then MIM blocks fed by a chain of MIM-N cells."""

import keras
from keras import ops

from zoo.mim.mim_block import MIMBlock
from zoo.mim.mimn_cell import MIMNCell
from zoo.predrnn.spatiotemporal_lstm_cell import SpatioTemporalLSTMCell
from zoo.recurrent.recurrent_stack import RecurrentStack


@keras.saving.register_keras_serializable(package="keras_svq")
class MIMStack(RecurrentStack):
    """One time step of MIM.

    Layer 0 is a `SpatioTemporalLSTMCell`, layers 1.. are `MIMBlock`s. A chain
    of `MIMNCell`s (`stlstm_layer_diff`) turns the change of layer 0's hidden
    state between steps into difference features: diff cell 0 reads
    `h_0(t) - h_0(t-1)`, diff cell `k` reads diff cell `k - 1`, and block `k+1`
    reads diff cell `k`. As in the reference the difference chain is not run
    at the first step (its states stay zero); a per-sample flag in the states
    marks that step. The spatio-temporal memory zigzags as in PredRNN.

    Flat states: layer 0's `[h, c]`, each block's `[h, c, n]`, `m`, each diff
    cell's `[h, c]`, then the flag `(B, 1, 1, 1)`. Arguments as
    `RecurrentStack`.
    """

    shared_memory = True

    def __init__(
        self,
        hidden_dims,
        frame_channels,
        kernel_size=5,
        stride=1,
        layer_norm=False,
        **kwargs,
    ):
        super().__init__(
            hidden_dims, frame_channels, kernel_size, stride, layer_norm, **kwargs
        )
        self.difference_cells = [
            MIMNCell(
                keep_unused_readout=True,
                **{**self.cell_kwargs(i + 1), "name": f"difference_cell_{i}"},
            )
            for i in range(self.num_layers - 1)
        ]

    def make_cell(self, index):
        cell_class = SpatioTemporalLSTMCell if index == 0 else MIMBlock
        return cell_class(**self.cell_kwargs(index))

    def build(self, input_shape):
        self.frame_size = tuple(input_shape[1:3])
        hidden = tuple(input_shape[:-1]) + (self.hidden_dims[0],)
        self.cells[0].build(tuple(input_shape))
        for cell in self.cells[1:]:
            cell.build([hidden, hidden])
        for cell in self.difference_cells:
            cell.build(hidden)
        self.readout.build(hidden)

    @property
    def state_size(self):
        sizes = super().state_size
        for cell in self.difference_cells:
            sizes += list(cell.state_size)
        return sizes + [1]

    def state_shapes(self):
        shapes = super().state_shapes()
        return shapes[:-1] + [(1, 1, 1)]

    def call(self, inputs, states, training=None):
        states = list(states)
        started = states.pop()
        h0, c0 = states[:2]
        position = 2
        block_states = []
        for _ in self.cells[1:]:
            block_states.append(states[position : position + 3])
            position += 3
        m = states[position]
        position += 1
        diff_states = [
            states[position + 2 * k : position + 2 * k + 2]
            for k in range(len(self.difference_cells))
        ]

        previous_h0 = h0
        h, (h0, c0, m) = self.cells[0](inputs, [h0, c0, m], training=training)
        new_states = [h0, c0]
        new_diff_states = []
        difference_source = h0 - previous_h0
        for k, block in enumerate(self.cells[1:]):
            difference_cell = self.difference_cells[k]
            hd, cd = diff_states[k]
            new_hd, (_, new_cd) = difference_cell(
                difference_source, [hd, cd], training=training
            )
            # The reference skips the difference chain at the first step.
            hd = started * new_hd + (1.0 - started) * hd
            cd = started * new_cd + (1.0 - started) * cd
            new_diff_states += [hd, cd]
            difference_source = hd
            h, (hb, cb, nb, m) = block(
                [h, hd], block_states[k] + [m], training=training
            )
            new_states += [hb, cb, nb]
        flag = ops.ones_like(started)
        return self.readout(h), new_states + [m] + new_diff_states + [flag]

    def torch_modules(self):
        modules = [
            (f"stlstm_layer.{i}", cell, "module") for i, cell in enumerate(self.cells)
        ]
        modules += [
            (f"stlstm_layer_diff.{i}", cell, "module")
            for i, cell in enumerate(self.difference_cells)
        ]
        return modules + [("conv_last", self.readout, "conv")]
