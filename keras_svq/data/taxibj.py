"""TaxiBJ: OpenSTL's published `dataset.npz` (4 -> 4 crowd flows, 32x32x2)."""

import pathlib

import numpy as np

from keras_svq.data.dataset_info import DATASETS
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.splits import Splits
from keras_svq.data.windows import WindowSource
from keras_svq.data.windows import contiguous_offsets

FILE_NAME = "dataset.npz"
KEYS = ("X_train", "Y_train", "X_test", "Y_test")


def _find(data_dir):
    data_dir = pathlib.Path(data_dir)
    for candidate in (data_dir / "taxibj" / FILE_NAME, data_dir / FILE_NAME):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(
        f"TaxiBJ not found under {data_dir}. Expected {data_dir / 'taxibj' / FILE_NAME} "
        f"(or {data_dir / FILE_NAME}) with arrays {list(KEYS)}, as OpenSTL's "
        "download_taxibj.sh produces."
    )


def _to_channels_last(a):
    # The published arrays are (N, T, C, H, W) with C = 2.
    return np.moveaxis(np.asarray(a, dtype="float32"), 2, -1)


def _source(x, y):
    """Stores each (x, y) pair as one 8-frame sequence, values mapped [-1, 1] -> [0, 1]."""
    x, y = _to_channels_last(x), _to_channels_last(y)
    num, t_in, t_out = x.shape[0], x.shape[1], y.shape[1]
    frames = (np.concatenate([x, y], axis=1) + 1.0) / 2.0
    frames = frames.reshape((num * (t_in + t_out),) + frames.shape[2:])
    return WindowSource(
        frames, np.arange(num) * (t_in + t_out), *contiguous_offsets(t_in, t_out)
    )


def load_taxibj(data_dir, *, batch_size, seed=None, cache=False):
    """TaxiBJ as OpenSTL: train on `X_train/Y_train`, validate and test on `X_test/Y_test`.

    Values are mapped from the published [-1, 1] to [0, 1] (`(v + 1) / 2`), as the
    reference does; the normaliser is then the identity (the reference's
    `mean=0, std=1`), so metrics are computed in that [0, 1] space.

    Returns:
        `Splits` of `(B, 4, 32, 32, 2)` -> `(B, 4, 32, 32, 2)` float32.
    """
    path = _find(data_dir)
    with np.load(path) as data:
        missing = [k for k in KEYS if k not in data.files]
        if missing:
            raise ValueError(
                f"{path} lacks arrays {missing}. Arrays present: {data.files}."
            )
        train = _source(data["X_train"], data["Y_train"])
        test = _source(data["X_test"], data["Y_test"])
    info = DATASETS["taxibj"].replace(
        input_length=train.input_length,
        output_length=train.output_length,
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
