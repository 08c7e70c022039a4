"""`Backbone`: what every forecaster of the zoo shares."""

import keras

from keras_svq.layers import OutputConstraint


class Backbone(keras.Model):
    """Base class of the zoo's forecasters (`SimVPBackbone`, the recurrent ones).

    A backbone is a functional `keras.Model` from `(B, T_in, H, W, C)` frames
    to `(B, T_out, H, W, C)` forecasts. Subclasses build their graph in
    `__init__`, set `input_length`, `output_length`, `height`, `width` and
    `channels`, and list their own constructor arguments in `get_config` on
    top of `frame_config()`. This class adds the YAML presets of
    `zoo/presets/` (`list_presets`, `get_preset`, `from_preset`), the
    config round trip and the optional physical output constraint.

    Every backbone takes `output_constraint` (None or `"nonnegative"`) and
    `clip` (None or physical `[lo, hi]`, either side may be None). When either
    is set, the graph ends with an `OutputConstraint` layer named
    `"output_constraint"` that clips the forecast to those physical bounds in
    the model's normalised space; call `set_output_normalization(mean, std)`
    with the training data's normaliser once it is known (the mean and std
    are then saved with the weights). When both are None no layer is added,
    so weights and parameter counts are those of the plain model.

    Example:

    ```python
    from zoo import SimVPBackbone

    "weather_t2m/simvp_gsta" in SimVPBackbone.list_presets()  # True
    model = SimVPBackbone.from_preset("weather_t2m/simvp_gsta", output_length=6)
    model = SimVPBackbone.from_preset(
        "weather_r/simvp_gsta", output_constraint="nonnegative"
    )
    model.set_output_normalization(mean=[0.1], std=[0.3])  # the run's normaliser
    ```
    """

    @staticmethod
    def make_output_constraint(output_constraint, clip, channels, dtype=None):
        """The `OutputConstraint` that ends the graph, or None if both are None."""
        if output_constraint is None and clip is None:
            return None
        return OutputConstraint(
            constraint=output_constraint,
            clip=clip,
            channels=channels,
            dtype=dtype,
            name="output_constraint",
        )

    def set_output_normalization(self, mean, std):
        """Gives the output constraint the normaliser of the training data.

        The physical bounds become `(bound - mean) / std` per channel in model
        space. A no-op for a backbone without `output_constraint` or `clip`.

        Args:
            mean: scalar or array-like `(C,)`. The normaliser's offset.
            std: scalar or array-like `(C,)`. The normaliser's scale.
        """
        for layer in self.layers:
            if isinstance(layer, OutputConstraint):
                layer.set_normalization(mean, std)

    def frame_config(self):
        """The config entries every backbone has: frame sizes, output bounds, Keras'."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "input_length": self.input_length,
            "output_length": self.output_length,
            "height": self.height,
            "width": self.width,
            "channels": self.channels,
            "output_constraint": self.output_constraint,
            "clip": self.clip,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        return cls(**config)

    @classmethod
    def list_presets(cls):
        """Names of the YAML presets (`zoo/presets/`) that build this backbone."""
        from zoo import presets

        return presets.list_presets(backbone=cls.__name__)

    @classmethod
    def get_preset(cls, name):
        """The experiment mapping of the preset `name`, which must build `cls`."""
        from zoo import presets

        return presets.load_preset(name, backbone=cls.__name__)

    @classmethod
    def from_preset(cls, preset, **overrides):
        """A freshly initialised backbone with an official config's settings.

        Args:
            preset: str. A preset name of this backbone (see `list_presets()`),
                e.g. `"weather_t2m/simvp_gsta_svq_frozen"`.
            **overrides: constructor arguments that replace the preset's.
        """
        return cls(**{**cls.get_preset(preset)["model"], **overrides})
