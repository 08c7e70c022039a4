import numpy as np
import pytest
from keras import ops

from keras_svq.quantizers import ResidualVectorQuantizer
from keras_svq.quantizers import VectorQuantizer
from keras_svq.quantizers import get_quantizer
from keras_svq.testing import TestCase

SMALL = {"num_quantizers": 3, "codebook_size": 8, "codebook_dim": 4}


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def partial_reconstruction_errors(layer, x, target=None):
    """MSE of the code-space input (or `target(input)`) against the sum of the
    first k stages' codes, for k = 1..num_quantizers."""
    if not layer.built:
        layer.build(x.shape)
    z = layer._to_code_space(ops.convert_to_tensor(x))
    indices = layer._quantize(z, training=False)[1]
    if target is not None:
        z = target(z)
    errors, partial = [], ops.zeros_like(z)
    for k, (stage, scale) in enumerate(layer._stages()):
        q = stage._lookup(indices[..., k])
        partial = partial + (q if scale is None else q * scale)
        errors.append(float(ops.mean(ops.square(z - partial))))
    return errors


class TestResidualVectorQuantizer(TestCase):
    def test_battery(self):
        self.run_layer_test(
            ResidualVectorQuantizer,
            SMALL,
            input_shape=(2, 4, 6, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_defaults_construct(self):
        layer = ResidualVectorQuantizer()
        assert tuple(layer(_x((2, 3, 16))).shape) == (2, 3, 16)
        assert len(layer.stage_layers) == 8

    def test_decode_encode_matches_inference_call(self):
        layer = ResidualVectorQuantizer(**SMALL)
        x = _x((2, 4, 4, 8))
        layer(x, training=True)
        indices = layer.encode(x)
        assert tuple(indices.shape) == (2, 4, 4, 3)
        self.assertAllClose(layer.decode(indices), layer(x, training=False), atol=1e-5)

    def test_error_shrinks_as_quantizers_are_added(self):
        layer = ResidualVectorQuantizer(
            num_quantizers=4,
            codebook_size=16,
            quantizer_kwargs={"kmeans_init": True, "seed": 0},
        )
        x = _x((256, 6))
        for _ in range(3):
            layer(x, training=True)
        errors = partial_reconstruction_errors(layer, x)
        assert all(b < a for a, b in zip(errors, errors[1:])), errors
        assert errors[-1] < 0.5 * float(np.mean(x**2)), errors

    def test_loss_is_mean_of_stage_losses(self):
        layer = ResidualVectorQuantizer(
            num_quantizers=2, codebook_size=4, codebook_dim=None
        )
        x = _x((10, 3))
        layer.build(x.shape)
        first, second = layer.stage_layers
        # Stage 0 quantizes x, stage 1 what stage 0 left; loss = mean of both.
        q0 = _np(first._lookup(first._quantize(ops.convert_to_tensor(x), False)[1]))
        q1 = _np(
            second._lookup(second._quantize(ops.convert_to_tensor(x - q0), False)[1])
        )
        layer(x, training=True)
        expected = 0.5 * (np.mean((x - q0) ** 2) + np.mean((x - q0 - q1) ** 2))
        self.assertAllClose(layer.losses[0], expected, atol=1e-6)

    def test_shared_codebook(self):
        layer = ResidualVectorQuantizer(
            num_quantizers=4, codebook_size=8, shared_codebook=True
        )
        layer.build((None, 6))
        assert len(layer.stage_layers) == 1
        assert len(layer.non_trainable_weights) == 4  # one codebook's EMA state
        indices = _np(layer.encode(_x((5, 6))))
        assert indices.shape == (5, 4)

    def test_quantizer_kwargs_reach_stages(self):
        layer = ResidualVectorQuantizer(
            num_quantizers=2, quantizer_kwargs={"decay": 0.5}
        )
        assert all(
            isinstance(s, VectorQuantizer) and s.decay == 0.5
            for s in layer.stage_layers
        )
        with pytest.raises(ValueError, match="does not accept"):
            ResidualVectorQuantizer(quantizer_kwargs={"decays": 0.5})
        with pytest.raises(ValueError, match="cannot set"):
            ResidualVectorQuantizer(quantizer_kwargs={"codebook_size": 5})
        with pytest.raises(ValueError, match="num_quantizers=0"):
            ResidualVectorQuantizer(num_quantizers=0)

    def test_registry(self):
        layer = get_quantizer({"name": "rvq", "num_quantizers": 2})
        assert isinstance(layer, ResidualVectorQuantizer)
