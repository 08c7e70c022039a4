import numpy as np
import pytest

from keras_svq.layers import PixelShuffle
from keras_svq.testing import TestCase


def torch_pixel_shuffle_nchw(x, r):
    """`nn.PixelShuffle` written from its definition, on NCHW numpy arrays."""
    n, c, h, w = x.shape
    out_c = c // (r * r)
    y = np.zeros((n, out_c, h * r, w * r), x.dtype)
    for ci in range(out_c):
        for i in range(r):
            for j in range(r):
                y[:, ci, i::r, j::r] = x[:, ci * r * r + i * r + j]
    return y


class TestPixelShuffle(TestCase):
    def test_battery(self):
        self.run_layer_test(
            PixelShuffle,
            {"upscale_factor": 2},
            input_shape=(2, 3, 5, 8),
            expected_output_shape=(2, 6, 10, 2),
            run_fit=False,
            run_saved_model=False,
            run_distribution=False,
        )

    @pytest.mark.parametrize("r", [2, 3])
    def test_matches_torch_channel_order(self, r):
        x = (
            np.random.default_rng(0)
            .standard_normal((2, 2 * r * r, 3, 4))
            .astype("float32")
        )
        expected = torch_pixel_shuffle_nchw(x, r).transpose(0, 2, 3, 1)
        y = PixelShuffle(r)(x.transpose(0, 2, 3, 1))
        np.testing.assert_array_equal(np.asarray(y), expected)

    def test_indivisible_channels(self):
        with pytest.raises(ValueError, match="divisible by upscale_factor"):
            PixelShuffle(2)(np.zeros((1, 2, 2, 6), "float32"))
