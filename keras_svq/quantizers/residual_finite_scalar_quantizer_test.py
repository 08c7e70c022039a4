import numpy as np
import pytest

from keras_svq.quantizers import ResidualFiniteScalarQuantizer
from keras_svq.quantizers import get_quantizer
from keras_svq.quantizers.residual_vector_quantizer_test import (
    partial_reconstruction_errors,
)
from keras_svq.testing import TestCase


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


class TestResidualFiniteScalarQuantizer(TestCase):
    def test_battery(self):
        self.run_layer_test(
            ResidualFiniteScalarQuantizer,
            {"levels": [5, 3], "num_quantizers": 3},
            input_shape=(2, 4, 6, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_defaults_construct(self):
        layer = ResidualFiniteScalarQuantizer()
        assert layer.levels == (8, 5, 5, 3)
        assert tuple(layer(_x((2, 3, 16))).shape) == (2, 3, 16)

    def test_decode_encode_matches_inference_call(self):
        layer = ResidualFiniteScalarQuantizer(levels=[8, 5, 5, 3], num_quantizers=4)
        x = _x((2, 4, 4, 8))
        indices = layer.encode(x)
        assert tuple(indices.shape) == (2, 4, 4, 4)
        self.assertAllClose(layer.decode(indices), layer(x, training=False), atol=1e-6)

    def test_stage_scales(self):
        layer = ResidualFiniteScalarQuantizer(levels=[8, 5], num_quantizers=3)
        assert layer._stage_scale(0) is None
        np.testing.assert_allclose(layer._stage_scale(2), [1 / 49, 1 / 16])

    def test_error_shrinks_as_quantizers_are_added(self):
        layer = ResidualFiniteScalarQuantizer(levels=[5, 5, 5], num_quantizers=4)
        x = np.random.default_rng(0).uniform(-0.8, 0.8, (512, 3)).astype("float32")
        # D = 3: no projection. As in the reference, the stages approximate
        # the *bounded* input (the codes' range is smaller than the bound's,
        # so later stages refine more slowly than by (L - 1) each).
        errors = partial_reconstruction_errors(
            layer, x, target=layer.stage_layers[0].bound
        )
        assert all(b < a for a, b in zip(errors, errors[1:])), errors
        assert errors[-1] < 0.05 * errors[0], errors

    def test_bad_levels(self):
        with pytest.raises(ValueError, match="`levels` must be"):
            ResidualFiniteScalarQuantizer(levels=[1])

    def test_registry(self):
        assert isinstance(get_quantizer("rfsq"), ResidualFiniteScalarQuantizer)
