"""`Backbone`: what every forecaster of the zoo shares."""

import keras


class Backbone(keras.Model):
    """Base class of the zoo's forecasters (`SimVPBackbone`, the recurrent ones).

    A backbone is a functional `keras.Model` from `(B, T_in, H, W, C)` frames
    to `(B, T_out, H, W, C)` forecasts. Subclasses build their graph in
    `__init__`, set `input_length`, `output_length`, `height`, `width` and
    `channels`, and list their own constructor arguments in `get_config` on
    top of `frame_config()`. This class adds the YAML presets of
    `zoo/presets/` (`list_presets`, `get_preset`, `from_preset`) and the
    config round trip.

    Example:

    ```python
    from zoo import SimVPBackbone

    "weather_t2m/simvp_gsta" in SimVPBackbone.list_presets()  # True
    model = SimVPBackbone.from_preset("weather_t2m/simvp_gsta", output_length=6)
    ```
    """

    def frame_config(self):
        """The config entries every backbone has: the frame sizes and Keras' own."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "input_length": self.input_length,
            "output_length": self.output_length,
            "height": self.height,
            "width": self.width,
            "channels": self.channels,
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
