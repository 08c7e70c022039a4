"""KTH actions from the frame folders of OpenSTL's `kth_action.zip`.

Layout: `<data_dir>/kth/<action>/<person>_<action>_<scenario>_uncomp/image_XXXX.<png|jpg>`.
Persons 01-16 train, 17-25 test (also used for validation, as the reference).
Frames are grey (first channel), resized to 128x128 and scaled to [0, 1].

Examples follow the reference's index scan: walking backwards through the
frames of each clip, a window of `T_in + T_out` consecutive frame numbers is
kept, then the scan jumps back by the window length for boxing, handclapping,
handwaving and walking, and by only 2 frames for jogging and running (fast
actions, where the person leaves the view quickly). Clip folders are read in
sorted order (the reference used the file system's order).
"""

import pathlib
import re

import numpy as np

from keras_svq.data.dataset_info import DATASETS
from keras_svq.data.image_files import ImageFileSource
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.splits import Splits
from keras_svq.data.windows import contiguous_offsets

# action -> frames the scan jumps back after keeping a window (None: the window length)
ACTION_STRIDES = {
    "boxing": None,
    "handclapping": None,
    "handwaving": None,
    "walking": None,
    "jogging": 2,
    "running": 2,
}
TRAIN_PERSONS = tuple(f"{i:02d}" for i in range(1, 17))
TEST_PERSONS = tuple(f"{i:02d}" for i in range(17, 26))
_FRAME = re.compile(r"^image_?(\d+)\.(png|jpg|jpeg|bmp)$", re.IGNORECASE)


def _scan(root, persons):
    """`(paths, clip id per frame, frame number, action stride per frame)`."""
    paths, clips, numbers, strides = [], [], [], []
    clip = 0
    for action, stride in ACTION_STRIDES.items():
        action_dir = root / action
        if not action_dir.is_dir():
            continue
        for clip_dir in sorted(p for p in action_dir.iterdir() if p.is_dir()):
            if clip_dir.name[6:8] not in persons:
                continue
            clip += 1
            for file in sorted(clip_dir.iterdir()):
                match = _FRAME.match(file.name)
                if match:
                    paths.append(file)
                    clips.append(clip)
                    numbers.append(int(match.group(1)))
                    strides.append(stride)
    return paths, clips, numbers, strides


def kth_windows(clips, numbers, strides, window):
    """Start indices of the reference's KTH windows (in its backward-scan order)."""
    starts = []
    index = len(clips) - 1
    while index >= window - 1:
        first = index - window + 1
        if (
            clips[index] == clips[first]
            and numbers[index] - numbers[first] == window - 1
        ):
            starts.append(first)
            stride = strides[index]
            index -= window - 1 if stride is None else stride
        index -= 1
    return np.asarray(starts, dtype="int64")


def load_kth(
    data_dir,
    *,
    batch_size,
    seed=None,
    input_length=10,
    output_length=20,
    image_size=128,
    cache=False,
):
    """KTH as OpenSTL: 10 -> 20 grey 128x128 frames in [0, 1].

    Returns:
        `Splits`; `val` and `test` are the same (persons 17-25).
    """
    root = pathlib.Path(data_dir) / "kth"
    if not root.is_dir() and (pathlib.Path(data_dir) / "boxing").is_dir():
        root = pathlib.Path(data_dir)
    missing = [a for a in ACTION_STRIDES if not (root / a).is_dir()]
    if len(missing) == len(ACTION_STRIDES):
        raise FileNotFoundError(
            f"KTH not found: {root} has none of the action folders {list(ACTION_STRIDES)}. "
            "Expected <data_dir>/kth/<action>/<personXX_action_dN_uncomp>/image_XXXX.png "
            "(OpenSTL's kth_action.zip)."
        )
    window = input_length + output_length
    frame_shape = (image_size, image_size, 1)
    sources = {}
    for split, persons in (("train", TRAIN_PERSONS), ("test", TEST_PERSONS)):
        paths, clips, numbers, strides = _scan(root, persons)
        starts = kth_windows(clips, numbers, strides, window)
        sources[split] = ImageFileSource(
            paths,
            starts,
            *contiguous_offsets(input_length, output_length),
            frame_shape,
            channels=[0],
        )
    sources["val"] = sources["test"]
    info = DATASETS["kth"].replace(
        input_length=input_length, output_length=output_length, frame_shape=frame_shape
    )
    return Splits.from_sources(
        sources,
        normalizer=Normalizer.identity(1),
        info=info,
        batch_size=batch_size,
        seed=seed,
        cache=cache,
    )
