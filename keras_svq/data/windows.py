"""Sliding windows over a frame series: the index arithmetic and the readers.

Every dataset here is a series of frames `(N, H, W, C)` plus, per example, an
anchor index and two lists of offsets: the input frames are
`frames[anchor + input_offsets]` and the targets `frames[anchor + output_offsets]`.
A plain sliding window `T_in -> T_out` has anchors `0, stride, 2*stride, ...`,
`input_offsets = 0..T_in-1` and `output_offsets = T_in..T_in+T_out-1`;
pre-windowed sets (TaxiBJ, Moving MNIST) are the same with one anchor per
sequence; WeatherBench-M uses its sparse 6-hourly offsets.
"""

import numpy as np
import tensorflow as tf

# Frames held in memory up to this size are read with `tf.gather` inside the
# graph; larger or lazy (memory-mapped, netCDF) frames are read per batch.
IN_MEMORY_LIMIT_BYTES = 1 << 30


def window_starts(num_frames, window_length, stride=1):
    """Start indices of every full window of `window_length` frames, `stride` apart."""
    if stride < 1:
        raise ValueError(
            f"`stride` must be a positive integer. Received: stride={stride}"
        )
    last = num_frames - window_length
    if last < 0:
        return np.zeros((0,), dtype="int64")
    return np.arange(0, last + 1, stride, dtype="int64")


def contiguous_offsets(input_length, output_length):
    """`(input_offsets, output_offsets)` of a plain `T_in -> T_out` window."""
    return (
        np.arange(input_length, dtype="int64"),
        np.arange(input_length, input_length + output_length, dtype="int64"),
    )


class WindowSource:
    """Reads `(x, y)` windows from a frame series.

    Args:
        frames: array-like `(N, H, W, C)` (numpy array, memory map, or any object
            with `shape`, `dtype` and `__getitem__` on a sorted integer array).
            Values are in physical units unless `normalizer` is None.
        anchors: int array `(num_examples,)`. Anchor frame of each example.
        input_offsets: int array `(T_in,)`. Input frames relative to the anchor.
        output_offsets: int array `(T_out,)`. Target frames relative to the anchor.
        normalizer: `Normalizer` or None. Applied on read. Defaults to None.
        scale: float. Multiplies raw values before the normaliser (e.g. 1/255 for
            uint8 images). Defaults to 1.
        fill_missing: bool. The frames may hold NaN (missing values): inputs
            get 0 there after normalisation (the training mean), targets keep
            NaN (left out of a masked loss and of the metrics). Defaults to False.
        target_mask: bool array `(H, W, C)` or None. Target pixels outside it
            are set to NaN (padding, a static mask). Defaults to None.
        sequence_starts: int array or None. First row of each sequence when
            `frames` concatenates several (the time of day of a row counts
            from its sequence's start). Defaults to one sequence from row 0.

    Example:

    ```python
    source = WindowSource(frames, window_starts(len(frames), 8), *contiguous_offsets(4, 4))
    x, y = source.numpy()
    ```
    """

    def __init__(
        self,
        frames,
        anchors,
        input_offsets,
        output_offsets,
        normalizer=None,
        scale=1.0,
        fill_missing=False,
        target_mask=None,
        sequence_starts=None,
    ):
        self.frames = frames
        self.sequence_starts = np.asarray(
            [0] if sequence_starts is None else sequence_starts, dtype="int64"
        )
        self.anchors = np.asarray(anchors, dtype="int64").reshape(-1)
        self.input_offsets = np.asarray(input_offsets, dtype="int64")
        self.output_offsets = np.asarray(output_offsets, dtype="int64")
        self.normalizer = normalizer
        self.scale = float(scale)
        self.fill_missing = bool(fill_missing)
        self.target_mask = (
            None if target_mask is None else np.asarray(target_mask, bool)
        )
        shape = tuple(int(s) for s in frames.shape)
        if len(shape) != 4:
            raise ValueError(
                f"Frames must be (N, H, W, C). Received: frames.shape={shape}"
            )
        self.frame_shape = shape[1:]
        self._offsets = np.concatenate([self.input_offsets, self.output_offsets])
        if len(self.anchors):
            lo = self.anchors.min() + self._offsets.min()
            hi = self.anchors.max() + self._offsets.max()
            if lo < 0 or hi >= shape[0]:
                raise ValueError(
                    f"Windows reach frames {lo}..{hi} but the series has {shape[0]} frames."
                )
        self.in_memory = (
            type(frames) is np.ndarray and frames.nbytes <= IN_MEMORY_LIMIT_BYTES
        )
        self._frames_tensor = None

    @property
    def num_examples(self):
        return int(self.anchors.shape[0])

    @property
    def input_length(self):
        return int(self.input_offsets.shape[0])

    @property
    def output_length(self):
        return int(self.output_offsets.shape[0])

    # ------------------------------------------------------------------ numpy
    def _postprocess(self, a):
        a = a.astype("float32")
        if self.scale != 1.0:
            a = a * np.float32(self.scale)
        if self.normalizer is not None:
            a = self.normalizer.normalize(a)
        return a.astype("float32")

    def numpy(self, positions=None):
        """`(x, y)` numpy arrays of the examples at `positions` (all by default)."""
        positions = (
            np.arange(self.num_examples) if positions is None else np.asarray(positions)
        )
        x = np.zeros((len(positions), self.input_length) + self.frame_shape, "float32")
        y = np.zeros((len(positions), self.output_length) + self.frame_shape, "float32")
        for lo in range(0, len(positions), 256):
            bx, by = self._read_numpy(positions[lo : lo + 256])
            x[lo : lo + 256], y[lo : lo + 256] = bx, by
        return x, y

    def _read_numpy(self, positions):
        index = (
            self.anchors[np.asarray(positions, dtype="int64")][:, None] + self._offsets
        )
        unique, inverse = np.unique(index, return_inverse=True)
        frames = np.asarray(self.frames[unique])
        window = self._postprocess(frames)[inverse.reshape(index.shape)]
        x, y = window[:, : self.input_length], window[:, self.input_length :]
        if self.fill_missing:
            x = np.where(np.isnan(x), np.float32(0), x)
        if self.target_mask is not None:
            y = np.where(self.target_mask, y, np.float32(np.nan))
        return x, y

    # ------------------------------------------------------------- tf.data
    def tf_read(self, positions):
        """Graph-mode reader: int64 positions `(B,)` -> `(x, y)` float32 tensors."""
        x_shape = (None, self.input_length) + self.frame_shape
        y_shape = (None, self.output_length) + self.frame_shape
        if self.in_memory:
            if self._frames_tensor is None:
                # Made eagerly (outside the tf.data trace) so every pipeline
                # built on this source shares one tensor.
                with tf.init_scope():
                    self._frames_tensor = tf.constant(self.frames)
            anchors = tf.gather(tf.constant(self.anchors), positions)
            index = anchors[:, None] + tf.constant(self._offsets)[None, :]
            window = tf.cast(tf.gather(self._frames_tensor, index), "float32")
            if self.scale != 1.0:
                window = window * self.scale
            if self.normalizer is not None:
                window = (window - self.normalizer.mean) / self.normalizer.std
            x, y = window[:, : self.input_length], window[:, self.input_length :]
            if self.fill_missing:
                x = tf.where(tf.math.is_nan(x), tf.zeros_like(x), x)
            if self.target_mask is not None:
                y = tf.where(
                    tf.constant(self.target_mask), y, tf.fill(tf.shape(y), np.nan)
                )
        else:
            x, y = tf.numpy_function(
                self._read_numpy, [positions], (tf.float32, tf.float32), stateful=False
            )
        x.set_shape(x_shape)
        y.set_shape(y_shape)
        return x, y
