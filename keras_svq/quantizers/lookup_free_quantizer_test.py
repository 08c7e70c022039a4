import keras
import numpy as np
import pytest
from keras import ops

from keras_svq.quantizers import LookupFreeQuantizer
from keras_svq.quantizers import get_quantizer
from keras_svq.testing import TestCase

SMALL = {"codebook_size": 16}


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _numpy_lfq_loss(z, entropy_weight, commitment_weight, gamma, inverse_temperature):
    """MAGVIT-v2's LFQ loss written with numpy (Yu et al. 2023, Eq. 5)."""
    bits = z.shape[-1]
    codes = 2.0 * ((np.arange(2**bits)[:, None] >> np.arange(bits)) & 1) - 1.0
    logits = 2 * inverse_temperature * z.reshape(-1, bits) @ codes.T
    logits -= logits.max(-1, keepdims=True)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)

    def entropy(p):
        return -(p * np.log(np.maximum(p, 1e-5))).sum(-1)

    entropy_loss = entropy(probs).mean() - gamma * entropy(probs.mean(0))
    commitment = np.mean((z - np.where(z > 0, 1.0, -1.0)) ** 2)
    return entropy_weight * entropy_loss + commitment_weight * commitment


class TestLookupFreeQuantizerBattery(TestCase):
    def test_standard_battery(self):
        self.run_layer_test(
            LookupFreeQuantizer,
            SMALL,
            input_shape=(2, 4, 6, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_defaults_construct(self):
        layer = LookupFreeQuantizer()
        assert layer.num_bits == 10
        assert tuple(layer(_x((2, 3, 16))).shape) == (2, 3, 16)


class TestLookupFreeQuantizerCodes(TestCase):
    def test_hand_made_codes(self):
        layer = LookupFreeQuantizer(codebook_size=8)  # 3 bits, D = 3: no projection
        z = np.array(
            [[-1.0, -2.0, -0.5], [0.3, -1.0, -1.0], [-0.1, 0.2, 4.0], [1.0, 1.0, 1.0]],
            dtype="float32",
        )
        self.assertAllClose(layer(z), np.where(z > 0, 1.0, -1.0), atol=1e-6)
        # bit i set when z_i > 0, worth 2**i.
        np.testing.assert_array_equal(_np(layer.encode(z)), [0, 1, 2 + 4, 7])
        self.assertAllClose(
            layer.decode(np.array([0, 1, 6, 7])), np.where(z > 0, 1.0, -1.0)
        )
        self.assertAllClose(layer.codes()[5], [1.0, -1.0, 1.0])

    def test_loss_matches_numpy(self):
        kwargs = dict(
            entropy_loss_weight=0.1,
            commitment_weight=0.25,
            diversity_gamma=1.0,
            inverse_temperature=2.0,
        )
        layer = LookupFreeQuantizer(codebook_size=16, **kwargs)
        z = _x((3, 5, 4))
        layer(z, training=True)
        expected = _numpy_lfq_loss(z.astype("float64"), 0.1, 0.25, 1.0, 2.0)
        self.assertAllClose(layer.losses[0], expected, atol=1e-5)
        layer(z, training=False)
        assert layer.losses == []

    def test_decode_encode_matches_inference_call(self):
        layer = LookupFreeQuantizer(codebook_size=32)
        x = _x((2, 4, 4, 12))
        indices = layer.encode(x)
        assert tuple(indices.shape) == (2, 4, 4)
        self.assertAllClose(layer.decode(indices), layer(x, training=False), atol=1e-6)

    def test_straight_through_gradient(self):
        if keras.backend.backend() != "tensorflow":
            pytest.skip("uses tf.GradientTape")
        import tensorflow as tf

        layer = LookupFreeQuantizer(codebook_size=16, entropy_loss_weight=0.0)
        z = tf.constant(_x((6, 4)))
        weights = tf.constant(_x((6, 4), seed=2))
        with tf.GradientTape() as tape:
            tape.watch(z)
            objective = tf.reduce_sum(layer(z) * weights)
        self.assertAllClose(tape.gradient(objective, z), weights, atol=1e-6)

    @pytest.mark.parametrize("size", [0, 1, 12, 3.0, True])
    def test_codebook_size_power_of_two(self, size):
        with pytest.raises(ValueError, match="power of two"):
            LookupFreeQuantizer(codebook_size=size)

    def test_negative_weight(self):
        with pytest.raises(ValueError, match="diversity_gamma=-1"):
            LookupFreeQuantizer(diversity_gamma=-1)

    def test_registry(self):
        assert isinstance(get_quantizer("lfq"), LookupFreeQuantizer)
