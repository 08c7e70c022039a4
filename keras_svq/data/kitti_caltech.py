"""KittiCaltech: train on KITTI, test on Caltech Pedestrian (10 -> 1, RGB 128x160).

Two layouts, as OpenSTL reads them:

- `<data_dir>/kitticaltech_npy/{train_data,train_idx,test_data,test_idx}.npy`:
  frames `(N, 128, 160, 3)` (uint8, or float in [0, 1]) and window start indices.
- `<data_dir>/kitti_hkl/{X_train,sources_train}.hkl` (PredNet's hickle files)
  with `<data_dir>/caltech/{data_cache,indices_cache}.npy` (OpenSTL's cache of the
  test videos). The `.hkl` files are HDF5; they are read with h5py (the largest
  array is the frames, the string array the source of each frame).

An example starting at `i` has inputs `i..i+T_in-1` and targets
`i+T_in..i+T_in+T_out-1`. Validation is the test set, as the reference.
"""

import pathlib

import numpy as np

from keras_svq.data.dataset_info import DATASETS
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.splits import Splits
from keras_svq.data.windows import WindowSource
from keras_svq.data.windows import contiguous_offsets

NPY_FILES = ("train_data.npy", "train_idx.npy", "test_data.npy", "test_idx.npy")


def source_windows(sources, window):
    """The reference's KITTI window starts: a backward scan over frames of one source."""
    starts = []
    index = len(sources) - 1
    while index >= window - 1:
        if sources[index] == sources[index - window + 1]:
            starts.append(index - window + 1)
            index -= window - 1
        index -= 1
    return np.asarray(starts, dtype="int64")


def _read_hkl(path):
    """`(frames, sources)` from a hickle/HDF5 file: its largest and its string datasets."""
    import h5py

    arrays = []
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: (
                arrays.append(obj[()]) if isinstance(obj, h5py.Dataset) else None
            )
        )
    numeric = [a for a in arrays if np.asarray(a).dtype.kind in "uif"]
    strings = [a for a in arrays if np.asarray(a).dtype.kind in "SUO"]
    frames = max(numeric, key=np.size) if numeric else None
    return frames, (max(strings, key=np.size) if strings else None)


def _source(frames, starts, input_length, output_length):
    frames = np.asarray(frames)
    scale = 1.0 / 255.0 if frames.dtype == np.uint8 else 1.0
    starts = np.asarray(starts, dtype="int64")
    starts = starts[starts + input_length + output_length <= len(frames)]
    return WindowSource(
        frames, starts, *contiguous_offsets(input_length, output_length), scale=scale
    )


def load_kitticaltech(
    data_dir, *, batch_size, seed=None, input_length=10, output_length=1, cache=False
):
    """KittiCaltech as OpenSTL: `(B, 10, 128, 160, 3) -> (B, 1, 128, 160, 3)` in [0, 1]."""
    data_dir = pathlib.Path(data_dir)
    npy = data_dir / "kitticaltech_npy"
    hkl, caltech = data_dir / "kitti_hkl", data_dir / "caltech"
    if npy.is_dir():
        missing = [n for n in NPY_FILES if not (npy / n).exists()]
        if missing:
            raise FileNotFoundError(
                f"{npy} lacks {missing}. Expected {list(NPY_FILES)}."
            )
        load = {n: np.load(npy / n, mmap_mode="r") for n in NPY_FILES}
        train = _source(
            load["train_data.npy"], load["train_idx.npy"], input_length, output_length
        )
        test = _source(
            load["test_data.npy"], load["test_idx.npy"], input_length, output_length
        )
    elif hkl.is_dir() and (caltech / "data_cache.npy").exists():
        frames, sources = _read_hkl(hkl / "X_train.hkl")
        if sources is None and (hkl / "sources_train.hkl").exists():
            _, sources = _read_hkl(hkl / "sources_train.hkl")
        if frames is None or sources is None:
            raise ValueError(
                f"Could not find frames and sources in {hkl}/X_train.hkl, sources_train.hkl."
            )
        starts = source_windows(
            list(np.asarray(sources).reshape(-1)), input_length + output_length
        )
        train = _source(frames, starts, input_length, output_length)
        test = _source(
            np.load(caltech / "data_cache.npy", mmap_mode="r"),
            np.load(caltech / "indices_cache.npy"),
            input_length,
            output_length,
        )
    else:
        raise FileNotFoundError(
            f"KittiCaltech not found under {data_dir}. Expected either "
            f"{npy}/{{{', '.join(NPY_FILES)}}}, or {hkl}/X_train.hkl + sources_train.hkl with "
            f"{caltech}/data_cache.npy + indices_cache.npy (OpenSTL's download_kitticaltech.sh)."
        )
    info = DATASETS["kitticaltech"].replace(
        input_length=input_length,
        output_length=output_length,
        frame_shape=train.frame_shape,
    )
    return Splits.from_sources(
        {"train": train, "val": test, "test": test},
        normalizer=Normalizer.identity(train.frame_shape[-1]),
        info=info,
        batch_size=batch_size,
        seed=seed,
        cache=cache,
    )
