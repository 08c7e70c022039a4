"""The functional model every recurrent backbone of the zoo is."""

import inspect

import keras
import numpy as np

from zoo.backbone import Backbone
from zoo.recurrent.recurrent_predictor import RecurrentPredictor
from zoo.recurrent.scheduled_sampling_model import ScheduledSamplingModel


def check_positive_ints(**values):
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(
                f"`{name}` must be a positive integer. Received: {name}={value!r}"
            )


def check_choice(name, value, choices):
    """Raises a ValueError naming `choices` when `value` is not one of them."""
    if value not in choices:
        raise ValueError(
            f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}"
        )


@keras.saving.register_keras_serializable(package="keras_svq")
class RecurrentBackbone(Backbone):
    """`(B, T_in, H, W, C) -> (B, T_out, H, W, C)` around a `RecurrentPredictor`.

    Subclasses (`ConvLSTMBackbone`, `PredRNNBackbone`, ...) validate their
    arguments (`check_frames`, `check_hidden_dims`, `check_choice`), build
    their `RecurrentStack` and call this constructor with their own
    constructor arguments as `options`, which makes the functional graph
    `frames -> predictor -> frames` (then `OutputConstraint` when
    `output_constraint` or `clip` is set) and the config. Inference is
    the reference's evaluation path (pure auto-regression over the future
    frames). Scheduled sampling, which needs the future frames, is applied
    during `fit` by wrapping the backbone in `ScheduledSamplingModel`: the
    backbone chooses it (`training_model(scheduled_sampling)`), so the
    trainer never asks which kind of backbone it has.

    Args:
        stack: a `RecurrentStack`.
        input_length, output_length, height, width, channels: int.
        patch_size: int.
        reverse_scheduled_sampling: bool.
        options: dict. The subclass's other constructor arguments (validated
            values): each becomes an attribute and a `get_config()` entry.
        output_constraint: str or None. `"nonnegative"` or None; see
            `keras_svq.layers.OutputConstraint`. Defaults to None.
        clip: None or physical bounds `[lo, hi]` (either may be None).
            Defaults to None.
        dtype: the dtype policy. Defaults to None.
    """

    def __init__(
        self,
        stack,
        input_length,
        output_length,
        height,
        width,
        channels,
        patch_size=1,
        reverse_scheduled_sampling=False,
        options=None,
        output_constraint=None,
        clip=None,
        dtype=None,
        **kwargs,
    ):
        # === Layers ===
        predictor = RecurrentPredictor(
            stack,
            input_length,
            output_length,
            patch_size=patch_size,
            reverse_scheduled_sampling=reverse_scheduled_sampling,
            dtype=dtype,
            name="predictor",
        )
        constraint = self.make_output_constraint(
            output_constraint, clip, channels, dtype=dtype
        )

        # === Functional Model ===
        inputs = keras.Input(
            shape=(input_length, height, width, channels), name="frames"
        )
        outputs = predictor(inputs)
        if constraint is not None:
            # Only the returned forecast is clipped; the predictor feeds its
            # unclipped predictions back (and `ScheduledSamplingModel` trains
            # through `predictor` directly).
            outputs = constraint(outputs)
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)

        # === Config ===
        self.predictor = predictor
        self.stack = stack
        self.output_constraint_layer = constraint
        self.input_length = input_length
        self.output_length = output_length
        self.height = height
        self.width = width
        self.channels = channels
        self.patch_size = patch_size
        self.reverse_scheduled_sampling = bool(reverse_scheduled_sampling)
        self.output_constraint = output_constraint
        self.clip = None if constraint is None else constraint.clip
        self._options = dict(options or {})
        for name, value in self._options.items():
            setattr(self, name, value)

    @classmethod
    def scheduled_sampling_arguments(cls):
        """The `ScheduledSamplingModel` arguments (`sampling_start_value`, ...)."""
        parameters = inspect.signature(ScheduledSamplingModel.__init__).parameters
        return [
            name
            for name, p in parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and name not in ("self", "backbone")
        ]

    def training_model(self, scheduled_sampling=None):
        """`self`, or a built `ScheduledSamplingModel` around it.

        The wrapper's weights are the backbone's plus its sampling step, so
        a checkpoint of `fit` loads into `training_model(...)` of the same
        settings; evaluation and export use the backbone itself.

        Args:
            scheduled_sampling: dict or None. `ScheduledSamplingModel`
                arguments; None trains without scheduled sampling.
        """
        type(self).check_scheduled_sampling(scheduled_sampling)
        if scheduled_sampling is None:
            return self
        wrapper = ScheduledSamplingModel(self, **scheduled_sampling)
        # Built by one call, so that checkpoints load into it (resume, evaluate).
        wrapper(np.zeros((1, *self.input_shape[1:]), "float32"), training=False)
        return wrapper

    @staticmethod
    def check_frames(input_length, output_length, height, width, channels, patch_size):
        check_positive_ints(
            input_length=input_length,
            output_length=output_length,
            height=height,
            width=width,
            channels=channels,
            patch_size=patch_size,
        )
        for name, size in (("height", height), ("width", width)):
            if size % patch_size:
                lower = size - size % patch_size
                options = [s for s in (lower, lower + patch_size) if s > 0]
                raise ValueError(
                    f"`{name}` must be a multiple of `patch_size`={patch_size}; the "
                    f"nearest sizes that work are {options} (pad or crop the frames). "
                    f"Received: {name}={size}"
                )

    def get_config(self):
        return {**self.frame_config(), "patch_size": self.patch_size, **self._options}
