import numpy as np
import pytest

from keras_svq.quantizers import ResidualLookupFreeQuantizer
from keras_svq.quantizers import get_quantizer
from keras_svq.quantizers.residual_vector_quantizer_test import (
    partial_reconstruction_errors,
)
from keras_svq.testing import TestCase


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


class TestResidualLookupFreeQuantizer(TestCase):
    def test_battery(self):
        self.run_layer_test(
            ResidualLookupFreeQuantizer,
            {"codebook_size": 16, "num_quantizers": 3},
            input_shape=(2, 4, 6, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_defaults_construct(self):
        layer = ResidualLookupFreeQuantizer()
        assert tuple(layer(_x((2, 3, 16))).shape) == (2, 3, 16)

    def test_decode_encode_matches_inference_call(self):
        layer = ResidualLookupFreeQuantizer(codebook_size=16, num_quantizers=3)
        x = _x((2, 4, 4, 8))
        indices = layer.encode(x)
        assert tuple(indices.shape) == (2, 4, 4, 3)
        self.assertAllClose(layer.decode(indices), layer(x, training=False), atol=1e-6)

    def test_error_shrinks_as_quantizers_are_added(self):
        layer = ResidualLookupFreeQuantizer(codebook_size=8, num_quantizers=5)
        x = np.random.default_rng(0).uniform(-1, 1, (512, 3)).astype("float32")
        errors = partial_reconstruction_errors(layer, x)  # D = 3 bits: no projection
        assert all(b < 0.5 * a for a, b in zip(errors, errors[1:])), errors

    def test_loss_is_mean_of_stage_losses(self):
        layer = ResidualLookupFreeQuantizer(
            codebook_size=4,
            num_quantizers=2,
            quantizer_kwargs={"entropy_loss_weight": 0.0, "commitment_weight": 1.0},
        )
        x = np.array([[0.3, -0.8]], dtype="float32")
        layer(x, training=True)
        # Stage 0: sign -> (1, -1), residual (-0.7, 0.2); stage 1 codes +-0.5.
        r = np.array([-0.7, 0.2])
        expected = 0.5 * (np.mean((x - [1, -1]) ** 2) + np.mean((r - [-0.5, 0.5]) ** 2))
        self.assertAllClose(layer.losses[0], expected, atol=1e-6)

    def test_bad_kwargs(self):
        with pytest.raises(ValueError, match="does not accept"):
            ResidualLookupFreeQuantizer(quantizer_kwargs={"decay": 0.5})
        with pytest.raises(ValueError, match="power of two"):
            ResidualLookupFreeQuantizer(codebook_size=100)

    def test_registry(self):
        assert isinstance(get_quantizer("rlfq"), ResidualLookupFreeQuantizer)
