"""LPIPS-alex (v0.1) in Keras, from the weights shipped in `keras_svq/assets`.

The network (Zhang et al. 2018, arXiv:1801.03924): inputs RGB in [-1, 1] are
shifted and scaled per channel, passed through the AlexNet conv trunk
(torchvision strides/paddings, ReLU after each conv, 3x3/2 max-pool after the
first two), the 5 post-ReLU feature maps are unit-normalised over channels,
their squared differences weighted by a 1x1 linear head, averaged over space and
summed over the 5 layers. Grayscale inputs are repeated to 3 channels.
"""

import pathlib

import keras
import numpy as np
from keras import ops

WEIGHTS_PATH = (
    pathlib.Path(__file__).resolve().parents[1]
    / "assets"
    / "lpips_v0.1_alexnet_hwio.npz"
)
_SHIFT = (-0.030, -0.088, -0.188)
_SCALE = (0.458, 0.448, 0.450)
# (kernel, stride, padding, max-pool before this conv)
_CONVS = (
    (11, 4, 2, False),
    (5, 1, 2, True),
    (3, 1, 1, True),
    (3, 1, 1, False),
    (3, 1, 1, False),
)
_EPS = 1e-10
# Smallest side for which both max-pools still see a 3x3 window (smaller frames
# would make the trunk's feature maps empty).
MIN_SIZE = 31


def check_size(height, width):
    if height is not None and width is not None and min(height, width) < MIN_SIZE:
        raise ValueError(
            f"LPIPS-alex needs frames of at least {MIN_SIZE}x{MIN_SIZE} (the AlexNet trunk "
            f"pools them away otherwise). Received: frames of {height}x{width}. Leave "
            "'lpips' out of the metrics for such data."
        )


@keras.saving.register_keras_serializable(package="keras_svq")
class LPIPSAlex(keras.layers.Layer):
    """LPIPS-alex v0.1 perceptual distance between two image batches.

    Args:
        weights_path: str or None. The `.npz` of kernels in `(H, W, in, out)`
            layout (`conv{0..4}_kernel`, `conv{0..4}_bias`, `lin{0..4}_kernel`).
            Defaults to the copy shipped in the package.
        **kwargs: base layer arguments.

    Call arguments:
        a: tensor `(N, H, W, C)`, `C` in {1, 3}, RGB scaled to [-1, 1].
        b: tensor of the same shape.

    Returns:
        Tensor `(N,)` of distances (0 for identical images).

    Example:

    ```python
    net = LPIPSAlex()
    d = net(a * 2 - 1, b * 2 - 1)   # a, b in [0, 1], (N, 64, 64, 3)
    ```

    Reference: Zhang et al., "The Unreasonable Effectiveness of Deep Features as a
    Perceptual Metric", arXiv:1801.03924.
    """

    def __init__(self, weights_path=None, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        self.weights_path = None if weights_path is None else str(weights_path)

    def build(self, input_shape=None):
        path = (
            WEIGHTS_PATH
            if self.weights_path is None
            else pathlib.Path(self.weights_path)
        )
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        self.conv_kernels, self.conv_biases, self.lin_kernels = [], [], []
        for i in range(5):
            for store, key in (
                (self.conv_kernels, f"conv{i}_kernel"),
                (self.conv_biases, f"conv{i}_bias"),
                (self.lin_kernels, f"lin{i}_kernel"),
            ):
                value = arrays[key]
                store.append(
                    self.add_weight(
                        shape=value.shape,
                        initializer=keras.initializers.Constant(value),
                        trainable=False,
                        name=key,
                        dtype="float32",
                    )
                )
        self.built = True

    def features(self, x):
        """The 5 unit-normalised feature maps of images `x` in [-1, 1]."""
        if x.shape[-1] == 1:
            x = ops.repeat(x, 3, axis=-1)
        x = (x - ops.convert_to_tensor(_SHIFT, "float32")) / ops.convert_to_tensor(
            _SCALE, "float32"
        )
        feats = []
        for i, (_, stride, pad, pool) in enumerate(_CONVS):
            if pool:
                x = ops.max_pool(x, pool_size=3, strides=2, padding="valid")
            x = ops.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
            x = ops.conv(x, self.conv_kernels[i], strides=stride, padding="valid")
            x = ops.relu(x + self.conv_biases[i])
            norm = ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True))
            feats.append(x / (norm + _EPS))
        return feats

    def call(self, a, b):
        check_size(a.shape[1], a.shape[2])
        a = ops.cast(a, "float32")
        b = ops.cast(b, "float32")
        n = ops.shape(a)[0]
        feats = self.features(ops.concatenate([a, b], axis=0))
        total = 0.0
        for i, f in enumerate(feats):
            diff = ops.square(f[:n] - f[n:])
            head = ops.conv(diff, self.lin_kernels[i], strides=1, padding="valid")
            total = total + ops.mean(head, axis=(1, 2, 3))
        return total

    def compute_output_shape(self, a_shape, b_shape=None):
        return (a_shape[0],)

    def get_config(self):
        config = super().get_config()
        config.update({"weights_path": self.weights_path})
        return config


_NETWORK = {}


def shared_network():
    """The process-wide `LPIPSAlex`, built on first use (eagerly, outside any graph)."""
    if "alex" not in _NETWORK:
        network = LPIPSAlex(name="lpips_alex")
        network.build()
        _NETWORK["alex"] = network
    return _NETWORK["alex"]


def lpips_distance(a, b, *, value_range=(0.0, 1.0), batch_size=64):
    """LPIPS-alex v0.1 distance between images, computed in Keras.

    Args:
        a: array `(..., H, W, C)` with `C` in {1, 3} (grayscale is repeated to RGB).
        b: array of the same shape.
        value_range: `(low, high)` of the input values; they are mapped linearly to
            the network's [-1, 1]. Use `(0.0, 1.0)` (default) for images in [0, 1]
            (the reference's convention: `img * 2 - 1`) and `(-1.0, 1.0)` for
            images already in [-1, 1].
        batch_size: int. Images per forward pass.

    Returns:
        numpy float32 array of shape `a.shape[:-3]` (a float for single images).

    Example:

    ```python
    lpips_distance(ref, p0)  # about 0.722 for the official example pair
    ```
    """
    a = np.asarray(a, dtype="float32")
    b = np.asarray(b, dtype="float32")
    if a.shape != b.shape or a.ndim < 3 or a.shape[-1] not in (1, 3):
        raise ValueError(
            "Expected two arrays of the same shape (..., H, W, C) with C in {1, 3}. "
            f"Received: a.shape={a.shape}, b.shape={b.shape}"
        )
    check_size(a.shape[-3], a.shape[-2])
    low, high = value_range
    lead = a.shape[:-3]
    a = a.reshape((-1,) + a.shape[-3:])
    b = b.reshape((-1,) + b.shape[-3:])
    a = 2.0 * (a - low) / (high - low) - 1.0
    b = 2.0 * (b - low) / (high - low) - 1.0
    net = shared_network()
    out = [
        np.asarray(
            ops.convert_to_numpy(net(a[i : i + batch_size], b[i : i + batch_size]))
        )
        for i in range(0, len(a), batch_size)
    ]
    result = np.concatenate(out).astype("float32").reshape(lead)
    return float(result) if result.ndim == 0 else result
