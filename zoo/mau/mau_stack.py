"""MAU's stack: a strided encoder, motion-aware units and a decoder."""

import math

import keras
from keras import ops

from zoo.mau.mau_cell import MAUCell
from zoo.recurrent.gate_conv import GateConv
from zoo.recurrent.recurrent_stack import RecurrentStack
from zoo.recurrent.torch_conv2d import TorchConv2D
from zoo.recurrent.torch_conv_transpose2d import TorchConvTranspose2D

DECODER_MODES = ("normal", "recall")


@keras.saving.register_keras_serializable(package="keras_svq")
class MAUStack(RecurrentStack):
    """One time step of MAU.

    A 1x1 conv and `log2(downsample_factor)` stride-2 3x3 convs (LeakyReLU
    0.2) encode the frame; `MAUCell`s run at the reduced size; stride-2
    transposed convs (LeakyReLU between them; with `decoder_mode="recall"`
    the encoder features are added back) and a 1x1 conv (`srcnn`) decode the
    next frame. Like the reference, the stack also owns the 1x1 convs
    `merge` and `conv_last_sr`, which are never used (kept frozen for
    checkpoints and parameter counts).

    Args:
        hidden_dims: list of int, all equal.
        frame_channels: int.
        kernel_size, stride: see `RecurrentStack`.
        downsample_factor: int. A power of 2 (`sr_size`). Defaults to 2.
        attention_length: int. `tau`. Defaults to 5.
        cell_mode: str. `"normal"` or `"residual"`. Defaults to `"normal"`.
        decoder_mode: str. `"normal"` or `"recall"` (`model_mode`).
            Defaults to `"normal"`.
    """

    shared_memory = True
    readout_use_bias = True

    def __init__(
        self,
        hidden_dims,
        frame_channels,
        kernel_size=5,
        stride=1,
        downsample_factor=2,
        attention_length=5,
        cell_mode="normal",
        decoder_mode="normal",
        **kwargs,
    ):
        kwargs.pop("layer_norm", None)
        if (
            not isinstance(downsample_factor, int)
            or downsample_factor < 1
            or downsample_factor & (downsample_factor - 1)
        ):
            raise ValueError(
                "`downsample_factor` must be a power of 2. "
                f"Received: downsample_factor={downsample_factor!r}"
            )
        if decoder_mode not in DECODER_MODES:
            raise ValueError(
                f"`decoder_mode` must be one of {list(DECODER_MODES)}. "
                f"Received: decoder_mode={decoder_mode!r}"
            )
        self.downsample_factor = downsample_factor
        self.attention_length = attention_length
        self.cell_mode = cell_mode
        self.decoder_mode = decoder_mode
        super().__init__(
            hidden_dims, frame_channels, kernel_size, stride, False, **kwargs
        )
        hidden = self.hidden_dims[0]
        dtype = self.dtype_policy
        self.num_stages = int(math.log2(downsample_factor))
        self.encoders = [
            GateConv(hidden, 1, use_bias=True, dtype=dtype, name="encoder_0")
        ]
        self.encoders += [
            TorchConv2D(
                hidden, 3, strides=2, padding=1, dtype=dtype, name=f"encoder_{k + 1}"
            )
            for k in range(self.num_stages)
        ]
        self.decoders = [
            TorchConvTranspose2D(
                hidden,
                3,
                strides=2,
                padding=1,
                output_padding=1,
                dtype=dtype,
                name=f"decoder_{k}",
            )
            for k in range(self.num_stages)
        ]
        self.merge = GateConv(
            hidden, 1, use_bias=True, dtype=dtype, trainable=False, name="merge"
        )
        self.conv_last_sr = GateConv(
            frame_channels,
            1,
            use_bias=True,
            dtype=dtype,
            trainable=False,
            name="conv_last_sr",
        )

    def make_cell(self, index):
        kwargs = self.cell_kwargs(index)
        kwargs.pop("layer_norm")
        return MAUCell(
            attention_length=self.attention_length, cell_mode=self.cell_mode, **kwargs
        )

    def build(self, input_shape):
        height, width = input_shape[1:3]
        factor = self.downsample_factor
        if height % factor or width % factor:
            raise ValueError(
                "The (patched) frame size must be a multiple of `downsample_factor`. "
                f"Received: frame size {(height, width)}, downsample_factor={factor}"
            )
        self.frame_size = (height // factor, width // factor)
        hidden = self.hidden_dims[0]
        shape = tuple(input_shape)
        self.encoders[0].build(shape)
        shape = shape[:-1] + (hidden,)
        for k, encoder in enumerate(self.encoders[1:]):
            encoder.build((None, height // 2**k, width // 2**k, hidden))
        reduced = (None,) + self.frame_size + (hidden,)
        for cell in self.cells:
            cell.build(reduced)
        for k, decoder in enumerate(self.decoders):
            decoder.build(
                (None, self.frame_size[0] * 2**k, self.frame_size[1] * 2**k, hidden)
            )
        self.readout.build(shape)
        self.merge.build(shape[:-1] + (2 * hidden,))
        self.conv_last_sr.build(tuple(input_shape[:-1]) + (2 * self.frame_channels,))

    def call(self, inputs, states, training=None):
        x = ops.leaky_relu(self.encoders[0](inputs), 0.2)
        encoded = [x]
        for encoder in self.encoders[1:]:
            x = ops.leaky_relu(encoder(x), 0.2)
            encoded.append(x)
        size = len(self.cells[0].state_size)
        new_states = []
        for index, cell in enumerate(self.cells):
            x, cell_states = cell(
                x, states[index * size : (index + 1) * size], training=training
            )
            new_states += list(cell_states)
        for k, decoder in enumerate(self.decoders):
            x = decoder(x)
            if k < len(self.decoders) - 1:
                x = ops.leaky_relu(x, 0.2)
            if self.decoder_mode == "recall":
                x = x + encoded[-2 - k]
        return self.readout(x), new_states

    def torch_modules(self):
        modules = [
            (f"cell_list.{i}", cell, "module") for i, cell in enumerate(self.cells)
        ]
        modules.append(("encoders.0.encoder_t_conv-1", self.encoders[0], "conv"))
        modules += [
            (f"encoders.{k + 1}.encoder_t{k}", encoder, "conv")
            for k, encoder in enumerate(self.encoders[1:])
        ]
        modules += [
            (f"decoders.{k}.c_decoder{k}", decoder, "conv_transpose")
            for k, decoder in enumerate(self.decoders)
        ]
        return modules + [
            ("srcnn.0", self.readout, "conv"),
            ("merge", self.merge, "conv"),
            ("conv_last_sr", self.conv_last_sr, "conv"),
        ]

    def get_config(self):
        config = super().get_config()
        config.pop("layer_norm")
        return {
            **config,
            "downsample_factor": self.downsample_factor,
            "attention_length": self.attention_length,
            "cell_mode": self.cell_mode,
            "decoder_mode": self.decoder_mode,
        }
