"""`Backbone`: what every forecaster of the zoo shares."""

import difflib
import inspect
import pathlib

import keras

from keras_svq.io_utils import UserError
from keras_svq.layers import OutputConstraint
from zoo import layer_trainability
from zoo.registry import get_backbone_class


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
    # Trained weights, and the normaliser of their training data:
    model = SimVPBackbone.from_preset("era5_uk/simvp_gsta_svq_frozen")
    normalizer = SimVPBackbone.get_preset_metadata("era5_uk/simvp_gsta_svq_frozen")[
        "normalizer"
    ]
    model.save_to_preset("my_preset", normalizer=normalizer)
    model = SimVPBackbone.from_preset("my_preset")
    model = SimVPBackbone.from_preset(
        "weather_r/simvp_gsta", output_constraint="nonnegative"
    )
    model.set_output_normalization(mean=[0.1], std=[0.3])  # the run's normaliser
    ```
    """

    def __init__(self, *args, dtype=None, **kwargs):
        super().__init__(*args, dtype=dtype, **kwargs)
        if dtype is not None:
            # Keras' functional models drop `dtype`: keep the policy the
            # layers were built with, so that `get_config` round-trips it.
            self.dtype_policy = dtype
        # What the constructor built, to tell user changes apart in `get_config`.
        self._constructed_trainable = layer_trainability.trainable_flags(self)

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
        """The config entries every backbone has: frame sizes, output bounds, Keras'.

        Sub-layers whose `trainable` the user changed add their flags under
        `sublayer_trainable` (see `zoo.layer_trainability`).
        """
        flags = layer_trainability.changed_flags(self, self._constructed_trainable)
        extra = {} if flags is None else {layer_trainability.CONFIG_KEY: flags}
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
            **extra,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        flags = config.pop(layer_trainability.CONFIG_KEY, None)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.dtype_policies.deserialize(config["dtype"])
        model = cls(**config)
        if flags:
            layer_trainability.restore_flags(model, flags)
        return model

    @classmethod
    def list_presets(cls, with_weights=False):
        """Names of the YAML presets (`zoo/presets/`) that build this backbone.

        Args:
            with_weights: bool. Only the presets that ship trained weights.
        """
        from zoo import presets

        backbone = None if cls is Backbone else cls.__name__
        return presets.list_presets(backbone=backbone, with_weights=with_weights)

    @classmethod
    def get_preset(cls, name):
        """The experiment mapping of the preset `name`, which must build `cls`."""
        from zoo import presets

        return presets.load_preset(name, backbone=cls.__name__)

    @classmethod
    def get_preset_metadata(cls, preset):
        """The metadata of a preset's weights (a dict), or None if it has none.

        Holds the training data's `normalizer` (`mean`, `std`: what maps
        physical frames to the model's inputs), the test `metrics` and the
        `provenance` of the weights.

        Args:
            preset: str. A preset name or a folder written by `save_to_preset`.
        """
        from zoo import presets

        return presets.resolve(preset, backbone=cls._preset_backbone_name())[2]

    @classmethod
    def _preset_backbone_name(cls):
        # `Backbone.from_preset` builds whatever backbone the preset names.
        return None if cls is Backbone else cls.__name__

    # --------------------------------------------------- scheduled sampling

    @classmethod
    def scheduled_sampling_arguments(cls):
        """Keys `training.scheduled_sampling` may hold for this backbone, or None.

        None (the default) means the backbone trains on its own, without
        scheduled sampling; recurrent backbones return the arguments of
        their training wrapper (`ScheduledSamplingModel`).
        """
        return None

    @classmethod
    def check_scheduled_sampling(cls, section):
        """Raises a `UserError` naming the key when `section` does not suit `cls`.

        Args:
            section: dict or None. The experiment's `training.scheduled_sampling`.
        """
        if section is None:
            return
        name = "training.scheduled_sampling"
        if not isinstance(section, dict):
            raise UserError(f"{name} must be a mapping or null. Received: {section!r}")
        keys = cls.scheduled_sampling_arguments()
        if keys is None:
            raise UserError(
                f"{name} needs a backbone trained with scheduled sampling "
                f"(ConvLSTM, PredRNN, ...); {cls.__name__} has none: set it to null"
            )
        for key in section:
            if key not in keys:
                close = difflib.get_close_matches(key, list(keys), n=3)
                hint = (
                    f"; did you mean {', '.join(close)}?"
                    if close
                    else f"; allowed keys: {', '.join(sorted(keys))}"
                )
                raise UserError(f"Unknown config key {name}.{key}{hint}")

    def training_model(self, scheduled_sampling=None):
        """The model `fit` trains: the backbone itself, or its training wrapper.

        Args:
            scheduled_sampling: dict or None. The experiment's
                `training.scheduled_sampling`; backbones without scheduled
                sampling accept only None.
        """
        type(self).check_scheduled_sampling(scheduled_sampling)
        return self

    @classmethod
    def constructor_arguments(cls):
        """Names `cls(...)` accepts: its own arguments and Keras' `name`, `trainable`, `dtype`."""
        parameters = inspect.signature(cls.__init__).parameters.values()
        names = [
            p.name
            for p in parameters
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
        ]
        return names + [name for name in _KERAS_ARGUMENTS if name not in names]

    @classmethod
    def from_preset(cls, preset, load_weights=None, **overrides):
        """A backbone built from a preset, with its trained weights if it ships them.

        Args:
            preset: str. A preset name of this backbone (see `list_presets()`),
                e.g. `"era5_uk/simvp_gsta_svq_frozen"`, or a folder written by
                `save_to_preset`. `Backbone.from_preset` builds whichever
                backbone the preset names.
            load_weights: bool or None. Whether to load the preset's trained
                weights; `True` on a preset without weights raises a
                `ValueError`. Defaults to None: load them when the preset
                ships weights (`list_presets(with_weights=True)`), otherwise
                return a freshly initialised model.
            **overrides: constructor arguments that replace the preset's. With
                weights loaded, only those that leave the trained function
                intact may differ from the preset's (`name`, `trainable`,
                `dtype`, `drop_rate`, `drop_path_rate`, `noise_rate`); others
                need `load_weights=False`.

        Returns:
            The backbone. Its weights' training normaliser and test metrics
            are in `get_preset_metadata(preset)`.
        """
        from zoo import presets

        config, weights, _ = presets.resolve(
            preset, backbone=cls._preset_backbone_name()
        )
        backbone_cls = cls
        if cls is Backbone:
            backbone_cls = get_backbone_class(config["backbone"])
        valid = backbone_cls.constructor_arguments()
        unknown = [key for key in overrides if key not in valid]
        if unknown:
            close = difflib.get_close_matches(unknown[0], valid, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise UserError(
                f"Unknown argument(s) {', '.join(unknown)} for "
                f"{backbone_cls.__name__}.from_preset.{hint} Valid arguments: "
                f"load_weights, {', '.join(valid)}"
            )
        if load_weights not in (None, True, False):
            raise UserError(
                "load_weights must be None (load the weights a preset ships), "
                f"True or False. Received: load_weights={load_weights!r}"
            )
        if load_weights is None:
            load_weights = weights is not None
        if load_weights and weights is None:
            with_weights = backbone_cls.list_presets(with_weights=True)
            raise UserError(
                f"Preset {str(preset)!r} ships no weights, so load_weights=True "
                "cannot be honoured; pass load_weights=False for a freshly "
                "initialised model, or use a preset with weights: "
                f"{', '.join(with_weights) or 'none'}"
            )
        model_config = dict(config["model"])
        if load_weights:
            _check_weight_overrides(backbone_cls, preset, model_config, overrides)
        model = backbone_cls.from_config({**model_config, **overrides})
        if load_weights:
            from keras_svq.io_utils import checksum_path
            from keras_svq.training.callbacks import load_weights_checked

            if not checksum_path(weights).is_file():
                raise UserError(
                    f"Preset weights {weights} have no {checksum_path(weights).name} "
                    "checksum, so their integrity cannot be checked; restore it "
                    "from a copy, or save the preset again with save_to_preset"
                )
            load_weights_checked(model, weights)
        return model

    def save_to_preset(
        self,
        preset_dir,
        *,
        normalizer=None,
        metrics=None,
        provenance=None,
        data=None,
        training=None,
        overwrite=False,
    ):
        """Writes the backbone as a preset folder that `from_preset(dir)` reads back.

        The folder holds `config.yaml` (the experiment: `backbone`, `model` =
        `get_config()`, and `data` / `training` when given), `model.weights.h5`
        with its `.sha256` sidecar (checked when loaded), and `metadata.json`
        (versions, normaliser, metrics, provenance). It is written as a whole:
        a failed save leaves the folder as it was.

        Args:
            preset_dir: str or path. The folder; it must be new or empty
                unless `overwrite`.
            normalizer: None, a `keras_svq.data.Normalizer` or a dict with
                `mean` and `std`. The training data's normaliser (what maps
                physical frames to the model's inputs). Defaults to None.
            metrics: None or dict. Scores to publish, e.g.
                `{"test": {"mse": ..., "mae": ...}}`. Defaults to None.
            provenance: None or dict. How the weights were made (commit,
                seed, epochs, date, run). Defaults to None.
            data: None or dict. The experiment's `data` section. Defaults to None.
            training: None or dict. The experiment's `training` section.
                Defaults to None.
            overwrite: bool. Replace an existing preset folder. Defaults to False.
        """
        from keras_svq.io_utils import atomic_directory
        from keras_svq.io_utils import atomic_save_weights
        from keras_svq.io_utils import atomic_write_json
        from keras_svq.io_utils import atomic_write_text
        from keras_svq.io_utils import yaml_dump
        from keras_svq.version import __version__
        from zoo import presets

        preset_dir = pathlib.Path(preset_dir)
        if preset_dir.exists():
            if not preset_dir.is_dir():
                raise UserError(
                    f"save_to_preset needs a folder, but {preset_dir} is a file; "
                    "choose another path"
                )
            present = sorted(path.name for path in preset_dir.iterdir())
            own = {
                presets.CONFIG_FILE,
                presets.METADATA_FILE,
                presets.WEIGHTS_FILE,
                presets.WEIGHTS_FILE + ".sha256",
            }
            foreign = [name for name in present if name not in own]
            if foreign:
                raise UserError(
                    f"{preset_dir} holds files that are not a preset's "
                    f"({', '.join(foreign[:5])}); save to a new or empty folder"
                )
            if present and not overwrite:
                raise UserError(
                    f"{preset_dir} already holds a preset; pass overwrite=True "
                    "to replace it"
                )
        config = {"backbone": type(self).__name__}
        if data is not None:
            config["data"] = dict(data)
        config["model"] = self.get_config()
        if training is not None:
            config["training"] = dict(training)
        metadata = {
            "keras_svq_version": __version__,
            "keras_version": keras.__version__,
            "backbone": type(self).__name__,
            "normalizer": _normalizer_dict(normalizer),
            "metrics": _jsonable(metrics or {}),
            "provenance": _jsonable(provenance or {}),
        }
        with atomic_directory(preset_dir) as tmp:
            atomic_write_text(tmp / presets.CONFIG_FILE, yaml_dump(_jsonable(config)))
            atomic_save_weights(self, tmp / presets.WEIGHTS_FILE)
            atomic_write_json(tmp / presets.METADATA_FILE, metadata)
        return preset_dir


# Keras-level constructor arguments every backbone forwards to `keras.Model`.
_KERAS_ARGUMENTS = ("name", "trainable", "dtype")
# Arguments that leave the function of trained weights intact: Keras' own,
# and regularisers active in training only.
_WEIGHT_NEUTRAL_ARGUMENTS = _KERAS_ARGUMENTS + (
    "drop_rate",
    "drop_path_rate",
    "noise_rate",
)


def _check_weight_overrides(cls, preset, model_config, overrides):
    """Refuses overrides that change the model the preset's weights were trained for.

    Shape changes would fail to load (or, worse, load into a model computing
    something else, e.g. `residual`), so any architecture argument that
    differs from the preset's is an error with the way out.
    """
    defaults = {
        name: p.default
        for name, p in inspect.signature(cls.__init__).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    changed = [
        key
        for key, value in overrides.items()
        if key not in _WEIGHT_NEUTRAL_ARGUMENTS
        and value != model_config.get(key, defaults.get(key))
    ]
    if changed:
        was = ", ".join(
            f"{key}={model_config.get(key, defaults.get(key))!r}" for key in changed
        )
        received = ", ".join(f"{key}={overrides[key]!r}" for key in changed)
        raise UserError(
            f"Preset {str(preset)!r} ships weights trained with {was}; overriding "
            f"it would load them into a different model. Pass load_weights=False "
            f"for a freshly initialised model with these settings, or drop the "
            f"override. Received: {received}"
        )


def _normalizer_dict(normalizer):
    if normalizer is None:
        return None
    if hasattr(normalizer, "get_config"):
        normalizer = normalizer.get_config()
    if not isinstance(normalizer, dict) or not {"mean", "std"} <= set(normalizer):
        raise UserError(
            "normalizer must be a keras_svq Normalizer or a dict with 'mean' and "
            f"'std'. Received: normalizer={normalizer!r}"
        )
    return _jsonable(dict(normalizer))


def _jsonable(obj):
    """Plain Python values (lists for arrays) for JSON and YAML."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj
