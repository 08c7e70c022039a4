"""`ImageFileSource`: windows over a sequence of image files, decoded per batch in the graph."""

import numpy as np
import tensorflow as tf


class ImageFileSource:
    """Reads `(x, y)` windows whose frames are image files (PNG/JPEG/BMP/GIF).

    Nothing is decoded up front: each batch reads and decodes its files inside the
    `tf.data` graph, so video datasets larger than memory stream from disk.

    Args:
        paths: sequence of str `(N,)`. One file per frame, in time order.
        anchors: int array `(num_examples,)`. First frame of each example.
        input_offsets: int array `(T_in,)`. Input frames relative to the anchor.
        output_offsets: int array `(T_out,)`. Target frames relative to the anchor.
        frame_shape: `(H, W, C)`. Frames are resized to `(H, W)` if needed.
        channels: sequence of int or None. Channels kept after decoding (e.g.
            `[0]` for KTH's grey frames stored as RGB, `[2, 1, 0]` for BGR).
            Defaults to all.
        resize_method: str. `tf.image.resize` method. Defaults to `"bilinear"`.

    Example:

    ```python
    source = ImageFileSource(paths, [0], range(10), range(10, 30), (128, 128, 1), channels=[0])
    ```
    """

    def __init__(
        self,
        paths,
        anchors,
        input_offsets,
        output_offsets,
        frame_shape,
        channels=None,
        resize_method="bilinear",
    ):
        self.paths = np.asarray([str(p) for p in paths])
        self.anchors = np.asarray(anchors, dtype="int64").reshape(-1)
        self.input_offsets = np.asarray(input_offsets, dtype="int64")
        self.output_offsets = np.asarray(output_offsets, dtype="int64")
        self.frame_shape = tuple(int(s) for s in frame_shape)
        self.channels = None if channels is None else list(channels)
        self.resize_method = resize_method
        self._offsets = np.concatenate([self.input_offsets, self.output_offsets])

    @property
    def num_examples(self):
        return int(self.anchors.shape[0])

    @property
    def input_length(self):
        return int(self.input_offsets.shape[0])

    @property
    def output_length(self):
        return int(self.output_offsets.shape[0])

    def _decode(self, path):
        image = tf.io.decode_image(
            tf.io.read_file(path), channels=3, expand_animations=False
        )
        if self.channels is not None:
            image = tf.gather(image, self.channels, axis=-1)
        image = tf.cast(image, "float32") / 255.0
        height, width = self.frame_shape[:2]
        shape = tf.shape(image)
        image = tf.cond(
            tf.logical_and(tf.equal(shape[0], height), tf.equal(shape[1], width)),
            lambda: image,
            lambda: tf.clip_by_value(
                tf.image.resize(image, (height, width), method=self.resize_method),
                0.0,
                1.0,
            ),
        )
        image.set_shape(self.frame_shape)
        return image

    def tf_read(self, positions):
        anchors = tf.gather(tf.constant(self.anchors), positions)
        index = anchors[:, None] + tf.constant(self._offsets)[None, :]
        files = tf.reshape(tf.gather(tf.constant(self.paths), index), (-1,))
        frames = tf.map_fn(
            self._decode,
            files,
            fn_output_signature=tf.TensorSpec(self.frame_shape, tf.float32),
        )
        window = tf.reshape(frames, (-1, len(self._offsets)) + self.frame_shape)
        return window[:, : self.input_length], window[:, self.input_length :]

    def numpy(self, positions=None):
        positions = (
            np.arange(self.num_examples) if positions is None else np.asarray(positions)
        )
        xs, ys = [], []
        for lo in range(0, len(positions), 64):
            x, y = self.tf_read(tf.constant(positions[lo : lo + 64], tf.int64))
            xs.append(x.numpy())
            ys.append(y.numpy())
        if not xs:
            empty = np.zeros((0,) + self.frame_shape, "float32")
            return empty[:, None].repeat(self.input_length, 1), empty[:, None].repeat(
                self.output_length, 1
            )
        return np.concatenate(xs), np.concatenate(ys)
