import numpy as np
import pytest
from keras import ops

from keras_svq.quantizers import MultiHeadVectorQuantizer
from keras_svq.quantizers import get_quantizer
from keras_svq.testing import TestCase

SMALL = {"num_heads": 2, "codebook_size": 8, "codebook_dim": 3}


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


class TestMultiHeadVectorQuantizer(TestCase):
    def test_battery_shared(self):
        self.run_layer_test(
            MultiHeadVectorQuantizer,
            SMALL,
            input_shape=(2, 4, 6, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_battery_separate(self):
        self.run_layer_test(
            MultiHeadVectorQuantizer,
            dict(SMALL, shared_codebook=False),
            input_shape=(2, 5, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_defaults_construct(self):
        layer = MultiHeadVectorQuantizer()
        assert tuple(layer(_x((2, 3, 16))).shape) == (2, 3, 16)
        assert tuple(layer.project_in.kernel.shape) == (16, 8 * 16)

    @pytest.mark.parametrize("shared", [True, False])
    def test_decode_encode_matches_inference_call(self, shared):
        layer = MultiHeadVectorQuantizer(**dict(SMALL, shared_codebook=shared))
        x = _x((2, 4, 4, 8))
        layer(x, training=True)
        indices = layer.encode(x)
        assert tuple(indices.shape) == (2, 4, 4, 2)
        self.assertAllClose(layer.decode(indices), layer(x, training=False), atol=1e-5)

    def test_codebooks(self):
        shared = MultiHeadVectorQuantizer(num_heads=4, codebook_size=8)
        shared.build((None, 6))
        separate = MultiHeadVectorQuantizer(
            num_heads=4, codebook_size=8, shared_codebook=False
        )
        separate.build((None, 6))
        assert len(shared.head_layers) == 1 and len(separate.head_layers) == 4
        assert tuple(shared.head_layers[0].codebook.shape) == (8, 6)

    def test_heads_use_their_codebook(self):
        layer = MultiHeadVectorQuantizer(
            num_heads=2, codebook_size=4, codebook_dim=3, shared_codebook=False
        )
        x = _x((5, 4))
        layer.build(x.shape)
        z = _np(layer.project_in(x)).reshape(5, 2, 3)
        for h, head in enumerate(layer.head_layers):
            codebook = _np(head.codebook)
            expected = ((z[:, h, None] - codebook[None]) ** 2).sum(-1).argmin(-1)
            np.testing.assert_array_equal(_np(layer.encode(x))[:, h], expected)

    def test_bad_arguments(self):
        with pytest.raises(ValueError, match="num_heads=0"):
            MultiHeadVectorQuantizer(num_heads=0)
        with pytest.raises(ValueError, match="cannot set"):
            MultiHeadVectorQuantizer(quantizer_kwargs={"codebook_dim": 3})

    def test_registry(self):
        assert isinstance(get_quantizer("mhvq"), MultiHeadVectorQuantizer)
