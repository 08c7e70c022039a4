"""Run folders: what `keras-svq train` writes, read back once by every command.

Layout (`RunLayout`; everything written atomically by `keras_svq.training.trainer`):

```
RUN/
  config.yaml                  the resolved experiment (defaults filled in)
  run.json                     status, versions, normaliser, dataset facts, results
  checkpoints/best.weights.h5  lowest validation loss
  checkpoints/final.weights.h5 after the last epoch
  model.keras                  the backbone with the best weights (`keras.saving.load_model`)
  data_masks.npz               static masks for predict and export (when some pixel is invalid)
  backup/                      resumable state (deleted when the run finishes)
  logs/history.csv|json        one row per epoch; logs/train.log
  evaluation/                  written by `keras-svq evaluate`
```

`Run` is the read side: it validates the folder on construction, reads
`config.yaml` and `run.json` once, and loads the data and the trained model
on first use, so `evaluate`, `predict`, `export`, `plot` and `explain` share
one copy of each. Importing this module imports neither Keras nor
TensorFlow.

Example:

```python
from keras_svq.runs import Run

run = Run("runs/era5_uk/simvp_gsta")
run.config["backbone"]         # "SimVPBackbone"
model = run.load_model()        # best checkpoint, loaded once
bundle = run.load_data()        # the splits the run was trained on
x, y = bundle.arrays("test")
```
"""

import dataclasses
import pathlib

from keras_svq.io_utils import UserError
from keras_svq.io_utils import read_json

CONFIG_FILE = "config.yaml"
RUN_FILE = "run.json"
# The run's static masks (`input_mask` on the raw grid, `valid_mask` on the
# model grid) for predict and export; absent when every pixel is valid.
MASKS_FILE = "data_masks.npz"
# The trained backbone (best weights) as a `.keras` file: loads with
# `keras.saving.load_model` after `import keras_svq`, on any backend.
MODEL_FILE = "model.keras"


@dataclasses.dataclass
class RunLayout:
    """The paths of a run folder (see the module docstring); reads nothing."""

    root: pathlib.Path

    def __post_init__(self):
        self.root = pathlib.Path(self.root)

    config = property(lambda self: self.root / CONFIG_FILE)
    run = property(lambda self: self.root / RUN_FILE)
    checkpoints = property(lambda self: self.root / "checkpoints")
    best = property(lambda self: self.root / "checkpoints" / "best.weights.h5")
    final = property(lambda self: self.root / "checkpoints" / "final.weights.h5")
    model_file = property(lambda self: self.root / MODEL_FILE)
    backup = property(lambda self: self.root / "backup")
    logs = property(lambda self: self.root / "logs")
    masks = property(lambda self: self.root / MASKS_FILE)
    evaluation = property(lambda self: self.root / "evaluation")


class Run:
    """A trained model's run folder (or a config and a checkpoint), read once.

    `config` and `info` are read on construction; `load_data()` and
    `load_model()` build on first call and return the same objects after.
    Every failure a user can fix (no folder, no `config.yaml`, no checkpoint,
    an invalid config) raises `keras_svq.io_utils.UserError`.

    Args:
        path: str or path. A folder written by `keras-svq train`.
        weights: path or None. The checkpoint `load_model` loads. Defaults to
            the run's best, else its final one (`default_weights`).
        data_dir: path or None. Folder of a full dataset's files, for
            `load_data`. Defaults to None (the run's own data section).

    Example:

    ```python
    run = Run("runs/era5", weights="runs/era5/checkpoints/final.weights.h5")
    forecast = run.load_model().predict(run.load_data().arrays("test")[0])
    ```
    """

    def __init__(self, path, *, weights=None, data_dir=None):
        from keras_svq.training import config as config_lib

        self.layout = RunLayout(path)
        if not self.layout.root.is_dir():
            raise UserError(f"Run folder not found: {self.layout.root}")
        if not self.layout.config.exists():
            raise UserError(
                f"{self.layout.root} is not a keras-svq run (no {CONFIG_FILE})"
            )
        self.config = config_lib.load_yaml(self.layout.config)
        config_lib.validate(self.config)
        self.info = read_json(self.layout.run) if self.layout.run.exists() else {}
        self.data_dir = data_dir
        self._weights = pathlib.Path(weights) if weights else None
        self._data = None
        self._model = None

    @classmethod
    def from_config(cls, config, weights, *, data_dir=None, name="model"):
        """A `Run` without a folder: a resolved `config` and a checkpoint.

        `info` is empty, so only `load_data`, `load_model` and `weights`
        apply (no normaliser from `run.json`, no `model.keras`).
        """
        run = cls.__new__(cls)
        run.layout = None
        run.config = dict(config)
        run.info = {}
        run.data_dir = data_dir
        run._weights = pathlib.Path(weights)
        run._data = None
        run._model = None
        run._name = name
        return run

    def __repr__(self):
        return f"Run({str(self.root) if self.root else self.name!r})"

    @property
    def root(self):
        """The run folder, or None for `Run.from_config`."""
        return self.layout.root if self.layout else None

    @property
    def name(self):
        """The folder's name (figure labels)."""
        return self.layout.root.name if self.layout else self._name

    @property
    def weights(self):
        """The checkpoint `load_model` loads (`pathlib.Path`)."""
        if self._weights is None:
            self._weights = default_weights(self.layout)
        return self._weights

    @property
    def normalizer(self):
        """The training data's `Normalizer`, from `run.json`."""
        return normalizer_from_info(self.info)

    def forecast_transform(self, fill_value=None):
        """A new `ForecastTransform` (raw windows <-> model space) of the run."""
        transform = forecast_transform(self.layout, self.info)
        transform.fill_value = fill_value
        return transform

    def load_data(self):
        """The run's `DataBundle` (splits, normaliser, dataset facts); built once."""
        if self._data is None:
            from keras_svq.training import trainer

            self._data = trainer.build_data(self.config, data_dir=self.data_dir)
        return self._data

    def load_model(self):
        """The trained backbone with `weights` loaded; built once."""
        if self._model is None:
            from keras_svq.training import trainer

            self._model = trainer.load_trained_model(self.config, self.weights)
        return self._model


def load_run(run_dir):
    """`(layout, config, info)` of a run folder (validated; raises `UserError`)."""
    run = Run(run_dir)
    return run.layout, run.config, run.info


def default_weights(layout):
    """The run's best checkpoint, else its final one (raises `UserError`)."""
    for path in (layout.best, layout.final):
        if path.exists():
            return path
    raise UserError(f"{layout.root} has no checkpoint yet (train it first)")


def forecast_transform(layout, info):
    """The run's `ForecastTransform` (raw windows <-> model space) from its folder."""
    import numpy as np

    from keras_svq.data.forecast_transform import ForecastTransform
    from keras_svq.data.preprocessing import Preprocessing

    if "forecast_transform" in info:
        masks = {}
        if layout is not None and layout.masks.exists():
            with np.load(layout.masks) as data:
                masks = {k: data[k] for k in data.files}
        return ForecastTransform.from_config(info["forecast_transform"], masks)
    # Runs written before the transform was stored: normaliser and top-left crop.
    transform = ForecastTransform(normalizer_from_info(info))
    crop, shape = info.get("crop"), info.get("input_shape")
    if crop and shape:
        dataset_shape = (info.get("dataset") or {}).get("frame_shape") or shape[1:]
        transform.preprocessing = Preprocessing(
            crop=list(crop), input_shape=tuple(dataset_shape[:2])
        )
    return transform


def normalizer_from_info(info):
    """The `Normalizer` recorded in a run's `run.json` (raises `UserError`)."""
    from keras_svq.data.normalizer import Normalizer

    if "normalizer" not in info:
        raise UserError("run.json has no normalizer; the run did not start properly")
    return Normalizer.from_config(info["normalizer"])


__all__ = [
    "CONFIG_FILE",
    "MASKS_FILE",
    "MODEL_FILE",
    "RUN_FILE",
    "Run",
    "RunLayout",
    "default_weights",
    "forecast_transform",
    "load_run",
    "normalizer_from_info",
]
