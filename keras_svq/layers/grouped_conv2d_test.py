import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_svq.layers import GroupedConv2D
from keras_svq.testing import TestCase


def _pair(groups, **kwargs):
    """A `GroupedConv2D` and a `Conv2D` with the same arguments and weights."""
    ours = GroupedConv2D(16, 3, groups=groups, **kwargs)
    plain = keras.layers.Conv2D(16, 3, groups=groups, **kwargs)
    shape = (None, 9, 7, 8)
    ours.build(shape)
    plain.build(shape)
    plain.set_weights(ours.get_weights())
    return ours, plain, (2,) + shape[1:]


class TestGroupedConv2D(TestCase):
    def test_battery(self):
        self.run_layer_test(
            GroupedConv2D,
            {"filters": 8, "kernel_size": 3, "padding": "same", "groups": 4},
            input_shape=(2, 6, 6, 8),
            expected_output_shape=(2, 6, 6, 8),
        )

    @pytest.mark.parametrize(
        "kwargs",
        [
            {"padding": "same"},
            {"padding": "valid", "strides": 2},
            {"padding": "same", "dilation_rate": 2},
        ],
        ids=["same", "strided", "dilated"],
    )
    def test_same_outputs_and_gradients_as_conv2d(self, kwargs):
        ours, plain, shape = _pair(4, **kwargs)
        x = tf.constant(np.random.default_rng(0).standard_normal(shape), "float32")
        grads = []
        for layer in (ours, plain):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x)
                loss = tf.reduce_sum(y * y)
            grads.append(tape.gradient(loss, [x, *layer.trainable_weights]))
            if layer is ours:
                expected_shape = tuple(y.shape)
        self.assertAllClose(ours(x), plain(x), atol=1e-5)
        assert tuple(plain(x).shape) == expected_shape
        for a, b in zip(*grads):
            self.assertAllClose(a, b, atol=1e-4, rtol=1e-4)

    def test_one_group_is_conv2d(self):
        ours, plain, shape = _pair(1, padding="same")
        x = np.random.default_rng(1).standard_normal(shape).astype("float32")
        self.assertAllClose(ours(x), plain(x), atol=1e-6)
        assert ours.get_config() == {**plain.get_config(), "name": ours.name}
