import keras
import numpy as np
import pytest
from keras import ops

from keras_svq.quantizers import FiniteScalarQuantizer
from keras_svq.quantizers import get_quantizer
from keras_svq.quantizers import perplexity_from_indices
from keras_svq.testing import TestCase


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _numpy_fsq(z, levels, eps=1e-3):
    """FSQ written from the paper's formulas (Mentzer et al. 2023, App. A)."""
    levels = np.asarray(levels, dtype="float64")
    half = (levels - 1) * (1 - eps) / 2
    offset = np.where(levels % 2 == 0, 0.5, 0.0)
    shift = np.arctanh(offset / half)
    rounded = np.round(np.tanh(z + shift) * half - offset)
    half_width = levels // 2
    basis = np.cumprod(np.concatenate([[1], levels[:-1]]))
    indices = ((rounded + half_width) * basis).sum(-1).astype("int64")
    return rounded / half_width, indices


class TestFiniteScalarQuantizerBattery(TestCase):
    def test_standard_battery(self):
        # D = 8 != len(levels): the projections carry the trainable weights.
        self.run_layer_test(
            FiniteScalarQuantizer, {"levels": [8, 5, 5]}, input_shape=(2, 4, 6, 8)
        )

    def test_defaults_construct(self):
        layer = FiniteScalarQuantizer()
        assert layer.levels == (8, 5, 5, 5)
        assert layer.codebook_size == 1000
        assert tuple(layer(_x((2, 3, 16))).shape) == (2, 3, 16)


class TestFiniteScalarQuantizerCodes(TestCase):
    def test_hand_made_codes(self):
        layer = FiniteScalarQuantizer(levels=[3, 4])
        # D == len(levels): no projection, the codes are visible directly.
        z = np.array(
            [
                [0.0, 0.0],  # odd: 0 -> 0; even: bound(0) = 0 -> 0
                [10.0, 10.0],  # saturates: top level of each dimension
                [-10.0, -10.0],  # bottom level of each dimension
                [0.6, -0.6],
            ],
            dtype="float32",
        )
        y = _np(layer(z))
        # Levels of L=3: {-1, 0, 1}; of L=4: {-1, -0.5, 0, 0.5}.
        np.testing.assert_allclose(
            y, [[0, 0], [1, 0.5], [-1, -1], [1, -0.5]], atol=1e-6
        )
        # Mixed radix, first dimension fastest: (d0 + 1) + 3 * (d1 + 2).
        np.testing.assert_array_equal(_np(layer.encode(z)), [7, 2 + 9, 0, 2 + 3])

    def test_matches_numpy_formulas(self):
        levels = [8, 5, 5, 3]
        layer = FiniteScalarQuantizer(levels=levels)
        z = 2.0 * _x((64, 4))
        expected, expected_indices = _numpy_fsq(z.astype("float64"), levels)
        self.assertAllClose(layer(z), expected, atol=1e-6)
        np.testing.assert_array_equal(_np(layer.encode(z)), expected_indices)

    def test_every_code_round_trips(self):
        layer = FiniteScalarQuantizer(levels=[8, 5, 3])
        layer.build((None, 3))
        indices = np.arange(layer.codebook_size, dtype="int32")
        codes = _np(layer.decode(indices))
        assert len({tuple(c) for c in codes}) == 120
        # The codes are fixed points: re-quantizing a code's pre-image gives it back.
        pre_image = (
            np.arctanh(
                np.clip(
                    (codes * np.array([4, 2, 1]) + np.array([0.5, 0, 0]))
                    / (np.array([7, 4, 2]) * (1 - 1e-3) / 2),
                    -0.999999,
                    0.999999,
                )
            )
            - layer._shift
        )
        np.testing.assert_array_equal(
            _np(layer.encode(pre_image.astype("float32"))), indices
        )

    def test_decode_encode_matches_inference_call(self):
        layer = FiniteScalarQuantizer(levels=[8, 5, 5, 5])
        x = _x((2, 4, 4, 12))
        indices = layer.encode(x)
        assert tuple(indices.shape) == (2, 4, 4)
        self.assertAllClose(layer.decode(indices), layer(x, training=False), atol=1e-6)
        assert 1.0 <= perplexity_from_indices(_np(indices), layer.codebook_size) <= 32

    def test_straight_through_gradient(self):
        if keras.backend.backend() != "tensorflow":
            pytest.skip("uses tf.GradientTape")
        import tensorflow as tf

        layer = FiniteScalarQuantizer(levels=[5, 5])
        z = tf.constant(_x((6, 2)) * 0.3)
        with tf.GradientTape() as tape:
            tape.watch(z)
            objective = tf.reduce_sum(layer(z, training=True))
        # d/dz of round_ste(bound(z)) / half_width = bound'(z) / half_width.
        half = 4 * (1 - 1e-3) / 2
        expected = (1 - np.tanh(_np(z)) ** 2) * half / 2
        self.assertAllClose(tape.gradient(objective, z), expected, atol=1e-5)
        assert layer.losses == []

    @pytest.mark.parametrize("levels", [[], [1, 5], "85", [8, 2.5]])
    def test_bad_levels(self, levels):
        with pytest.raises(ValueError, match="`levels` must be"):
            FiniteScalarQuantizer(levels=levels)

    def test_registry(self):
        assert get_quantizer({"name": "fsq", "levels": [7, 5]}).levels == (7, 5)
