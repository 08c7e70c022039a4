"""Tests of the machinery the recurrent backbones share."""

import keras
import numpy as np
import pytest

from keras_svq.testing import TestCase
from zoo.recurrent import RecurrentBackbone
from zoo.recurrent import recurrent_backbones
from zoo.recurrent.gate_conv import GateConv
from zoo.recurrent.patch_reshape import reshape_patch
from zoo.recurrent.patch_reshape import reshape_patch_back
from zoo.recurrent.testing import load_fixture
from zoo.recurrent.testing import nchw_to_nhwc
from zoo.recurrent.torch_conv2d import TorchConv2D
from zoo.recurrent.torch_conv_transpose2d import TorchConvTranspose2D


class TestPatchReshape(TestCase):
    def test_matches_reference_layout(self):
        _, data, _ = load_fixture("predrnn.npz")
        frames = np.concatenate(
            [nchw_to_nhwc(data["x"]), nchw_to_nhwc(data["y_true_future"])], axis=1
        )
        self.assertAllClose(
            reshape_patch(frames, 2), data["in:frames_patched"], atol=0, rtol=0
        )

    def test_channel_order_and_round_trip(self):
        x = np.random.default_rng(0).standard_normal((2, 3, 4, 6, 2)).astype("float32")
        patches = np.asarray(reshape_patch(x, 2))
        assert patches.shape == (2, 3, 2, 3, 8)
        # channel (dy * p + dx) * C + c of patch (i, j) is pixel (2i + dy, 2j + dx).
        dy, dx, c = 1, 0, 1
        self.assertAllClose(
            patches[:, :, 1, 2, (dy * 2 + dx) * 2 + c], x[:, :, 3, 4, c]
        )
        self.assertAllClose(reshape_patch_back(patches, 2), x, atol=0, rtol=0)

    def test_errors(self):
        with pytest.raises(ValueError, match="multiple of `patch_size`"):
            reshape_patch(np.zeros((1, 1, 5, 4, 1), "float32"), 2)


class TestTorchConvs(TestCase):
    @pytest.mark.parametrize("strides, padding, output_padding", [(2, 1, 1), (1, 1, 0)])
    def test_transpose_output_size(self, strides, padding, output_padding):
        layer = TorchConvTranspose2D(3, 3, strides, padding, output_padding)
        y = layer(np.zeros((1, 5, 7, 2), "float32"))
        expected = layer.compute_output_shape((1, 5, 7, 2))
        assert tuple(y.shape) == expected == (1, 5 * strides, 7 * strides, 3)

    def test_strided_conv_pads_symmetrically(self):
        layer = TorchConv2D(1, 3, strides=2, padding=1, use_bias=False)
        layer.build((1, 4, 4, 1))
        layer.conv.kernel.assign(np.ones((3, 3, 1, 1), "float32"))
        y = np.asarray(layer(np.ones((1, 4, 4, 1), "float32")))[0, :, :, 0]
        # torch: the top-left output sees a 2x2 corner, not a 3x3 block.
        np.testing.assert_array_equal(y, [[4, 6], [6, 9]])

    def test_gate_conv_errors(self):
        with pytest.raises(ValueError, match="odd"):
            GateConv(4, 2)
        with pytest.raises(ValueError, match="stride"):
            GateConv(4, 3, stride=2)


class TestRegistry(TestCase):
    def test_every_backbone_is_registered_and_recurrent(self):
        classes = recurrent_backbones()
        assert len(classes) == 8
        for cls in classes:
            assert issubclass(cls, RecurrentBackbone)
            name = keras.saving.get_registered_name(cls)
            assert name == f"keras_svq>{cls.__name__}"
