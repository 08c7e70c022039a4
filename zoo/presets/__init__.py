"""Experiment presets: one YAML file per (dataset, model), loaded by name.

A preset name is `<dataset>/<model>`, the file `zoo/presets/<dataset>/<model>.yaml`:

- datasets of the SVQ paper: `weather_t2m`, `weather_r`, `weather_uv10`,
  `weather_tcc`, `weather_mv`, `weather_hmv`, `taxibj`, `kth`, `kitticaltech`, `human`
  (generated from the official configs by `generate_presets.py`; train them
  with `--data-dir`);
- CPU-sized presets on the embedded samples: `era5_uk`, `nyc_taxi`,
  `mmnist_sample` (no files needed);
- models: `simvp_<translator>` (`simvp_gsta`, `simvp_incepu`, ...), `tau`,
  with `_svq_frozen` or `_svq_learnable` appended for SimVP + SVQ; the
  recurrent baselines `convlstm`, `predrnn`, `predrnnpp`, `predrnnv2`, `mim`,
  `mau`, `e3dlstm`, `phydnet`; on `weather_t2m` also the paper's ablations
  (`simvp_<translator>_svq_learnable`, `simvp_gsta_<vq|rvq|...>`,
  `simvp_gsta_svq_learnable_post`, `..._noise_0.1`, `..._relu_true_false`,
  `simvp_gsta_svq_freeze_projection`, `simvp_gsta_svq_freeze_both`).

These files are the only copy of the presets: `SimVPBackbone.from_preset` and
the recurrent backbones' `from_preset` build from a preset's `model` section.
A preset generated from an official config names it in `reference`: its key
in the reference's `param_counts.json`, whose parameter counts the tests
check.

Example:

```python
from zoo.presets import list_presets, load_preset
config = load_preset("weather_t2m/simvp_gsta_svq_frozen")
config["model"]["quantizer"]["codebook_size"]  # 10000
```
"""

import difflib
import pathlib
import re

from keras_svq.io_utils import UserError

PRESET_DIR = pathlib.Path(__file__).resolve().parent


_BACKBONE_LINE = re.compile(r"^backbone: *(\S+) *$", re.MULTILINE)


def list_presets(backbone=None):
    """Sorted names of every preset, or of those whose `backbone` is `backbone`."""
    paths = PRESET_DIR.glob("*/*.yaml")
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
    from keras_svq.training.config import yaml_load

    config = yaml_load(preset_path(name).read_text())
    if backbone is not None and config["backbone"] != backbone:
        raise UserError(
            f"Preset {name!r} is a {config['backbone']} preset, not a {backbone} "
            f"one; {backbone} presets: {', '.join(list_presets(backbone))}"
        )
    return config
