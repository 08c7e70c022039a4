"""Experiment presets: one YAML file per (dataset, model), loaded by name.

A preset name is `<dataset>/<model>`, the file `zoo/presets/<dataset>/<model>.yaml`:

- datasets of the SVQ paper: `weather_t2m`, `weather_r`, `weather_uv10`,
  `weather_tcc`, `weather_mv`, `weather_hmv`, `taxibj`, `kth`, `kitticaltech`, `human`
  (generated from the official configs by `tools/generate_presets.py` in
  the source tree; train them with `--data-dir`);
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

Some presets ship trained weights beside their YAML file (`list_presets(
with_weights=True)`): `<model>.weights.h5` with its `.sha256` sidecar, and
`<model>.metadata.json` (keras_svq version, the training data's normaliser,
the test metrics, how the weights were trained). `from_preset` loads them by
default. `tools/train_preset_weights.py` (in the source tree) trains them.

A preset folder written by `Backbone.save_to_preset(dir)` holds the same
three things under fixed names (`config.yaml`, `model.weights.h5`,
`metadata.json`); `from_preset(dir)` reads it back.

The functions live in `keras_svq.preset_catalog`, which reads these files
without importing Keras (this package's parent, `zoo`, imports every
backbone); they are re-exported here.

Example:

```python
from zoo.presets import list_presets, load_preset
config = load_preset("weather_t2m/simvp_gsta_svq_frozen")
config["model"]["quantizer"]["codebook_size"]  # 10000
```
"""

from keras_svq.preset_catalog import CONFIG_FILE
from keras_svq.preset_catalog import METADATA_FILE
from keras_svq.preset_catalog import METADATA_SUFFIX
from keras_svq.preset_catalog import PRESET_DIR
from keras_svq.preset_catalog import WEIGHTS_FILE
from keras_svq.preset_catalog import WEIGHTS_SUFFIX
from keras_svq.preset_catalog import is_preset_dir
from keras_svq.preset_catalog import list_presets
from keras_svq.preset_catalog import load_metadata
from keras_svq.preset_catalog import load_preset
from keras_svq.preset_catalog import preset_path
from keras_svq.preset_catalog import read_metadata
from keras_svq.preset_catalog import resolve
from keras_svq.preset_catalog import weights_path

__all__ = [
    "CONFIG_FILE",
    "METADATA_FILE",
    "METADATA_SUFFIX",
    "PRESET_DIR",
    "WEIGHTS_FILE",
    "WEIGHTS_SUFFIX",
    "is_preset_dir",
    "list_presets",
    "load_metadata",
    "load_preset",
    "preset_path",
    "read_metadata",
    "resolve",
    "weights_path",
]
