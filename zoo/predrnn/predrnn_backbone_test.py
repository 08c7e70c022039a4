import keras
import numpy as np
import pytest

from keras_svq.testing import TestCase
from zoo import load_openstl_state_dict
from zoo.predrnn.predrnn_backbone import PredRNNBackbone
from zoo.predrnnv2.predrnnv2_backbone import PredRNNv2Backbone
from zoo.recurrent.patch_reshape import reshape_patch_back
from zoo.recurrent.scheduled_sampling_model import ScheduledSamplingModel
from zoo.recurrent.testing import TINY
from zoo.recurrent.testing import TINY_SHAPE
from zoo.recurrent.testing import load_fixture
from zoo.recurrent.testing import nchw_to_nhwc


class TestPredRNNBackbone(TestCase):
    @pytest.mark.slow
    def test_jit_compile(self):
        self.check_jit_compile(PredRNNBackbone, TINY, TINY_SHAPE)

    def test_mixed_precision(self):
        self.check_mixed_precision(
            PredRNNBackbone, {**TINY, "layer_norm": True}, TINY_SHAPE
        )

    def test_matches_official_fixture(self):
        state_dict, data, _ = load_fixture("predrnn.npz")
        model = PredRNNBackbone(**TINY)
        load_openstl_state_dict(model, state_dict)
        y = model(nchw_to_nhwc(data["x"]), training=False)
        self.assertAllClose(y, nchw_to_nhwc(data["y"]), atol=1e-4, rtol=0)
        frames = data["in:frames_patched"]
        self.assertAllClose(
            model.predictor.unroll(frames), data["out:next_frames"], atol=1e-4, rtol=0
        )
        mixed = model.predictor.unroll(frames, mask=data["in:mask_true_random"])
        self.assertAllClose(
            mixed, data["out:next_frames_mask_random"], atol=1e-4, rtol=0
        )
        # The same blend through the public call: future frames and a mask.
        future = nchw_to_nhwc(data["y_true_future"])
        teacher = model.predictor(
            nchw_to_nhwc(data["x"]), future, np.ones((2, 3, 1, 1, 1))
        )
        expected = model.predictor.unroll(
            frames, mask=np.ones((2, 3, 8, 8, 4), "float32")
        )
        self.assertAllClose(teacher, reshape_patch_back(expected[:, -4:], 2))

    def test_layer_norm_weights_load(self):
        model = PredRNNBackbone(**{**TINY, "layer_norm": True})
        names = [w.path for w in model.weights]
        assert "predictor/stack/cell_0/conv_x/norm/gamma" in names
        gamma = next(
            w for w in model.weights if w.path.endswith("cell_0/conv_x/norm/gamma")
        )
        assert tuple(gamma.shape) == (
            8,
            8,
            56,
        )  # torch LayerNorm([56, 8, 8]), channels last


class TestScheduledSampling(TestCase):
    def _data(self):
        rng = np.random.default_rng(0)
        x = rng.standard_normal(TINY_SHAPE).astype("float32")
        y = rng.standard_normal(TINY_SHAPE).astype("float32")
        return x, y

    def test_eta_one_is_teacher_forcing_and_zero_is_the_eval_path(self):
        x, y = self._data()
        backbone = PredRNNBackbone(**TINY)
        forced = ScheduledSamplingModel(backbone, sampling_changing_rate=0.0)
        free = ScheduledSamplingModel(backbone, sampling_start_value=0.0)
        ones = np.ones((2, 3, 1, 1, 1), "float32")
        self.assertAllClose(
            forced((x, y), training=True), backbone.predictor(x, y, ones, training=True)
        )
        self.assertAllClose(free((x, y), training=True), backbone(x, training=True))
        # Outside training the future frames are ignored.
        self.assertAllClose(forced((x, y), training=False), backbone(x))

    def test_schedules(self):
        backbone = PredRNNBackbone(**TINY)
        model = ScheduledSamplingModel(backbone)
        _, eta = model.sampling_probabilities(0)
        assert np.isclose(float(eta), 1.0 - 2e-5)
        _, eta = model.sampling_probabilities(60000)
        assert float(eta) == 0.0
        reverse = ScheduledSamplingModel(
            PredRNNBackbone(**TINY, reverse_scheduled_sampling=True)
        )
        r_eta, eta = reverse.sampling_probabilities(10)
        assert np.isclose(float(r_eta), 0.5) and np.isclose(float(eta), 0.5)
        r_eta, eta = reverse.sampling_probabilities(30000)
        assert np.isclose(float(r_eta), 1 - 0.5 * np.exp(-1.0))
        assert np.isclose(float(eta), 0.4)
        mask = reverse.sample_mask(5, step=60000)
        assert tuple(mask.shape) == (5, 6, 1, 1, 1)
        np.testing.assert_array_equal(
            np.asarray(mask)[:, :, 0, 0, 0], [[1, 1, 1, 0, 0, 0]] * 5
        )

    def test_fit_and_save(self):
        x, y = self._data()
        model = ScheduledSamplingModel(PredRNNBackbone(**TINY), seed=3)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        history = model.fit((x, y), y, batch_size=2, epochs=2, verbose=0)
        assert all(np.isfinite(history.history["loss"]))
        assert int(np.asarray(model.sampling_step)) == 2  # one per training step
        path = self.tmp_dir() / "trainer.keras"
        model.save(path)
        revived = keras.saving.load_model(path)
        self.assertAllClose(revived.backbone(x), model.backbone(x))

    @pytest.mark.integration
    def test_distributed_fit(self):
        import tensorflow as tf

        devices = tf.config.list_logical_devices("CPU")[:2]
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
        rng = np.random.default_rng(1)
        x = rng.standard_normal((4,) + TINY_SHAPE[1:]).astype("float32")
        y = rng.standard_normal((4,) + TINY_SHAPE[1:]).astype("float32")
        with strategy.scope():
            model = ScheduledSamplingModel(PredRNNv2Backbone(**TINY), seed=1)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        history = model.fit((x, y), y, batch_size=4, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        for weight in model.backbone.trainable_weights:
            values = weight.value.values
            self.assertAllClose(values[1], values[0], atol=0, rtol=0)

    def test_errors(self):
        with pytest.raises(ValueError, match="recurrent backbone"):
            ScheduledSamplingModel(keras.Sequential([keras.layers.Dense(1)]))
        with pytest.raises(ValueError, match="sampling_start_value"):
            ScheduledSamplingModel(PredRNNBackbone(**TINY), sampling_start_value=2.0)
        backbone = PredRNNBackbone(**TINY)
        with pytest.raises(ValueError, match="needs `future_frames`"):
            backbone.predictor(
                np.zeros(TINY_SHAPE, "float32"), mask=np.ones((2, 3, 1, 1, 1))
            )
