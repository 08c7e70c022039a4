"""PhyDNet's step: a shared encoder, PhyCell and ConvLSTM branches, a shared decoder."""

import keras
from keras import ops

from zoo.convlstm.convlstm_cell import ConvLSTMCell
from zoo.phydnet.phycell import PhyCell
from zoo.phydnet.phydnet_conv_block import PhyDNetConvBlock
from zoo.recurrent.recurrent_stack import RecurrentStack
from zoo.recurrent.torch_conv_transpose2d import TorchConvTranspose2D

ENCODER_WIDTH = 32  # `nf` of the reference
LATENT_WIDTH = 2 * ENCODER_WIDTH  # the PhyCell / ConvLSTM input width (64)


@keras.saving.register_keras_serializable(package="keras_svq")
class PhyDNetStack(RecurrentStack):
    """One time step of PhyDNet.

    A frame is encoded to a `downsample_factor`-times smaller 64-channel
    latent (`encoder_E`: blocks of 32, 32, 64 channels), split by two
    specific encoders into the physical branch (`PhyCell`, 7x7 moments) and
    the residual branch (a stack of biased ConvLSTM cells, `h = o·tanh(c)`,
    3x3, the last one 64 wide), decoded by their specific decoders, summed,
    and decoded to `σ(frame)` (`decoder_D`). `sequence_loss()` is PhyCell's
    moment constraint. The reference's partial reconstructions `out_phys`
    and `out_conv` are only for display and are not computed.

    Args:
        hidden_dims: list of int. ConvLSTM widths; the last must be 64.
            Defaults to `(128, 128, 64)`.
        frame_channels: int. C.
        downsample_factor: int. 2 or 4 (the reference's `patch_size`).
            Defaults to 4.
    """

    def __init__(
        self,
        hidden_dims=(128, 128, 64),
        frame_channels=1,
        downsample_factor=4,
        **kwargs,
    ):
        for key in ("kernel_size", "stride", "layer_norm"):
            kwargs.pop(key, None)
        if downsample_factor not in (2, 4):
            raise ValueError(
                f"`downsample_factor` must be 2 or 4. Received: downsample_factor={downsample_factor!r}"
            )
        if list(hidden_dims)[-1:] != [LATENT_WIDTH]:
            raise ValueError(
                f"The last ConvLSTM width must be {LATENT_WIDTH} (the decoder's input). "
                f"Received: hidden_dims={list(hidden_dims)}"
            )
        self.downsample_factor = downsample_factor
        super().__init__(hidden_dims, frame_channels, kernel_size=3, **kwargs)
        dtype = self.dtype_policy
        stride = downsample_factor // 2

        def block(name, filters, strides=1, transposed=False):
            return PhyDNetConvBlock(
                filters, strides, transposed, dtype=dtype, name=name
            )

        self.encoder_e = [
            block("encoder_e_0", ENCODER_WIDTH, 2),
            block("encoder_e_1", ENCODER_WIDTH),
            block("encoder_e_2", LATENT_WIDTH, stride),
        ]
        self.encoder_p = [block(f"encoder_p_{k}", LATENT_WIDTH) for k in range(2)]
        self.encoder_r = [block(f"encoder_r_{k}", LATENT_WIDTH) for k in range(2)]
        self.decoder_p = [
            block(f"decoder_p_{k}", LATENT_WIDTH, 1, True) for k in range(2)
        ]
        self.decoder_r = [
            block(f"decoder_r_{k}", LATENT_WIDTH, 1, True) for k in range(2)
        ]
        self.decoder_d = [
            block("decoder_d_0", ENCODER_WIDTH, 2, True),
            block("decoder_d_1", ENCODER_WIDTH, 1, True),
        ]
        self.decoder_out = TorchConvTranspose2D(
            frame_channels,
            3,
            strides=stride,
            padding=1,
            output_padding=stride - 1,
            dtype=dtype,
            name="decoder_out",
        )
        self.phycell = PhyCell(LATENT_WIDTH, 7, dtype=dtype, name="phycell")

    def make_readout(self):
        return None

    def make_cell(self, index):
        kwargs = self.cell_kwargs(index)
        kwargs.pop("layer_norm")
        return ConvLSTMCell(
            variant="lightning", use_bias=True, include_unused_convs=False, **kwargs
        )

    def build(self, input_shape):
        height, width = input_shape[1:3]
        if height % self.downsample_factor or width % self.downsample_factor:
            raise ValueError(
                f"The frame size must be a multiple of downsample_factor={self.downsample_factor}. "
                f"Received: {(height, width)}"
            )
        shape = tuple(input_shape)
        for layer in self.encoder_e:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        latent = shape
        self.frame_size = tuple(latent[1:3])
        for layer in self.encoder_p + self.encoder_r + self.decoder_p + self.decoder_r:
            layer.build(latent)
        self.phycell.build(latent)
        for cell in self.cells:
            cell.build(shape)
            shape = shape[:-1] + (cell.hidden_dim,)
        shape = latent
        for layer in self.decoder_d:
            layer.build(shape)
            shape = layer.compute_output_shape(shape)
        self.decoder_out.build(shape)

    @property
    def state_size(self):
        return [LATENT_WIDTH] + [dim for dim in self.hidden_dims for _ in range(2)]

    def call(self, inputs, states, training=None):
        physical, *layer_states = states
        x = inputs
        for layer in self.encoder_e:
            x = layer(x)
        p, r = x, x
        for layer in self.encoder_p:
            p = layer(p)
        for layer in self.encoder_r:
            r = layer(r)
        physical, _ = self.phycell(p, [physical], training=training)
        new_states = [physical]
        for index, cell in enumerate(self.cells):
            r, cell_states = cell(
                r, layer_states[2 * index : 2 * index + 2], training=training
            )
            new_states += list(cell_states)
        p = physical
        for layer in self.decoder_p:
            p = layer(p)
        for layer in self.decoder_r:
            r = layer(r)
        x = p + r
        for layer in self.decoder_d:
            x = layer(x)
        return ops.sigmoid(self.decoder_out(x)), new_states

    def sequence_loss(self):
        return self.phycell.moment_loss()

    def compute_output_shape(self, input_shape, states_shape=None):
        return tuple(input_shape[:-1]) + (self.frame_channels,)

    def torch_modules(self):
        prefix = "encoder."

        def blocks(name, layers, stem="c"):
            return [
                (f"{prefix}{name}.{stem}{k + 1}", layer, "module")
                for k, layer in enumerate(layers)
            ]

        modules = blocks("encoder_E", self.encoder_e)
        modules += blocks("encoder_Ep", self.encoder_p) + blocks(
            "encoder_Er", self.encoder_r
        )
        modules += blocks("decoder_Dp", self.decoder_p, "upc") + blocks(
            "decoder_Dr", self.decoder_r, "upc"
        )
        modules += blocks("decoder_D", self.decoder_d, "upc")
        modules.append((f"{prefix}decoder_D.upc3", self.decoder_out, "conv_transpose"))
        modules.append((f"{prefix}phycell.cell_list.0", self.phycell, "module"))
        modules += [
            (f"{prefix}convcell.cell_list.{i}", cell, "concat_conv_lstm")
            for i, cell in enumerate(self.cells)
        ]
        # The same modules are registered again at the top level, and `k2m`
        # holds constant buffers.
        return modules + [
            ("phycell.", None, "alias"),
            ("convcell.", None, "alias"),
            ("k2m.", None, "alias"),
        ]

    def get_config(self):
        config = super().get_config()
        for key in ("kernel_size", "stride", "layer_norm"):
            config.pop(key)
        return {**config, "downsample_factor": self.downsample_factor}
