import keras
import numpy as np
import pytest

from keras_svq.layers import ConvNormAct
from keras_svq.testing import TestCase


def conv2d_nhwc_reference(x, kernel, bias, stride, pad):
    """A plain numpy convolution with symmetric zero padding (PyTorch's)."""
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    k = kernel.shape[0]
    out_h = (x.shape[1] - k) // stride + 1
    out_w = (x.shape[2] - k) // stride + 1
    y = np.zeros((x.shape[0], out_h, out_w, kernel.shape[-1]), "float64")
    for i in range(out_h):
        for j in range(out_w):
            patch = x[:, i * stride : i * stride + k, j * stride : j * stride + k, :]
            y[:, i, j] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return y + bias


class TestConvNormAct(TestCase):
    def test_battery_downsampling(self):
        self.run_layer_test(
            ConvNormAct,
            {"filters": 4, "strides": 2},
            input_shape=(2, 8, 6, 3),
            expected_output_shape=(2, 4, 3, 4),
        )

    def test_battery_upsampling_leaky(self):
        self.run_layer_test(
            ConvNormAct,
            {
                "filters": 4,
                "upsample_factor": 2,
                "activation": keras.layers.LeakyReLU(negative_slope=0.2),
            },
            input_shape=(2, 4, 3, 4),
            expected_output_shape=(2, 8, 6, 4),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_stride_two_pads_symmetrically(self):
        # Keras' `same` would pad only bottom/right here; PyTorch pads 1 on each side.
        x = np.random.default_rng(0).standard_normal((1, 8, 8, 2)).astype("float32")
        layer = ConvNormAct(3, strides=2, norm_groups=None, activation=None)
        y = np.asarray(layer(x))
        expected = conv2d_nhwc_reference(
            x, np.asarray(layer.conv.kernel), np.asarray(layer.conv.bias), 2, 1
        )
        np.testing.assert_allclose(y, expected, atol=1e-5)

    def test_grouped(self):
        layer = ConvNormAct(8, 5, groups=4, norm_groups=4)
        y = layer(np.zeros((2, 6, 6, 8), "float32"))
        assert tuple(y.shape) == (2, 6, 6, 8)
        assert tuple(layer.conv.kernel.shape) == (5, 5, 2, 8)

    def test_errors(self):
        with pytest.raises(ValueError, match="Received: kernel_size=4"):
            ConvNormAct(4, kernel_size=4)
        with pytest.raises(ValueError, match="norm_groups=2"):
            ConvNormAct(3)
