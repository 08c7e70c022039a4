"""SimVP (v1 / v2 / TAU) with the optional SVQ plug-in, as a functional Keras model."""

import keras
from keras import ops

from keras_svq.layers import MultiplicativeNoise
from keras_svq.quantizers import get_quantizer
from zoo.backbone import Backbone
from zoo.registry import register_backbone
from zoo.simvp.simvp_decoder import SimVPDecoder
from zoo.simvp.simvp_encoder import SimVPEncoder
from zoo.translators.translator_registry import check_translator_name
from zoo.translators.translator_registry import get_translator

QUANTIZER_POSITIONS = ("pre", "post")


@keras.saving.register_keras_serializable(package="keras_svq")
class FrameSlice(keras.layers.Layer):
    """Keeps frames `[start, stop)` of a `(B, T, ...)` sequence."""

    def __init__(self, start, stop, **kwargs):
        super().__init__(**kwargs)
        self.start = start
        self.stop = stop

    def call(self, inputs):
        return inputs[:, self.start : self.stop]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.stop - self.start) + tuple(input_shape[2:])

    def get_config(self):
        return {**super().get_config(), "start": self.start, "stop": self.stop}


@keras.saving.register_keras_serializable(package="keras_svq")
class AddLastFrame(keras.layers.Layer):
    """`change + frames[:, -1:]`: a forecast anchored on the last input frame.

    Call arguments:
        inputs: `[change, frames]`, `change: (B, T_out, H, W, C)` and
            `frames: (B, T_in, H, W, C)`.
    """

    def call(self, inputs):
        change, frames = inputs
        return change + ops.cast(frames[:, -1:], change.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


def _serialize_quantizer(quantizer):
    if quantizer is None or isinstance(quantizer, (str, dict)):
        return quantizer
    return keras.saving.serialize_keras_object(quantizer)


@keras.saving.register_keras_serializable(package="keras_svq")
@register_backbone("SimVPBackbone")
class SimVPBackbone(Backbone):
    """SimVP: a frame-wise CNN encoder, a translator over time-stacked latents, a decoder.

    Every frame is encoded by `num_spatial_layers` conv + GroupNorm + SiLU
    blocks (every second one downsamples by 2 with symmetric padding), the
    latent sequence `(B, T, H', W', spatial_hidden_dim)` is translated by the
    chosen translator with the frames stacked into channels, and decoded back
    frame by frame (pixel-shuffle upsampling, a skip from the first encoder
    block, a 1x1 readout). The model maps `input_length` frames to
    `input_length` frames; other `output_length`s are handled as the reference
    does: a shorter output keeps the first frames, a longer one rolls the model
    forward on its own predictions (for example KTH, 10 -> 20). The roll-out is
    part of the graph, so it is saved and exported with the model.

    With a `quantizer` (the paper's SVQ), the latent is quantized before the
    translator (`quantizer_position="pre"`, the paper's default) or after it
    (`"post"`).

    Frame sizes: `height` and `width` must be multiples of
    `2 ** (num_spatial_layers // 2)`; other sizes raise a `ValueError` naming
    the nearest valid ones (pad and crop your data to fit).

    Weights can be loaded from an official OpenSTL / SVQ-Forecasting
    PyTorch checkpoint with `zoo.load_openstl_state_dict`.

    Args:
        input_length: int. Number of input frames T_in.
        output_length: int. Number of predicted frames T_out.
        height: int. Frame height H.
        width: int. Frame width W.
        channels: int. Channels C of the frames.
        spatial_hidden_dim: int. Encoder/decoder width (`hid_S`). Defaults to 16.
        temporal_hidden_dim: int. Translator width (`hid_T`). Defaults to 256.
        num_spatial_layers: int. Encoder (and decoder) depth, even (`N_S`).
            Defaults to 4.
        num_temporal_layers: int. Translator depth, >= 2 (`N_T`). Defaults to 4.
        translator: str. One of `zoo.translators.available_translators()`:
            `"gsta"` (SimVP v2), `"incepu"` (SimVP v1), `"tau"` (TAU), ...
            Defaults to `"gsta"`.
        mlp_ratio: float. MLP expansion of MetaFormer translators. Defaults to 8.0.
        drop_rate: float. Dropout in the translator. Defaults to 0.0.
        drop_path_rate: float. Stochastic depth of the translator's last block;
            the others follow the reference schedule
            (`zoo.translators.stochastic_depth_schedule`). Defaults to 0.0.
        spatial_kernel_size: int. Kernel of the encoder and decoder convs.
            Defaults to 3.
        quantizer: None, a quantizer name (`"svq"`), a config dict (`{"name":
            "svq", "codebook_size": 10000, ...}` or a serialized layer) or a
            quantizer layer. Applied to the `(…, spatial_hidden_dim)` latent.
            Defaults to None.
        quantizer_position: str. `"pre"` or `"post"`. Defaults to `"pre"`.
        noise_rate: float. Input-noise augmentation of the reference: in
            training, this fraction of the input values is multiplied by
            U(-2, 2) (before every step of a roll-out). Defaults to 0.0 (off).
        residual: bool. Persistence-anchored output: the decoder predicts the
            change from the last input frame (in normalised space), which is
            added back, so an untrained model starts at persistence. A
            deviation from the reference models, off in the paper presets.
            Defaults to False.
        output_constraint: str or None. `"nonnegative"` keeps the forecast's
            physical values >= 0 (see `keras_svq.layers.OutputConstraint`;
            set the normaliser with `set_output_normalization`). Defaults to
            None.
        clip: None or physical bounds `[lo, hi]` (either may be None) of the
            forecast, applied the same way. Defaults to None.
        dtype: the dtype policy of the layers. Defaults to None (global policy).

    Call arguments:
        inputs: a tensor `(B, input_length, height, width, channels)`.
        training: bool.

    Returns:
        A tensor `(B, output_length, height, width, channels)`.

    Example:

    ```python
    import numpy as np
    from zoo import SimVPBackbone

    model = SimVPBackbone(
        input_length=4, output_length=4, height=16, width=16, channels=1,
        spatial_hidden_dim=8, temporal_hidden_dim=32, num_spatial_layers=2,
        num_temporal_layers=2, translator="gsta", quantizer="svq",
    )
    y = model(np.random.rand(2, 4, 16, 16, 1).astype("float32"))  # (2, 4, 16, 16, 1)
    ```

    Reference:
        Gao et al., "SimVP: Simpler yet Better Video Prediction",
        https://arxiv.org/abs/2206.05099; Tan et al., "SimVP: Towards Simple
        yet Powerful Spatiotemporal Predictive Learning",
        https://arxiv.org/abs/2211.12509; Tan et al., "Temporal Attention
        Unit", https://arxiv.org/abs/2206.12126; Chen et al., "Does Vector
        Quantization Fail in Spatio-Temporal Forecasting?",
        https://arxiv.org/abs/2312.03406
    """

    def __init__(
        self,
        input_length,
        output_length,
        height,
        width,
        channels,
        spatial_hidden_dim=16,
        temporal_hidden_dim=256,
        num_spatial_layers=4,
        num_temporal_layers=4,
        translator="gsta",
        mlp_ratio=8.0,
        drop_rate=0.0,
        drop_path_rate=0.0,
        spatial_kernel_size=3,
        quantizer=None,
        quantizer_position="pre",
        noise_rate=0.0,
        residual=False,
        output_constraint=None,
        clip=None,
        dtype=None,
        **kwargs,
    ):
        for name, value in (
            ("input_length", input_length),
            ("output_length", output_length),
            ("height", height),
            ("width", width),
            ("channels", channels),
            ("spatial_hidden_dim", spatial_hidden_dim),
            ("temporal_hidden_dim", temporal_hidden_dim),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{name}` must be a positive integer. Received: {name}={value!r}"
                )
        if num_spatial_layers < 2 or num_spatial_layers % 2:
            raise ValueError(
                "`num_spatial_layers` must be an even integer >= 2 (every second "
                "layer downsamples by 2). Received: "
                f"num_spatial_layers={num_spatial_layers}"
            )
        factor = 2 ** (num_spatial_layers // 2)
        for name, size in (("height", height), ("width", width)):
            if size % factor:
                lower = size - size % factor
                options = [s for s in (lower, lower + factor) if s > 0]
                raise ValueError(
                    f"`{name}` must be a multiple of {factor} = 2**(num_spatial_layers/2) "
                    f"so that the {num_spatial_layers // 2} stride-2 stages divide it "
                    f"exactly; the nearest sizes that work are {options} (pad or "
                    f"crop the frames). Received: {name}={size}"
                )
        translator = check_translator_name(translator)
        if quantizer_position not in QUANTIZER_POSITIONS:
            raise ValueError(
                f"`quantizer_position` must be one of {list(QUANTIZER_POSITIONS)}. "
                f"Received: quantizer_position={quantizer_position!r}"
            )
        if not 0.0 <= noise_rate <= 1.0:
            raise ValueError(
                f"`noise_rate` must be in [0, 1]. Received: noise_rate={noise_rate}"
            )

        # === Layers ===
        encoder = SimVPEncoder(
            spatial_hidden_dim,
            num_spatial_layers,
            spatial_kernel_size,
            dtype=dtype,
            name="encoder",
        )
        translator_layer = get_translator(
            translator,
            hidden_dim=temporal_hidden_dim,
            num_layers=num_temporal_layers,
            mlp_ratio=mlp_ratio,
            drop_rate=drop_rate,
            drop_path_rate=drop_path_rate,
            dtype=dtype,
            name="translator",
        )
        quantizer_config = _serialize_quantizer(quantizer)
        if isinstance(quantizer, (str, dict)):
            quantizer_layer = get_quantizer(quantizer, dtype=dtype, name="quantizer")
        else:
            quantizer_layer = get_quantizer(quantizer)
        decoder = SimVPDecoder(
            spatial_hidden_dim,
            channels,
            num_spatial_layers,
            spatial_kernel_size,
            dtype=dtype,
            name="decoder",
        )
        noise = (
            MultiplicativeNoise(noise_rate, dtype=dtype, name="input_noise")
            if noise_rate > 0
            else None
        )
        constraint = self.make_output_constraint(
            output_constraint, clip, channels, dtype=dtype
        )

        # === Functional Model ===
        inputs = keras.Input(
            shape=(input_length, height, width, channels), name="frames"
        )

        anchor = AddLastFrame(dtype=dtype, name="add_last_frame") if residual else None

        def step(clean):
            frames = clean if noise is None else noise(clean)
            latent, skip = encoder(frames)
            if quantizer_layer is not None and quantizer_position == "pre":
                latent = quantizer_layer(latent)
            hid = translator_layer(latent)
            if quantizer_layer is not None and quantizer_position == "post":
                hid = quantizer_layer(hid)
            decoded = decoder([hid, skip])
            return decoded if anchor is None else anchor([decoded, clean])

        if output_length <= input_length:
            outputs = step(inputs)
            if output_length < input_length:
                outputs = FrameSlice(0, output_length, dtype=dtype, name="take")(
                    outputs
                )
        else:
            # The reference's roll-out: feed each full prediction back in.
            num_full, remainder = divmod(output_length, input_length)
            current, pieces = inputs, []
            for _ in range(num_full):
                current = step(current)
                pieces.append(current)
            if remainder:
                current = step(current)
                pieces.append(
                    FrameSlice(0, remainder, dtype=dtype, name="take")(current)
                )
            outputs = keras.layers.Concatenate(axis=1, dtype=dtype, name="rollout")(
                pieces
            )
        if constraint is not None:
            # Only the returned forecast is clipped; a roll-out feeds the
            # unclipped predictions back.
            outputs = constraint(outputs)
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

        # === Config ===
        self.encoder = encoder
        self.translator = translator_layer
        self.quantizer = quantizer_layer
        self.decoder = decoder
        self.output_constraint_layer = constraint
        self.input_length = input_length
        self.output_length = output_length
        self.height = height
        self.width = width
        self.channels = channels
        self.spatial_hidden_dim = spatial_hidden_dim
        self.temporal_hidden_dim = temporal_hidden_dim
        self.num_spatial_layers = num_spatial_layers
        self.num_temporal_layers = num_temporal_layers
        self.translator_name = translator
        self.mlp_ratio = mlp_ratio
        self.drop_rate = drop_rate
        self.drop_path_rate = drop_path_rate
        self.spatial_kernel_size = spatial_kernel_size
        self.quantizer_config = quantizer_config
        self.quantizer_position = quantizer_position
        self.noise_rate = noise_rate
        self.residual = bool(residual)
        self.output_constraint = output_constraint
        self.clip = None if constraint is None else constraint.clip

    def get_config(self):
        return {
            **self.frame_config(),
            "spatial_hidden_dim": self.spatial_hidden_dim,
            "temporal_hidden_dim": self.temporal_hidden_dim,
            "num_spatial_layers": self.num_spatial_layers,
            "num_temporal_layers": self.num_temporal_layers,
            "translator": self.translator_name,
            "mlp_ratio": self.mlp_ratio,
            "drop_rate": self.drop_rate,
            "drop_path_rate": self.drop_path_rate,
            "spatial_kernel_size": self.spatial_kernel_size,
            "quantizer": self.quantizer_config,
            "quantizer_position": self.quantizer_position,
            "noise_rate": self.noise_rate,
            "residual": self.residual,
        }
