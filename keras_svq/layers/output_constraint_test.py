import keras
import numpy as np
import pytest

from keras_svq.layers import OutputConstraint
from keras_svq.testing import TestCase


def _frames(values, channels=1):
    """`values` laid out as a `(1, len, 1, 1, C)` float32 tensor."""
    values = np.asarray(values, "float32")
    return values.reshape(1, -1, 1, 1, channels)


class TestOutputConstraint(TestCase):
    # No trainable weights: no fit step can change one, and the distributed
    # fit only checks that the mirrored mean/std stay in agreement.
    @pytest.mark.filterwarnings("ignore:The model does not have any trainable")
    def test_battery(self):
        self.run_layer_test(
            OutputConstraint,
            {"constraint": "nonnegative", "clip": [None, 1.5], "channels": 2},
            input_shape=(2, 3, 4, 4, 2),
            run_fit=False,
            run_saved_model=False,
        )

    def test_nonnegative_is_physical_zero(self):
        layer = OutputConstraint(constraint="nonnegative")
        x = _frames([-100.0, -8.0, -5.5, -5.0, -4.9, 0.0, 3.0])
        layer(x)
        layer.set_normalization(mean=[10.0], std=[2.0])
        y = np.asarray(layer(x)).ravel()
        # (0 - 10) / 2 = -5: below it -> exactly -5, the rest unchanged.
        np.testing.assert_array_equal(
            y, np.float32([-5.0, -5.0, -5.0, -5.0, -4.9, 0.0, 3.0])
        )
        assert np.all(y * 2.0 + 10.0 >= 0.0)

    def test_clip_bounds(self):
        layer = OutputConstraint(clip=[0, 20], channels=1)
        layer.set_normalization(mean=10.0, std=2.0)  # scalars broadcast
        x = _frames([-7.0, -5.0, 0.0, 4.5, 5.0, 9.0])
        y = np.asarray(layer(x)).ravel()
        np.testing.assert_array_equal(y, [-5.0, -5.0, 0.0, 4.5, 5.0, 5.0])
        physical = y * 2.0 + 10.0
        assert physical.min() == 0.0 and physical.max() == 20.0

    def test_one_sided_clip_and_nonnegative_combine(self):
        layer = OutputConstraint(constraint="nonnegative", clip=[-3.0, None])
        x = _frames([-9.0, -1.0, 0.0, 1e6])
        # The tighter lower bound (0) wins; no upper bound.
        np.testing.assert_array_equal(
            np.asarray(layer(x)).ravel(), [0.0, 0.0, 0.0, 1e6]
        )
        upper = OutputConstraint(clip=[None, 2.0])
        np.testing.assert_array_equal(
            np.asarray(upper(x)).ravel(), [-9.0, -1.0, 0.0, 2.0]
        )

    def test_per_channel_bounds(self):
        mean = np.array([10.0, -1.0], "float32")
        std = np.array([2.0, 0.5], "float32")
        layer = OutputConstraint(clip=[0.0, 20.0], channels=2)
        layer.set_normalization(mean, std)
        x = (
            np.random.default_rng(0)
            .normal(scale=30.0, size=(2, 3, 4, 4, 2))
            .astype("float32")
        )
        # numpy reference: channel 0 in [-5, 5], channel 1 in [2, 42].
        expected = np.clip(x, (0.0 - mean) / std, (20.0 - mean) / std)
        self.assertAllClose(layer(x), expected, atol=0, rtol=0)
        physical = np.asarray(layer(x)) * std + mean
        assert physical.min() >= 0.0 and physical.max() <= 20.0

    def test_negative_std_flips_the_bound(self):
        # y_phys = -z, so y_phys >= 0 means z <= 0.
        layer = OutputConstraint(constraint="nonnegative", channels=1)
        layer.set_normalization(mean=[0.0], std=[-1.0])
        x = _frames([-2.0, 0.0, 3.0])
        np.testing.assert_array_equal(np.asarray(layer(x)).ravel(), [-2.0, 0.0, 0.0])

    @pytest.mark.skipif(
        keras.backend.backend() != "tensorflow", reason="uses tf.GradientTape"
    )
    def test_hard_clip_has_zero_gradient_below_the_bound(self):
        import tensorflow as tf

        layer = OutputConstraint(constraint="nonnegative")
        x = tf.constant(_frames([-2.0, 1.0]))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
        np.testing.assert_array_equal(
            np.asarray(tape.gradient(y, x)).ravel(), [0.0, 1.0]
        )

    def test_mixed_precision_keeps_the_bound(self):
        keras.config.set_dtype_policy("mixed_float16")
        layer = OutputConstraint(constraint="nonnegative", channels=1)
        layer.set_normalization([10.0], [2.0])
        y = layer(_frames([-9.0, 1.0]))
        assert keras.backend.standardize_dtype(y.dtype) == "float16"
        assert layer.mean.dtype == "float32" and layer.std.dtype == "float32"
        np.testing.assert_array_equal(np.asarray(y, "float32").ravel(), [-5.0, 1.0])

    def test_weights_are_non_trainable_per_channel(self):
        layer = OutputConstraint(clip=[0, 1])
        layer(np.zeros((1, 2, 3, 3, 4), "float32"))
        assert layer.trainable_weights == []
        assert [tuple(w.shape) for w in layer.non_trainable_weights] == [(4,), (4,)]
        np.testing.assert_array_equal(np.asarray(layer.mean), np.zeros(4))
        np.testing.assert_array_equal(np.asarray(layer.std), np.ones(4))

    def test_config_round_trip(self):
        layer = OutputConstraint(
            constraint="nonnegative", clip=(0, 20), channels=3, name="bounds"
        )
        config = layer.get_config()
        assert config["constraint"] == "nonnegative"
        assert config["clip"] == [0.0, 20.0]
        assert config["channels"] == 3
        revived = OutputConstraint.from_config(config)
        assert revived.get_config() == config

    def test_keras_saving_keeps_normalization_and_outputs(self):
        inputs = keras.Input((3, 4, 4, 2))
        layer = OutputConstraint(constraint="nonnegative", clip=[None, 20.0])
        model = keras.Model(inputs, layer(inputs))
        layer.set_normalization([10.0, 1.0], [2.0, 4.0])
        x = (
            np.random.default_rng(1)
            .normal(scale=10.0, size=(2, 3, 4, 4, 2))
            .astype("float32")
        )
        expected = np.asarray(model(x))
        path = self.tmp_dir() / "model.keras"
        model.save(path)
        revived = keras.saving.load_model(path)
        revived_layer = revived.layers[-1]
        assert isinstance(revived_layer, OutputConstraint)
        np.testing.assert_array_equal(np.asarray(revived_layer.mean), [10.0, 1.0])
        np.testing.assert_array_equal(np.asarray(revived_layer.std), [2.0, 4.0])
        self.assertAllClose(revived(x), expected, atol=0, rtol=0)

    @pytest.mark.parametrize(
        "kwargs, message",
        [
            (
                {"constraint": "positive"},
                r"one of \['nonnegative'\]. Received: constraint='positive'",
            ),
            ({"clip": 5.0}, r"pair `\[lo, hi\]`.*Received: clip=5.0"),
            ({"clip": [0.0, 1.0, 2.0]}, r"Received: clip=\[0.0, 1.0, 2.0\]"),
            ({"clip": [1.0, 0.0]}, r"lo < hi. Received: clip=\[1.0, 0.0\]"),
            ({"clip": [None, None]}, r"at least one bound.*clip=\[None, None\]"),
            ({"clip": [0.0, "1"]}, r"finite numbers or None. Received: clip="),
            ({"clip": [0.0, float("inf")]}, r"finite numbers or None"),
            (
                {"constraint": "nonnegative", "clip": [-3.0, -1.0]},
                r"upper bound of `clip` above 0.*clip=\[-3.0, -1.0\]",
            ),
            ({"channels": 0}, r"Received: channels=0"),
        ],
    )
    def test_invalid_arguments(self, kwargs, message):
        with pytest.raises(ValueError, match=message):
            OutputConstraint(**kwargs)

    def test_normalization_errors(self):
        with pytest.raises(ValueError, match="needs `channels`"):
            OutputConstraint(clip=[0, 1]).set_normalization([0.0], [1.0])
        layer = OutputConstraint(clip=[0, 1], channels=2)
        with pytest.raises(ValueError, match=r"shape \(2,\). Received: mean.shape"):
            layer.set_normalization([0.0, 1.0, 2.0], [1.0, 1.0])
        with pytest.raises(ValueError, match="`std` must be finite and non-zero"):
            layer.set_normalization([0.0, 0.0], [1.0, 0.0])
        with pytest.raises(ValueError, match="created with channels=2"):
            OutputConstraint(clip=[0, 1], channels=2)(np.zeros((1, 1, 2, 2, 3)))
