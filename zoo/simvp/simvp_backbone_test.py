import keras
import numpy as np
import pytest

from keras_svq.quantizers import SparseVectorQuantizer
from keras_svq.testing import TINY_SVQ
from keras_svq.testing import TestCase
from keras_svq.testing import tiny_simvp_config
from zoo import SimVPBackbone

SVQ = TINY_SVQ


def tiny(**overrides):
    """The shared tiny SimVP, with a wider translator (32 channels, MLP ratio 4)."""
    return tiny_simvp_config(
        **{"temporal_hidden_dim": 32, "mlp_ratio": 4.0, **overrides}
    )


class TestSimVPBackboneBattery(TestCase):
    """The full battery on representative configurations."""

    atol = 1e-4
    rtol = 1e-4

    # Each full battery costs about a minute on 2 shared cores: the paper's
    # default (gSTA + SVQ before the translator) runs in CI's integration
    # pass, the others with `-m slow`.
    @pytest.mark.parametrize(
        "kwargs",
        [
            pytest.param(
                tiny(translator="gsta", quantizer=SVQ, quantizer_position="pre"),
                marks=pytest.mark.integration,
            ),
            pytest.param(
                tiny(translator="incepu", quantizer=SVQ, quantizer_position="post"),
                marks=pytest.mark.slow,
            ),
            pytest.param(
                tiny(translator="tau", drop_path_rate=0.1), marks=pytest.mark.slow
            ),
            # A roll-out: 3 -> 7 frames = two full steps and one more frame.
            pytest.param(
                tiny(
                    input_length=3,
                    output_length=7,
                    translator="gsta",
                    quantizer={**SVQ, "freeze_codebook": True},
                ),
                marks=pytest.mark.slow,
            ),
        ],
        ids=["gsta_svq_pre", "incepu_svq_post", "tau", "gsta_svq_frozen_rollout"],
    )
    def test_full_battery(self, kwargs):
        shape = (2, kwargs["input_length"], 16, 16, 1)
        self.run_backbone_test(
            SimVPBackbone,
            kwargs,
            input_shape=shape,
            expected_output_shape=(2, kwargs["output_length"], 16, 16, 1),
            run_jit=False,
        )


class TestSimVPBackboneLight(TestCase):
    """Config round trip, call and `.keras` saving on the other combinations."""

    atol = 1e-4
    rtol = 1e-4

    @pytest.mark.parametrize(
        "translator,quantizer,position",
        [
            ("gsta", None, "pre"),
            ("gsta", SVQ, "post"),
            ("incepu", None, "pre"),
            ("incepu", SVQ, "pre"),
            ("tau", SVQ, "pre"),
            ("tau", SVQ, "post"),
        ],
    )
    def test_light_battery(self, translator, quantizer, position):
        kwargs = tiny(
            translator=translator, quantizer=quantizer, quantizer_position=position
        )
        self.run_backbone_test(
            SimVPBackbone,
            kwargs,
            input_shape=(2, 4, 16, 16, 1),
            run_fit=False,
            run_saved_model=False,
            run_mixed_precision=False,
            run_distribution=False,
            run_jit=False,
        )

    def test_non_square_multichannel_two_stages(self):
        kwargs = tiny(
            height=16,
            width=24,
            channels=2,
            num_spatial_layers=4,
            temporal_hidden_dim=48,
            num_temporal_layers=3,
            quantizer=SVQ,
        )
        self.run_backbone_test(
            SimVPBackbone,
            kwargs,
            input_shape=(2, 4, 16, 24, 2),
            run_fit=False,
            run_saved_model=False,
            run_mixed_precision=False,
            run_distribution=False,
            run_jit=False,
        )


class TestSimVPBackboneBehaviour(TestCase):
    def test_shorter_output_takes_first_frames(self):
        long = SimVPBackbone(**tiny())
        short = SimVPBackbone(**tiny(output_length=2))
        short.set_weights(long.get_weights())
        x = (
            np.random.default_rng(0)
            .standard_normal((2, 4, 16, 16, 1))
            .astype("float32")
        )
        np.testing.assert_allclose(
            np.asarray(short(x)), np.asarray(long(x))[:, :2], atol=1e-6
        )

    def test_rollout_feeds_predictions_back(self):
        step = SimVPBackbone(**tiny(input_length=2, output_length=2))
        rollout = SimVPBackbone(**tiny(input_length=2, output_length=5))
        rollout.set_weights(step.get_weights())
        x = (
            np.random.default_rng(1)
            .standard_normal((2, 2, 16, 16, 1))
            .astype("float32")
        )
        y1 = np.asarray(step(x))
        y2 = np.asarray(step(y1))
        y3 = np.asarray(step(y2))
        expected = np.concatenate([y1, y2, y3[:, :1]], axis=1)
        np.testing.assert_allclose(np.asarray(rollout(x)), expected, atol=1e-5)

    def test_quantizer_forms(self):
        by_name = SimVPBackbone(**tiny(quantizer="svq"))
        assert isinstance(by_name.quantizer, SparseVectorQuantizer)
        assert tuple(by_name.quantizer.codebook.shape) == (10000, 8)
        layer = SparseVectorQuantizer(codebook_size=16, hidden_dim=8)
        model = SimVPBackbone(**tiny(quantizer=layer))
        assert model.quantizer is layer
        config = model.get_config()
        assert config["quantizer"]["config"]["codebook_size"] == 16
        revived = SimVPBackbone.from_config(config)
        assert revived.quantizer.codebook_size == 16
        assert SimVPBackbone(**tiny()).quantizer is None

    def test_noise_only_in_training(self):
        model = SimVPBackbone(**tiny(noise_rate=0.5))
        x = (
            np.random.default_rng(2)
            .standard_normal((2, 4, 16, 16, 1))
            .astype("float32")
        )
        np.testing.assert_allclose(
            np.asarray(model(x, training=False)), np.asarray(model(x, training=False))
        )
        assert model.get_config()["noise_rate"] == 0.5

    def test_dtype_policy_round_trips_through_the_config(self):
        # Keras' functional models drop `dtype`; the backbone keeps it.
        model = SimVPBackbone(**tiny_simvp_config(), dtype="mixed_bfloat16")
        assert model.dtype_policy.name == "mixed_bfloat16"
        copy = SimVPBackbone.from_config(model.get_config())
        assert copy.dtype_policy.name == "mixed_bfloat16"
        assert copy.encoder.dtype_policy.name == "mixed_bfloat16"
        assert SimVPBackbone(**tiny_simvp_config()).dtype_policy.name == "float32"

    def test_odd_sizes_are_rejected_with_the_valid_ones(self):
        with pytest.raises(ValueError, match=r"multiple of 4.*\[28, 32\].*height=30"):
            SimVPBackbone(**tiny(height=30, num_spatial_layers=4))
        with pytest.raises(ValueError, match=r"\[16, 18\].*width=17"):
            SimVPBackbone(**tiny(width=17))

    def test_unknown_names_list_valid_ones(self):
        with pytest.raises(
            ValueError, match=r"Valid names: \[.*'gsta'.*\]. Received: translator='foo'"
        ):
            SimVPBackbone(**tiny(translator="foo"))
        with pytest.raises(ValueError, match=r"Valid names: \[.*'svq'.*\]"):
            SimVPBackbone(**tiny(quantizer="nope"))
        with pytest.raises(ValueError, match="quantizer_position"):
            SimVPBackbone(**tiny(quantizer="svq", quantizer_position="mid"))
        with pytest.raises(ValueError, match="num_spatial_layers=3"):
            SimVPBackbone(**tiny(num_spatial_layers=3))

    def test_from_preset(self):
        model = SimVPBackbone.from_preset(
            "taxibj/simvp_gsta_svq_frozen",
            temporal_hidden_dim=32,
            num_temporal_layers=2,
        )
        assert model.quantizer.freeze_codebook
        assert model.output_shape == (None, 4, 32, 32, 2)
        with pytest.raises(ValueError, match="Unknown preset"):
            SimVPBackbone.from_preset("taxibj/nope")
        with pytest.raises(ValueError, match="not a SimVPBackbone one"):
            SimVPBackbone.from_preset("taxibj/convlstm")

    def test_fit_with_tau_loss(self):
        from keras_svq.training.losses import TAULoss

        model = SimVPBackbone(**tiny(translator="tau"))
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=TAULoss(alpha=0.1))
        rng = np.random.default_rng(3)
        x = rng.standard_normal((2, 4, 16, 16, 1)).astype("float32")
        history = model.fit(x, x, batch_size=2, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])


def _copy_weights(source, target):
    """Copies the weights of every layer `target` shares by name with `source`."""
    for layer in target.layers:
        if layer.weights:
            layer.set_weights(source.get_layer(layer.name).get_weights())


class TestSimVPOutputConstraint(TestCase):
    # Physical y >= 0 with mean 0.25 and std 2 is z >= -0.125 in model space,
    # inside the range a freshly initialised tiny SimVP outputs.
    MEAN, STD = 0.25, 2.0

    def _inputs(self, seed=0):
        rng = np.random.default_rng(seed)
        return (100.0 * rng.standard_normal((2, 4, 16, 16, 1))).astype("float32")

    def test_nonnegative_never_below_physical_zero(self):
        model = SimVPBackbone(**tiny(output_constraint="nonnegative"))
        assert model.layers[-1].name == "output_constraint"
        model.set_output_normalization([self.MEAN], [self.STD])
        plain = SimVPBackbone(**tiny())
        _copy_weights(model, plain)
        x = self._inputs()
        y = np.asarray(model(x, training=False))
        bound = -self.MEAN / self.STD
        assert y.min() >= bound
        assert np.any(y == bound), "the inputs never reached the bound"
        assert np.any(y > bound)
        # Values above the bound are the plain model's, the rest sit on it.
        np.testing.assert_array_equal(
            y, np.maximum(np.asarray(plain(x, training=False)), np.float32(bound))
        )
        assert np.all(y * self.STD + self.MEAN >= 0.0)

    def test_clip_in_a_rollout(self):
        model = SimVPBackbone(**tiny(input_length=2, output_length=5, clip=[0, 4]))
        model.set_output_normalization(self.MEAN, self.STD)
        rng = np.random.default_rng(1)
        x = (100.0 * rng.standard_normal((2, 2, 16, 16, 1))).astype("float32")
        physical = np.asarray(model(x)) * self.STD + self.MEAN
        assert physical.shape == (2, 5, 16, 16, 1)
        assert physical.min() >= 0.0 and physical.max() <= 4.0

    def test_config_round_trip_keeps_both(self):
        kwargs = tiny(output_constraint="nonnegative", clip=(None, 50))
        config = SimVPBackbone(**kwargs).get_config()
        assert config["output_constraint"] == "nonnegative"
        assert config["clip"] == [None, 50.0]
        self.check_config_round_trip(SimVPBackbone, kwargs, (2, 4, 16, 16, 1))
        revived = SimVPBackbone.from_config(config)
        assert revived.layers[-1].name == "output_constraint"
        assert revived.get_config() == config

    def test_keras_saving_keeps_normalization(self):
        model = SimVPBackbone(**tiny(clip=[0, 10]))
        model.set_output_normalization([self.MEAN], [self.STD])
        x = self._inputs(2)
        expected = np.asarray(model(x, training=False))
        path = self.tmp_dir() / "model.keras"
        model.save(path)
        revived = keras.saving.load_model(path)
        layer = revived.get_layer("output_constraint")
        np.testing.assert_array_equal(np.asarray(layer.mean), [self.MEAN])
        np.testing.assert_array_equal(np.asarray(layer.std), [self.STD])
        np.testing.assert_allclose(
            np.asarray(revived(x, training=False)), expected, atol=1e-5
        )

    def test_fit_step(self):
        model = SimVPBackbone(**tiny(output_constraint="nonnegative"))
        model.set_output_normalization([self.MEAN], [self.STD])
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        rng = np.random.default_rng(3)
        x = rng.standard_normal((2, 4, 16, 16, 1)).astype("float32")
        y = rng.standard_normal((2, 4, 16, 16, 1)).astype("float32")
        before = [np.asarray(w) for w in model.trainable_weights]
        history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        after = [np.asarray(w) for w in model.trainable_weights]
        assert any(not np.array_equal(a, b) for a, b in zip(before, after))
        layer = model.get_layer("output_constraint")
        # The normaliser is data, not a parameter: fit leaves it alone.
        np.testing.assert_array_equal(np.asarray(layer.mean), [self.MEAN])
        np.testing.assert_array_equal(np.asarray(layer.std), [self.STD])

    def test_nothing_added_without_a_constraint(self):
        plain = SimVPBackbone(**tiny())
        assert "output_constraint" not in [layer.name for layer in plain.layers]
        assert plain.output_constraint_layer is None
        config = plain.get_config()
        assert config["output_constraint"] is None and config["clip"] is None
        plain.set_output_normalization([self.MEAN], [self.STD])  # a no-op
        bounded = SimVPBackbone(**tiny(clip=[0, 1]))
        # Only the two non-trainable normaliser weights are new.
        assert len(bounded.weights) == len(plain.weights) + 2
        assert bounded.count_params() == plain.count_params() + 2

    def test_invalid_constraint_names_the_valid_ones(self):
        with pytest.raises(
            ValueError, match=r"\['nonnegative'\]. Received: constraint='positive'"
        ):
            SimVPBackbone(**tiny(output_constraint="positive"))
        with pytest.raises(ValueError, match=r"lo < hi. Received: clip=\[1, 0\]"):
            SimVPBackbone(**tiny(clip=[1, 0]))


class TestSimVPResidual(TestCase):
    def test_residual_adds_the_last_input_frame(self):
        plain = SimVPBackbone(**tiny(output_length=3))
        residual = SimVPBackbone(**tiny(output_length=3, residual=True))
        assert residual.count_params() == plain.count_params()
        residual.set_weights(plain.get_weights())
        x = np.random.default_rng(0).normal(size=(2, 4, 16, 16, 1)).astype("float32")
        change = np.asarray(residual(x)) - np.asarray(plain(x))
        np.testing.assert_allclose(
            change, np.repeat(x[:, -1:], 3, axis=1), rtol=1e-5, atol=1e-5
        )
        config = residual.get_config()
        assert config["residual"] is True
        assert SimVPBackbone.from_config(config).get_config() == config
        assert plain.get_config()["residual"] is False

    def test_residual_roll_out_anchors_every_step(self):
        model = SimVPBackbone(**tiny(output_length=8, residual=True))
        x = np.random.default_rng(1).normal(size=(1, 4, 16, 16, 1)).astype("float32")
        assert model(x).shape == (1, 8, 16, 16, 1)
        assert (
            len([layer for layer in model.layers if layer.name == "add_last_frame"])
            == 1
        )
