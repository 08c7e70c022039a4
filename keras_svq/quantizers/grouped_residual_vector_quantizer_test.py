import numpy as np
import pytest
from keras import ops

from keras_svq.quantizers import GroupedResidualVectorQuantizer
from keras_svq.quantizers import get_quantizer
from keras_svq.testing import TestCase

SMALL = {"groups": 2, "num_quantizers": 2, "codebook_size": 8, "codebook_dim": 3}


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


class TestGroupedResidualVectorQuantizer(TestCase):
    def test_battery(self):
        self.run_layer_test(
            GroupedResidualVectorQuantizer,
            SMALL,
            input_shape=(2, 4, 6, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_defaults_construct(self):
        layer = GroupedResidualVectorQuantizer()
        assert tuple(layer(_x((2, 3, 16))).shape) == (2, 3, 16)

    def test_decode_encode_matches_inference_call(self):
        layer = GroupedResidualVectorQuantizer(**SMALL)
        x = _x((2, 4, 4, 8))
        layer(x, training=True)
        indices = layer.encode(x)
        assert tuple(indices.shape) == (2, 4, 4, 2, 2)
        self.assertAllClose(layer.decode(indices), layer(x, training=False), atol=1e-5)

    def test_groups_are_independent(self):
        layer = GroupedResidualVectorQuantizer(
            groups=2, num_quantizers=2, codebook_size=8
        )
        x = _x((5, 6))
        y = _np(layer(x))
        first = layer.group_layers[0]
        self.assertAllClose(y[:, :3], first(x[:, :3]), atol=1e-6)
        # Changing the second group's channels leaves the first group's output.
        x2 = x.copy()
        x2[:, 3:] += 10.0
        self.assertAllClose(_np(layer(x2))[:, :3], y[:, :3], atol=0)

    def test_groups_must_divide_dim(self):
        layer = GroupedResidualVectorQuantizer(groups=3)
        with pytest.raises(ValueError, match="groups=3 for D=8"):
            layer(_x((2, 8)))

    def test_registry(self):
        layer = get_quantizer({"name": "grvq", "groups": 4})
        assert isinstance(layer, GroupedResidualVectorQuantizer)
