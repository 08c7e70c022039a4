"""The preset catalogue: names, files, weights and metadata, without Keras.

The presets are YAML files shipped in the `zoo` package
(`zoo/presets/<dataset>/<model>.yaml`, see `zoo.presets` for what they
hold). This module finds that folder without importing `zoo` (whose
`__init__` imports every backbone, hence Keras and TensorFlow), so listing
and reading presets (`keras-svq presets`) costs file reads only. `zoo.presets`
re-exports everything here; the backbones' `from_preset` build from it.

Example:

```python
from keras_svq import preset_catalog

preset_catalog.list_presets(with_weights=True)  # ["era5_uk/simvp_gsta_svq_frozen", ...]
preset_catalog.load_preset("weather_t2m/simvp_gsta")["model"]["translator"]  # "gsta"
```
"""

import difflib
import importlib.util
import json
import pathlib
import re

from keras_svq.io_utils import UserError
from keras_svq.io_utils import read_yaml
from keras_svq.io_utils import yaml_load


def _preset_dir():
    # `find_spec` of a top-level package locates it without running its
    # `__init__`; `zoo` ships beside `keras_svq` in the same distribution.
    spec = importlib.util.find_spec("zoo")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "The `zoo` package (shipped with keras-svq) was not found; reinstall "
            "keras-svq"
        )
    return pathlib.Path(list(spec.submodule_search_locations)[0]).resolve() / "presets"


PRESET_DIR = _preset_dir()

# A shipped preset's files beside `<model>.yaml`.
WEIGHTS_SUFFIX = ".weights.h5"
METADATA_SUFFIX = ".metadata.json"
# A preset folder's files (`Backbone.save_to_preset`).
CONFIG_FILE = "config.yaml"
WEIGHTS_FILE = "model.weights.h5"
METADATA_FILE = "metadata.json"


_BACKBONE_LINE = re.compile(r"^backbone: *(\S+) *$", re.MULTILINE)


def list_presets(backbone=None, with_weights=False):
    """Sorted names of every preset, or of those whose `backbone` is `backbone`.

    Args:
        backbone: str or None. Only the presets of this backbone class.
        with_weights: bool. Only the presets that ship trained weights.
    """
    paths = PRESET_DIR.glob("*/*.yaml")
    if with_weights:
        paths = [
            path
            for path in paths
            if path.with_name(path.stem + WEIGHTS_SUFFIX).is_file()
        ]
    if backbone is not None:
        # A text scan: parsing every file would make listing slow.
        paths = [
            path
            for path in paths
            if (match := _BACKBONE_LINE.search(path.read_text()))
            and match.group(1) == backbone
        ]
    return sorted(f"{path.parent.name}/{path.stem}" for path in paths)


def preset_path(name):
    """Path of a preset's YAML file; an unknown name lists close matches."""
    names = list_presets()
    if name not in names:
        close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
        hint = (
            f"; did you mean {', '.join(close)}?"
            if close
            else ("; run `keras-svq presets` to list them")
        )
        raise UserError(f"Unknown preset {name!r}{hint}")
    dataset, model = name.split("/")
    return PRESET_DIR / dataset / f"{model}.yaml"


def load_preset(name, backbone=None):
    """The experiment mapping of a preset (sections backbone, data, model, training).

    Args:
        name: str. A preset name, e.g. `"weather_t2m/simvp_gsta"`.
        backbone: str or None. When given, the preset must be one of this
            backbone class (its `backbone` key); another raises a `ValueError`.
    """
    config = yaml_load(preset_path(name).read_text())
    if backbone is not None and config["backbone"] != backbone:
        raise UserError(
            f"Preset {name!r} is a {config['backbone']} preset, not a {backbone} "
            f"one; {backbone} presets: {', '.join(list_presets(backbone))}"
        )
    return config


def weights_path(name):
    """Path of the trained weights a preset ships; None if it ships none."""
    path = preset_path(name)
    path = path.with_name(path.stem + WEIGHTS_SUFFIX)
    return path if path.is_file() else None


def load_metadata(name):
    """The metadata of a preset's shipped weights (a dict); None without weights.

    Keys: `keras_svq_version`, `backbone`, `normalizer` (`mean`, `std`,
    `kind` of the training data), `metrics` (`test`: physical-unit `mse`,
    `mae`...), `provenance` (commit, seed, epochs, date...), `data`.
    """
    path = preset_path(name)
    path = path.with_name(path.stem + METADATA_SUFFIX)
    return read_metadata(path) if path.is_file() else None


def read_metadata(path):
    path = pathlib.Path(path)
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise UserError(
            f"Preset metadata {path} cannot be read ({type(e).__name__}: {e}); "
            "restore the file from a copy"
        ) from None


def is_preset_dir(preset):
    """True when `preset` names a folder (written by `save_to_preset`), not a preset."""
    return pathlib.Path(str(preset)).is_dir()


def resolve(preset, backbone=None):
    """What a preset name or folder holds: `(config, weights, metadata)`.

    `weights` is the weights file's path, None when there is none;
    `metadata` the metadata dict, None when there is none. With `backbone`
    (a class name), a preset of another backbone raises a `ValueError`.
    """
    if is_preset_dir(preset):
        folder = pathlib.Path(str(preset))
        if not (folder / CONFIG_FILE).is_file():
            raise UserError(
                f"{folder} is not a preset folder: it has no {CONFIG_FILE} "
                "(write one with `backbone.save_to_preset(dir)`)"
            )
        config = read_yaml(folder / CONFIG_FILE, what="Preset config")
        if backbone is not None and config.get("backbone") != backbone:
            raise UserError(
                f"Preset folder {folder} holds a {config.get('backbone')}, not a "
                f"{backbone}; load it with {config.get('backbone')}.from_preset "
                "or Backbone.from_preset"
            )
        weights = folder / WEIGHTS_FILE
        metadata = folder / METADATA_FILE
        return (
            config,
            weights if weights.is_file() else None,
            read_metadata(metadata) if metadata.is_file() else None,
        )
    preset = str(preset)
    path = pathlib.Path(preset)
    if path.is_absolute() or len(path.parts) > 2 or preset.startswith("."):
        # Not of the form `<dataset>/<model>`: meant as a folder.
        raise UserError(
            f"Preset folder not found: {preset} (a preset name is "
            "`<dataset>/<model>`; run `keras-svq presets` to list them)"
        )
    return (
        load_preset(preset, backbone=backbone),
        weights_path(preset),
        load_metadata(preset),
    )
