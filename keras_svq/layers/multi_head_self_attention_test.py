import numpy as np
import pytest

from keras_svq.layers import MultiHeadSelfAttention
from keras_svq.testing import TestCase


def numpy_attention(layer, x, bias=None):
    """The reference computation: fused qkv split as (3, heads, head_dim)."""
    batch, tokens, dim = x.shape
    heads = layer.num_heads
    qkv = x @ np.asarray(layer.qkv.kernel) + np.asarray(layer.qkv.bias)
    qkv = qkv.reshape(batch, tokens, 3, heads, dim // heads).transpose(2, 0, 3, 1, 4)
    q, k, v = qkv
    logits = (q * (dim // heads) ** -0.5) @ k.transpose(0, 1, 3, 2)
    if bias is not None:
        logits = logits + bias
    weights = np.exp(logits - logits.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    out = (weights @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, dim)
    return out @ np.asarray(layer.proj.kernel) + np.asarray(layer.proj.bias)


class TestMultiHeadSelfAttention(TestCase):
    def test_battery(self):
        self.run_layer_test(
            MultiHeadSelfAttention,
            {"num_heads": 2, "dropout_rate": 0.1},
            input_shape=(2, 5, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_matches_numpy(self):
        layer = MultiHeadSelfAttention(num_heads=4)
        x = np.random.default_rng(0).standard_normal((2, 6, 16)).astype("float32")
        layer.build(x.shape)
        # Non-zero biases, so that their layout is checked too.
        layer.qkv.bias.assign(np.random.default_rng(1).standard_normal(48))
        np.testing.assert_allclose(
            np.asarray(layer(x)), numpy_attention(layer, x), atol=1e-5
        )

    def test_parameter_shapes(self):
        layer = MultiHeadSelfAttention(num_heads=8, use_qkv_bias=False)
        layer.build((None, 10, 32))
        assert [tuple(w.shape) for w in layer.weights] == [(32, 96), (32, 32), (32,)]

    def test_errors(self):
        with pytest.raises(ValueError, match="input width=12, num_heads=8"):
            MultiHeadSelfAttention(8).build((None, 4, 12))
        with pytest.raises(ValueError, match="Received: num_heads=0"):
            MultiHeadSelfAttention(0)
        with pytest.raises(ValueError, match="Received: dropout_rate=1.0"):
            MultiHeadSelfAttention(dropout_rate=1.0)
