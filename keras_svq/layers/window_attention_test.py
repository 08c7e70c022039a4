import numpy as np
import pytest

from keras_svq.layers import WindowAttention
from keras_svq.layers.multi_head_self_attention_test import numpy_attention
from keras_svq.layers.window_attention import relative_position_index
from keras_svq.testing import TestCase


class TestWindowAttention(TestCase):
    def test_battery(self):
        self.run_layer_test(
            WindowAttention,
            {"window_size": 2, "num_heads": 2},
            input_shape=(3, 4, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_relative_position_index(self):
        index = relative_position_index((2, 3))
        assert index.shape == (6, 6)
        # Offset (dr, dc) -> (dr + 1) * 5 + (dc + 2); the diagonal is (0, 0).
        assert set(np.diag(index)) == {1 * 5 + 2}
        assert index[0, 5] == (0 - 1 + 1) * 5 + (0 - 2 + 2)  # token 5 = (1, 2)
        assert index[5, 0] == (1 + 1) * 5 + (2 + 2)
        assert index.max() == 3 * 5 - 1

    def test_matches_numpy_with_bias(self):
        layer = WindowAttention((2, 2), num_heads=2)
        x = np.random.default_rng(0).standard_normal((3, 4, 8)).astype("float32")
        layer.build(x.shape)
        table = np.asarray(layer.relative_position_bias_table)
        assert table.shape == (9, 2)
        bias = table[relative_position_index((2, 2)).reshape(-1)]
        bias = bias.reshape(4, 4, 2).transpose(2, 0, 1)[None]
        np.testing.assert_allclose(
            np.asarray(layer(x)), numpy_attention(layer, x, bias), atol=1e-5
        )

    def test_errors(self):
        with pytest.raises(
            ValueError, match="Received: 5 tokens for window_size=\\(2, 2\\)"
        ):
            WindowAttention(2).build((None, 5, 8))
        with pytest.raises(ValueError, match="Received: window_size=\\(0, 2\\)"):
            WindowAttention((0, 2))
