"""The YAML experiment file: schema, validation, `--set` overrides.

An experiment file has four sections, and optionally a `reference`:

```yaml
reference: weather_t2m_5_625/SimVP_gSTA   # optional: the official config it reproduces
backbone: SimVPBackbone      # a registered name (`zoo.registry.available_backbones()`)
data:                        # exactly one source key, then that loader's arguments
  sample: era5_t2m_uk        #   sample: keras_svq.data.load_sample(name, ...)
  input_length: 12           #   dataset: keras_svq.data.load_dataset(name, data_dir=...)
  output_length: 12          #   array: keras_svq.data.from_array(load_array(path), ...)
  batch_size: 16
  crop: [32, 48]             # optional: keep the top-left H x W (see `crop`)
# Own data (`array:`) take every `from_array` argument, e.g.
#   array: radar.npy | sst.nc (variable: sst) | era5.zarr (variable: t2m)
#   missing_value: 65535       nan_policy: fill      mask: land_sea.npy
#   crop: {rows: [220, 636], cols: [140, 556]}   coarsen: 2   pad_to_multiple: 4
model:                       # exactly the backbone's `get_config()`
  input_length: 12
  ...
training:                    # the arguments of `TrainingConfig`
  epochs: 50
  learning_rate: 0.005
```

Defaults live in one place only: the constructor signatures of the backbone,
the data loaders and `TrainingConfig`. A key that is not an argument of the
function it feeds is an error that names the key (`data.batchsize`,
`training.learning_rat`...). Precedence is defaults < file < `--set`.
"""

import copy
import difflib
import inspect
import math

import yaml

from keras_svq import io_utils
from keras_svq.io_utils import UserError

SECTIONS = ("backbone", "data", "model", "training")
# Top-level keys beside the sections: `reference` names the official config a
# preset reproduces (its key in the reference's param_counts.json).
METADATA_KEYS = ("reference",)
DATA_SOURCES = ("sample", "dataset", "array")
# Keys of the data section handled by the trainer rather than the loader.
DATA_EXTRA_KEYS = ("crop",)


def get_backbone_class(name):
    """The backbone class a config's `backbone` key names (see `zoo.registry`).

    `zoo` is imported here, on first use, not when this module is: the zoo's
    presets read configs, and `keras_svq` never imports `zoo` at import time.
    """
    from zoo.registry import get_backbone_class as lookup

    return lookup(name)


class TrainingConfig:
    """How to fit: optimizer, schedule, loss, stopping, precision, seed.

    The defaults follow OpenSTL's command-line defaults (the reference
    training code of SVQ), so a preset only states what its official config
    file states.

    Args:
        epochs: int. Number of epochs. Defaults to 200.
        optimizer: str. "adam", "adamw" or "sgd". Defaults to "adam".
        learning_rate: float. Peak learning rate. Defaults to 1e-3.
        weight_decay: float or None. None uses the optimizer's own default
            (0 for Adam and SGD, 0.01 for AdamW, as in OpenSTL). Defaults to None.
        schedule: str. "onecycle", "cosine" or "constant". Defaults to "onecycle".
        warmup_epochs: int. Linear warm-up length for "cosine". Defaults to 0.
        warmup_learning_rate: float. Learning rate at the start of warm-up.
            Defaults to 1e-5.
        min_learning_rate: float. Final learning rate of "cosine". Defaults to 1e-6.
        final_div_factor: float. "onecycle" ends at
            `learning_rate / 25 / final_div_factor`. Defaults to 1e4.
        loss: str. "mse", "mae", "huber" or "tau" (TAU's differential
            divergence loss). Defaults to "mse".
        huber_delta: float. Delta of the Huber loss. Defaults to 1.0.
        tau_alpha: float. Weight of TAU's divergence term. Defaults to 0.1.
        patience: int or None. Early stopping on the validation loss after
            this many epochs without improvement; None disables it. Defaults to 10.
        clip_norm: float or None. Global gradient-norm clipping. Defaults to None.
        seed: int. Seeds Python, numpy, TensorFlow and the data order.
            Defaults to 42.
        deterministic: bool. Enables TensorFlow op determinism, so a seeded
            run is bit-reproducible (and a resumed one equals an uninterrupted
            one). Defaults to True.
        mixed_precision: bool. Train under "mixed_float16" (GPU) or
            "mixed_bfloat16" (TPU/CPU). Defaults to False.
        jit_compile: bool. Compile the train step with XLA. Defaults to False.
        steps_per_epoch: int or None. Cap on training steps per epoch.
            Defaults to None (the whole training split).
        validation_steps: int or None. Cap on validation steps. Defaults to None.
        codebook_diagnostics: bool. Log SVQ codebook usage each epoch when the
            model has an SVQ. Defaults to True.
        scheduled_sampling: dict or None. The arguments of the backbone's
            scheduled-sampling wrapper (`ScheduledSamplingModel`:
            `sampling_start_value`, ...) a recurrent backbone's official
            config trains with; None trains without. The backbone checks the
            keys (`validate`) and chooses the wrapper (`training_model`), so
            a backbone without one refuses the section. Defaults to None.
        remat_layers: list of str or None. Names of layers whose activations
            are recomputed in the backward pass instead of kept
            (`keras.RematScope(mode="list_of_layers")`, gradient
            checkpointing): less memory for a little more compute. For
            SimVP's MetaFormer translators, `[attn, mlp]` brings the peak
            memory of a gSTA training step (WeatherBench-S t2m, batch 16)
            from 4.96 to 2.58 GiB for about 15 % more time per step, `[mlp]`
            alone to 3.29 GiB for 9 % (`bench/RESULTS.md`). Every name must be a layer of the model;
            layers with dropout in training are refused. Defaults to None.
    """

    def __init__(
        self,
        epochs=200,
        optimizer="adam",
        learning_rate=1e-3,
        weight_decay=None,
        schedule="onecycle",
        warmup_epochs=0,
        warmup_learning_rate=1e-5,
        min_learning_rate=1e-6,
        final_div_factor=1e4,
        loss="mse",
        huber_delta=1.0,
        tau_alpha=0.1,
        patience=10,
        clip_norm=None,
        seed=42,
        deterministic=True,
        mixed_precision=False,
        jit_compile=False,
        steps_per_epoch=None,
        validation_steps=None,
        codebook_diagnostics=True,
        scheduled_sampling=None,
        remat_layers=None,
    ):
        _check_training_types(locals())
        if warmup_epochs > epochs:
            raise UserError(
                f"training.warmup_epochs must be in [0, epochs={epochs}]. "
                f"Received: warmup_epochs={warmup_epochs}"
            )
        self.epochs = epochs
        self.optimizer = optimizer
        self.learning_rate = float(learning_rate)
        self.weight_decay = weight_decay
        self.schedule = schedule
        self.warmup_epochs = warmup_epochs
        self.warmup_learning_rate = float(warmup_learning_rate)
        self.min_learning_rate = float(min_learning_rate)
        self.final_div_factor = float(final_div_factor)
        self.loss = loss
        self.huber_delta = float(huber_delta)
        self.tau_alpha = float(tau_alpha)
        self.patience = patience
        self.clip_norm = clip_norm
        self.seed = seed
        self.deterministic = bool(deterministic)
        self.mixed_precision = bool(mixed_precision)
        self.jit_compile = bool(jit_compile)
        self.steps_per_epoch = steps_per_epoch
        self.validation_steps = validation_steps
        self.codebook_diagnostics = bool(codebook_diagnostics)
        # Its keys are checked by the backbone (`validate`), which chooses
        # whether and how it trains with scheduled sampling.
        self.scheduled_sampling = scheduled_sampling
        self.remat_layers = None if remat_layers is None else list(remat_layers)

    def get_config(self):
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}


# ------------------------------------------------------------------ types


class _Kind:
    """What one config value may be: a type, bounds, a fixed set of names."""

    def __init__(self, kind, *, optional=False, minimum=None, above=None, choices=None):
        self.kind = kind  # "int", "number", "bool", "str", "names" or "mapping"
        self.optional = optional
        self.minimum = minimum
        self.above = above
        self.choices = choices

    def check(self, name, value):
        if value is None:
            if self.optional:
                return
            raise UserError(f"{name} must be set ({self._wanted()}). Received: null")
        ok = {
            "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "number": lambda v: (
                isinstance(v, (int, float))
                and not isinstance(v, bool)
                and math.isfinite(v)
            ),
            "bool": lambda v: isinstance(v, bool),
            "str": lambda v: isinstance(v, str),
            "names": lambda v: (
                isinstance(v, (list, tuple))
                and len(v) > 0
                and all(isinstance(n, str) and n for n in v)
            ),
            "mapping": lambda v: isinstance(v, dict),
        }[self.kind](value)
        if ok and self.minimum is not None:
            ok = value >= self.minimum
        if ok and self.above is not None:
            ok = value > self.above
        if ok and self.choices is not None:
            ok = value.lower() in self.choices()
        if not ok:
            raise UserError(f"{name} must be {self._wanted()}. Received: {value!r}")

    def _wanted(self):
        text = {
            "int": "an integer",
            "number": "a finite number",
            "bool": "true or false",
            "str": "a string",
            "names": "a non-empty list of layer names",
            "mapping": "a mapping",
        }[self.kind]
        if self.choices is not None:
            text = "one of " + ", ".join(sorted(self.choices()))
        if self.above is not None:
            text += f" > {self.above}"
        elif self.minimum is not None:
            text += f" >= {self.minimum}"
        if self.optional:
            text += " or null"
        return text


def _names(module, attribute):
    import importlib

    return lambda: list(getattr(importlib.import_module(module), attribute))


_TRAINING_KINDS = {
    "epochs": _Kind("int", minimum=1),
    "optimizer": _Kind(
        "str", choices=_names("keras_svq.training.optimizers", "OPTIMIZERS")
    ),
    "learning_rate": _Kind("number", above=0),
    "weight_decay": _Kind("number", optional=True, minimum=0),
    "schedule": _Kind(
        "str", choices=_names("keras_svq.training.schedules", "SCHEDULES")
    ),
    "warmup_epochs": _Kind("int", minimum=0),
    "warmup_learning_rate": _Kind("number", minimum=0),
    "min_learning_rate": _Kind("number", minimum=0),
    "final_div_factor": _Kind("number", above=0),
    "loss": _Kind("str", choices=_names("keras_svq.training.optimizers", "LOSSES")),
    "huber_delta": _Kind("number", above=0),
    "tau_alpha": _Kind("number", minimum=0),
    "patience": _Kind("int", optional=True, minimum=1),
    "clip_norm": _Kind("number", optional=True, above=0),
    "seed": _Kind("int", minimum=0),
    "deterministic": _Kind("bool"),
    "mixed_precision": _Kind("bool"),
    "jit_compile": _Kind("bool"),
    "steps_per_epoch": _Kind("int", optional=True, minimum=1),
    "validation_steps": _Kind("int", optional=True, minimum=1),
    "codebook_diagnostics": _Kind("bool"),
    "scheduled_sampling": _Kind("mapping", optional=True),
    "remat_layers": _Kind("names", optional=True),
}


def _check_training_types(values):
    for name, kind in _TRAINING_KINDS.items():
        kind.check(f"training.{name}", values[name])


def check_by_default(section_name, fn, values, int_keys=()):
    """Type checks of a section's values against `fn`'s defaults.

    A value whose parameter defaults to a bool must be a bool, one defaulting
    to a number must be a number (an integer if the default is one), and the
    `int_keys` must be positive integers; None is left to `fn`.
    """
    defaults = {
        name: p.default
        for name, p in inspect.signature(fn).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    for key, value in values.items():
        name = f"{section_name}.{key}"
        if key in int_keys:
            _Kind("int", minimum=1).check(name, value)
            continue
        if value is None or key not in defaults:
            continue
        default = defaults[key]
        if isinstance(default, bool):
            _Kind("bool").check(name, value)
        elif isinstance(default, int) and isinstance(value, (str, bool, float)):
            _Kind("int").check(name, value)
        elif isinstance(default, float) and isinstance(value, (str, bool)):
            _Kind("number").check(name, value)


# ----------------------------------------------------------------- reading


# Kept here for the code that imports them from this module.
yaml_load = io_utils.yaml_load
dump_yaml = io_utils.yaml_dump
_Loader = io_utils.YamlLoader


def load_yaml(path):
    """The mapping of an experiment file; a `UserError` names what is wrong."""
    return io_utils.read_yaml(
        path,
        what="Config file",
        expected=f"a mapping with the sections {', '.join(SECTIONS)}",
    )


def parse_set(items):
    """`["a.b=1", "c=x"]` -> `[(("a", "b"), 1), (("c",), "x")]`; values are YAML."""
    parsed = []
    for item in items or ():
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise UserError(
                f"--set expects key=value, e.g. training.epochs=5. Received: {item!r}"
            )
        try:
            value = yaml_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            value = raw
        parsed.append((tuple(key.strip().split(".")), value))
    return parsed


def apply_overrides(config, overrides):
    """Applies parsed `--set` items; intermediate mappings must already exist.

    Leaf keys may be new (they are checked by `validate` against the
    signatures, so a typo is still caught and named there).
    """
    config = copy.deepcopy(config)
    for path, value in overrides:
        node = config
        for depth, part in enumerate(path[:-1]):
            child = node.get(part) if isinstance(node, dict) else None
            if child is None and isinstance(node, dict) and part in _KNOWN_MAPPINGS:
                child = node[part] = {}
            if not isinstance(child, dict):
                dotted = ".".join(path[: depth + 1])
                raise UserError(f"--set {'.'.join(path)}: unknown key {dotted!r}")
            node = child
        node[path[-1]] = value
    return config


_KNOWN_MAPPINGS = ("data", "model", "training")


# -------------------------------------------------------------- validation


def _unknown_key_error(section, key, allowed):
    close = difflib.get_close_matches(key, list(allowed), n=3)
    hint = (
        f"; did you mean {', '.join(close)}?"
        if close
        else (f"; allowed keys: {', '.join(sorted(allowed))}" if allowed else "")
    )
    return UserError(f"Unknown config key {section}.{key}{hint}")


def _signature_keys(fn, skip=()):
    params = inspect.signature(fn).parameters
    keys = [
        name
        for name, p in params.items()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and name not in skip
    ]
    takes_kwargs = any(p.kind == p.VAR_KEYWORD for p in params.values())
    return keys, takes_kwargs


def data_loader(source):
    """The `keras_svq.data` function behind a data source key."""
    from keras_svq import data

    return {
        "sample": data.load_sample,
        "dataset": data.load_dataset,
        "array": data.from_array,
    }[source]


def data_source(data_section):
    sources = [key for key in DATA_SOURCES if key in data_section]
    if len(sources) != 1:
        raise UserError(
            "The data section needs exactly one of "
            f"{', '.join(DATA_SOURCES)}; found {', '.join(sources) or 'none'}"
        )
    return sources[0]


def _sample_option_keys(name):
    """Keys a sample's builder accepts beyond `load_sample`'s own (best effort)."""
    from keras_svq.data import from_array
    from keras_svq.data import samples

    keys, _ = _signature_keys(from_array, skip=("array",))
    builder = getattr(samples, "_SAMPLE_LOADERS", {}).get(name)
    if builder is not None:
        keys += _signature_keys(builder)[0]
    return keys


def validate_data(section):
    if not isinstance(section, dict):
        raise UserError("The data section must be a mapping")
    source = data_source(section)
    loader = data_loader(source)
    skip = ("self", "name", "array") if source != "array" else ("self", "array")
    keys, takes_kwargs = _signature_keys(loader, skip=skip)
    allowed = set(keys) | {source} | set(DATA_EXTRA_KEYS)
    if source == "array":
        allowed |= {"variable"}
    if source == "sample":
        allowed |= set(_sample_option_keys(section["sample"]))
        takes_kwargs = False
    if not takes_kwargs:
        for key in section:
            if key not in allowed:
                raise _unknown_key_error("data", key, allowed)
    _check_data_types(source, section)
    crop = section.get("crop")
    if source == "array":
        if crop is not None or section.get("coarsen") or section.get("pad_to_multiple"):
            _check_preprocessing(section)
        return
    if crop is not None and (
        not isinstance(crop, (list, tuple))
        or len(crop) != 2
        or not all(isinstance(v, int) and v > 0 for v in crop)
    ):
        raise UserError(f"data.crop must be [height, width]. Received: {crop!r}")


# Arguments of every data source that must be positive integers.
_DATA_INT_KEYS = ("input_length", "output_length", "batch_size")


def _check_data_types(source, section):
    from keras_svq.data import from_array
    from keras_svq.data import samples

    values = {k: v for k, v in section.items() if k != source}
    functions = [data_loader(source)]
    if source == "sample":
        functions.append(from_array)
        builder = getattr(samples, "_SAMPLE_LOADERS", {}).get(section["sample"])
        if builder is not None:
            functions.append(builder)
    for fn in functions:
        present = {
            k: v for k, v in values.items() if k in inspect.signature(fn).parameters
        }
        int_keys = [k for k in _DATA_INT_KEYS if k in present]
        check_by_default("data", fn, present, int_keys=int_keys)


def _check_preprocessing(section):
    from keras_svq.data.preprocessing import Preprocessing

    try:
        Preprocessing(
            crop=section.get("crop"),
            coarsen=section.get("coarsen"),
            pad_to_multiple=section.get("pad_to_multiple"),
            pad_mode=section.get("pad_mode", "reflect"),
        )
    except ValueError as e:
        raise UserError(f"data: {' '.join(str(e).split())}") from None


def _validate_kwargs(section_name, cls, kwargs):
    if not isinstance(kwargs, dict):
        raise UserError(f"The {section_name} section must be a mapping")
    keys, _ = _signature_keys(cls.__init__, skip=("self",))
    # Keras-level keys every layer's get_config() carries (a backbone's
    # **kwargs only forwards these to keras.Model).
    allowed = set(keys) | {"name", "trainable", "dtype"}
    for key in kwargs:
        if key not in allowed:
            raise _unknown_key_error(section_name, key, allowed)
    check_by_default(section_name, cls.__init__, kwargs)
    for key, value in kwargs.items():
        if isinstance(value, dict) and "class_name" in value and "config" in value:
            nested = _resolve_serialized_class(value)
            if nested is not None:
                _validate_kwargs(
                    f"{section_name}.{key}.config", nested, value["config"]
                )


def _resolve_serialized_class(serialized):
    import keras

    name = serialized.get("registered_name") or serialized["class_name"]
    try:
        cls = keras.saving.get_registered_object(name)
        if cls is None and "module" in serialized:
            import importlib

            module = importlib.import_module(serialized["module"])
            cls = getattr(module, serialized["class_name"], None)
        return cls
    except Exception:  # an unresolvable class is reported when the model is built
        return None


def validate(config, *, require_training=True):
    """Checks an experiment mapping; raises `UserError` naming the first bad key."""
    if not isinstance(config, dict):
        raise UserError("An experiment config must be a mapping")
    for key in config:
        if key not in SECTIONS + METADATA_KEYS:
            raise UserError(
                f"Unknown config section {key!r}; sections are {', '.join(SECTIONS)}"
                f" (and {', '.join(METADATA_KEYS)})"
            )
    if "reference" in config and not isinstance(config["reference"], str):
        raise UserError(
            f"reference must be a string. Received: {config['reference']!r}"
        )
    for key in ("backbone", "data", "model"):
        if key not in config:
            raise UserError(f"The config has no {key!r} section")
    backbone = get_backbone_class(config["backbone"])
    validate_data(config["data"])
    _validate_kwargs("model", backbone, config["model"])
    training = config.get("training") or {}
    if require_training:
        training_config(training)
    if isinstance(training, dict):
        backbone.check_scheduled_sampling(training.get("scheduled_sampling"))
    return config


def training_config(section):
    if not isinstance(section, dict):
        raise UserError("The training section must be a mapping")
    keys, _ = _signature_keys(TrainingConfig.__init__, skip=("self",))
    for key in section:
        if key not in keys:
            raise _unknown_key_error("training", key, keys)
    return TrainingConfig(**section)


def resolve(config, overrides=()):
    """File config + `--set` overrides -> a validated config.

    Returns the config with the `training` section completed with its
    defaults, so the copy saved with a run shows every value that was used.
    """
    config = apply_overrides(config, overrides)
    validate(config, require_training=False)  # the training section: just below
    config = copy.deepcopy(config)
    config["training"] = training_config(config.get("training") or {}).get_config()
    return config
