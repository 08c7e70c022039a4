"""Human3.6M from the 256x256 JPEG frames and clip lists OpenSTL's preparation produces.

Layout: `<data_dir>/human/{train,test}.txt` (lines `images/S1_Directions.54138969_,1276,1346`)
and `<data_dir>/human/images/S1_Directions.54138969_001276.jpg`. Each clip takes
`T_in + T_out` frames every 5th frame from its start; frames are scaled to [0, 1]
(resized bicubically to 256x256 if they are not). The test list is also the
validation set, as the reference.

Channel order: frames are RGB. The reference decoded them with OpenCV, i.e. in
BGR order; pass `channel_order="bgr"` to reproduce that exactly.
"""

import pathlib

import numpy as np

from keras_svq.data.dataset_info import DATASETS
from keras_svq.data.image_files import ImageFileSource
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.splits import Splits

FRAME_STEP = 5
LISTS = {"train": "train.txt", "test": "test.txt"}
_CHANNELS = {"rgb": [0, 1, 2], "bgr": [2, 1, 0]}


def _clips(root, list_name, length, step):
    """Frame paths `(num_clips * length,)` of the clips in a list file."""
    paths = []
    for line in (root / list_name).read_text().splitlines():
        if not line.strip():
            continue
        prefix, begin = line.split(",")[:2]
        begin = int(begin)
        paths += [
            root / f"{prefix}{j:06d}.jpg"
            for j in range(begin, begin + length * step, step)
        ]
    return paths


def load_human(
    data_dir,
    *,
    batch_size,
    seed=None,
    input_length=4,
    output_length=4,
    image_size=256,
    channel_order="rgb",
    cache=False,
):
    """Human3.6M as OpenSTL: 4 -> 4 RGB 256x256 frames in [0, 1], the reference's clip lists."""
    if channel_order not in _CHANNELS:
        raise ValueError(
            f"channel_order must be one of {list(_CHANNELS)}. Received: {channel_order!r}"
        )
    root = pathlib.Path(data_dir) / "human"
    if not root.is_dir() and (pathlib.Path(data_dir) / "train.txt").exists():
        root = pathlib.Path(data_dir)
    missing = [root / name for name in LISTS.values() if not (root / name).exists()]
    if missing:
        raise FileNotFoundError(
            f"Human3.6M clip lists missing: {[str(m) for m in missing]}. Expected "
            f"{root}/train.txt, {root}/test.txt and {root}/images/*.jpg (OpenSTL's "
            "download_human3.6m.sh; the lists are in tools/prepare_data/meta/human)."
        )
    length = input_length + output_length
    frame_shape = (image_size, image_size, 3)
    sources = {}
    for split, list_name in LISTS.items():
        paths = _clips(root, list_name, length, FRAME_STEP)
        anchors = np.arange(len(paths) // length, dtype="int64") * length
        sources[split] = ImageFileSource(
            paths,
            anchors,
            np.arange(input_length),
            np.arange(input_length, length),
            frame_shape,
            channels=_CHANNELS[channel_order],
            resize_method="bicubic",
        )
    sources["val"] = sources["test"]
    info = DATASETS["human"].replace(
        input_length=input_length, output_length=output_length, frame_shape=frame_shape
    )
    return Splits.from_sources(
        sources,
        normalizer=Normalizer.identity(3),
        info=info,
        batch_size=batch_size,
        seed=seed,
        cache=cache,
    )
