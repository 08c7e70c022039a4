"""`load_dataset(name, data_dir=...)`: the benchmark loaders, chosen by name from a table."""

import pathlib

from keras_svq.data.moving_mnist import load_mmnist
from keras_svq.data.taxibj import load_taxibj


def _lazy(module, function, **bound):
    """Imports a loader module on first use (the video readers pull in more code)."""

    def load(data_dir, **kwargs):
        import importlib

        loader = getattr(importlib.import_module(f"keras_svq.data.{module}"), function)
        return loader(data_dir, **bound, **kwargs)

    return load


_LOADERS = {
    "weather_t2m": _lazy("weatherbench", "load_weatherbench", name="weather_t2m"),
    "weather_r": _lazy("weatherbench", "load_weatherbench", name="weather_r"),
    "weather_uv10": _lazy("weatherbench", "load_weatherbench", name="weather_uv10"),
    "weather_tcc": _lazy("weatherbench", "load_weatherbench", name="weather_tcc"),
    "weather_mv": _lazy("weatherbench", "load_weatherbench", name="weather_mv"),
    "weather_hmv": _lazy("weatherbench", "load_weatherbench", name="weather_hmv"),
    "taxibj": load_taxibj,
    "mmnist": load_mmnist,
    "kth": _lazy("kth", "load_kth"),
    "kitticaltech": _lazy("kitti_caltech", "load_kitticaltech"),
    "human": _lazy("human36m", "load_human"),
}
BENCHMARKS = tuple(_LOADERS)


def load_dataset(name, *, data_dir, batch_size, seed=None, **options):
    """Loads a benchmark dataset from the files OpenSTL's preparation scripts produce.

    Args:
        name: str. One of `BENCHMARKS`: `weather_t2m`, `weather_r`,
            `weather_uv10`, `weather_tcc`, `weather_mv`, `weather_hmv`, `taxibj`, `mmnist`,
            `kth`, `kitticaltech`, `human`.
        data_dir: str or path. The data root (OpenSTL's `data/`), e.g. holding
            `taxibj/dataset.npz` or `weather_5_625deg/2m_temperature/...`.
        batch_size: int. Examples per batch.
        seed: int or None. Makes shuffling reproducible.
        **options: loader-specific options (e.g. `input_length`, `cache`,
            `train_years` for weather; see each loader).

    Returns:
        `Splits` `(train, val, test)`.

    Raises:
        ValueError: unknown name (lists the valid ones).
        FileNotFoundError: a missing folder or file (names the path and the
            expected files).
    """
    if name not in _LOADERS:
        raise ValueError(
            f"Unknown dataset. Valid names: {list(BENCHMARKS)}. Received: name={name!r}"
        )
    data_dir = pathlib.Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(
            f"Data folder not found: {data_dir}. Pass the folder holding the prepared "
            f"{name!r} files (see keras_svq.data.DATASETS[{name!r}].splits and the loader docs)."
        )
    return _LOADERS[name](data_dir, batch_size=batch_size, seed=seed, **options)
