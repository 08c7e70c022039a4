import keras
import numpy as np
import pytest

from keras_svq.quantizers import SparseVectorQuantizer
from keras_svq.testing import TestCase
from zoo import SimVPBackbone

TINY = dict(
    input_length=4,
    output_length=4,
    height=16,
    width=16,
    channels=1,
    spatial_hidden_dim=8,
    temporal_hidden_dim=32,
    num_spatial_layers=2,
    num_temporal_layers=2,
    mlp_ratio=4.0,
)
SVQ = {"name": "svq", "codebook_size": 32, "hidden_dim": 16}


def tiny(**overrides):
    return {**TINY, **overrides}


class TestSimVPBackboneBattery(TestCase):
    """The full battery on representative configurations."""

    atol = 1e-4
    rtol = 1e-4

    # Each full battery costs about a minute on 2 shared cores: the paper's
    # default (gSTA + SVQ before the translator) runs by default, the others
    # with `-m slow`.
    @pytest.mark.parametrize(
        "kwargs",
        [
            tiny(translator="gsta", quantizer=SVQ, quantizer_position="pre"),
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
