"""Datasets: one module per dataset family, driven by a table of dataset facts.

Every loader returns `Splits`, a `(train, val, test)` tuple of
`tf.data.Dataset`s of `(x, y)` with `x: (B, T_in, H, W, C)` and
`y: (B, T_out, H, W, C)` (float32, channels last), carrying the normaliser that
returns predictions to physical units.

- `load_sample(name, ...)`: embedded real samples, no path needed (`SAMPLES`).
- `from_array(array, ...)` / `load_array(path, ...)` / `from_xarray(obj, ...)`: your own
  data (one series, many sequences; missing values, masks, crop/coarsen/pad).
- `load_dataset(name, data_dir=..., ...)`: the OpenSTL benchmarks (`DATASETS`).
"""

from keras_svq.data.dataset_info import DATASETS
from keras_svq.data.dataset_info import DatasetInfo
from keras_svq.data.dataset_info import get_info
from keras_svq.data.loaders import BENCHMARKS
from keras_svq.data.loaders import load_dataset
from keras_svq.data.moving_mnist import MovingMNISTGenerator
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.own_data import NAN_POLICIES
from keras_svq.data.own_data import find_non_finite
from keras_svq.data.own_data import from_array
from keras_svq.data.own_data import load_array
from keras_svq.data.pipeline import make_dataset
from keras_svq.data.preprocessing import Preprocessing
from keras_svq.data.samples import SAMPLES
from keras_svq.data.samples import load_sample
from keras_svq.data.splits import Splits
from keras_svq.data.windows import WindowSource
from keras_svq.data.windows import window_starts
from keras_svq.data.xarray_data import from_xarray

__all__ = [
    "BENCHMARKS",
    "DATASETS",
    "NAN_POLICIES",
    "SAMPLES",
    "DatasetInfo",
    "MovingMNISTGenerator",
    "Normalizer",
    "Preprocessing",
    "Splits",
    "WindowSource",
    "find_non_finite",
    "from_array",
    "from_xarray",
    "get_info",
    "load_array",
    "load_dataset",
    "load_sample",
    "make_dataset",
    "window_starts",
]
