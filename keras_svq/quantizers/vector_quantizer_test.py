import keras
import numpy as np
import pytest
from keras import ops

from keras_svq.quantizers import VectorQuantizer
from keras_svq.quantizers import get_quantizer
from keras_svq.quantizers import perplexity_from_indices
from keras_svq.testing import TestCase

# codebook_dim != D so the layer has trainable projections for the fit check.
SMALL = {"codebook_size": 16, "codebook_dim": 4}

requires_tf = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="uses tf.GradientTape / tf.distribute",
)


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _np(x):
    return np.asarray(ops.convert_to_numpy(x))


def _numpy_ema_step(flat, codebook, cluster_size, average, decay, eps):
    """One EMA codebook update, written from the VQ-VAE-2 formulas."""
    distances = ((flat[:, None, :] - codebook[None]) ** 2).sum(-1)
    onehot = np.eye(len(codebook))[distances.argmin(-1)]
    cluster_size = decay * cluster_size + (1 - decay) * onehot.sum(0)
    average = decay * average + (1 - decay) * onehot.T @ flat
    total = cluster_size.sum()
    smoothed = (cluster_size + eps) / (total + len(codebook) * eps) * total
    return cluster_size, average, average / smoothed[:, None]


class TestVectorQuantizerBattery(TestCase):
    def test_standard_battery_ema(self):
        self.run_layer_test(VectorQuantizer, SMALL, input_shape=(2, 4, 6, 8))

    def test_battery_gradient_cosine(self):
        kwargs = dict(SMALL, codebook_update="gradient", use_cosine_similarity=True)
        self.run_layer_test(
            VectorQuantizer,
            kwargs,
            input_shape=(2, 5, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_defaults_construct(self):
        layer = VectorQuantizer()
        y = layer(_x((2, 3, 32)))
        assert tuple(y.shape) == (2, 3, 32)
        assert tuple(layer.codebook.shape) == (1024, 32)


class TestVectorQuantizerMath(TestCase):
    def test_decode_encode_matches_inference_call(self):
        layer = VectorQuantizer(**SMALL)
        x = _x((2, 4, 4, 8))
        layer(x, training=True)  # move the codebook away from its init
        indices = layer.encode(x)
        assert tuple(indices.shape) == (2, 4, 4)
        assert keras.backend.standardize_dtype(indices.dtype) == "int32"
        self.assertAllClose(layer.decode(indices), layer(x, training=False), atol=1e-6)

    def test_output_is_nearest_code(self):
        layer = VectorQuantizer(codebook_size=5)
        x = _x((7, 3))
        layer.build(x.shape)
        codebook = _x((5, 3), seed=1)
        layer.codebook.assign(codebook)
        expected = codebook[((x[:, None] - codebook[None]) ** 2).sum(-1).argmin(-1)]
        self.assertAllClose(layer(x), expected, atol=1e-6)

    @requires_tf
    def test_straight_through_gradient(self):
        import tensorflow as tf

        layer = VectorQuantizer(codebook_size=8)
        x = tf.constant(_x((6, 4)))
        weights = tf.constant(_x((6, 4), seed=3))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
            objective = tf.reduce_sum(y * weights)
        # The quantizer passes the upstream gradient through unchanged.
        self.assertAllClose(tape.gradient(objective, x), weights, atol=1e-6)

    def test_commitment_loss(self):
        layer = VectorQuantizer(codebook_size=8, commitment_weight=0.25)
        x = _x((2, 5, 4))
        y = _np(layer(x, training=True))
        assert len(layer.losses) == 1
        self.assertAllClose(layer.losses[0], 0.25 * np.mean((x - y) ** 2), atol=1e-6)
        layer(x, training=False)
        assert layer.losses == []  # the reference adds it in training only

    def test_ema_update_matches_numpy(self):
        decay, eps = 0.8, 1e-5
        layer = VectorQuantizer(codebook_size=6, decay=decay, epsilon=eps)
        x = _x((3, 10, 4))
        layer.build(x.shape)
        codebook = _x((6, 4), seed=4)
        layer.codebook.assign(codebook)
        layer.codebook_average.assign(codebook)
        cluster_size = np.zeros(6)
        average = codebook.astype("float64")
        current = codebook.astype("float64")
        flat = x.reshape(-1, 4).astype("float64")
        for _ in range(3):
            layer(x, training=True)
            cluster_size, average, current = _numpy_ema_step(
                flat, current, cluster_size, average, decay, eps
            )
            self.assertAllClose(layer.cluster_size, cluster_size, atol=1e-5)
            self.assertAllClose(layer.codebook_average, average, atol=1e-5, rtol=1e-4)
            self.assertAllClose(layer.codebook, current, atol=1e-4, rtol=1e-4)

    def test_inference_leaves_state_alone(self):
        layer = VectorQuantizer(**SMALL)
        x = _x((2, 4, 8))
        layer(x, training=False)
        before = [_np(w) for w in layer.non_trainable_weights]
        layer(x, training=False)
        layer.encode(x)
        for b, w in zip(before, layer.non_trainable_weights):
            np.testing.assert_array_equal(b, _np(w))

    def test_gradient_codebook_learns(self):
        layer = VectorQuantizer(codebook_size=8, codebook_update="gradient")
        x = _x((4, 6))
        layer.build(x.shape)
        assert layer.codebook.trainable
        assert [w.name for w in layer.non_trainable_weights] == [
            "initialized",
            "cluster_size",
        ]
        y = _np(layer(x, training=True))
        expected = 1.0 * np.mean((x - y) ** 2) + np.mean((x - y) ** 2)
        self.assertAllClose(layer.losses[0], expected, atol=1e-6)

    def test_kmeans_init_on_first_training_batch(self):
        centers = np.array([[5, 0], [-5, 0], [0, 5], [0, -5]], dtype="float32")
        rng = np.random.default_rng(0)
        x = (
            centers[rng.integers(0, 4, 256)] + 0.01 * rng.standard_normal((256, 2))
        ).astype("float32")
        layer = VectorQuantizer(
            codebook_size=4, kmeans_init=True, kmeans_iters=10, seed=3
        )
        layer.build(x.shape)
        assert float(_np(layer.initialized)) == 0.0
        np.testing.assert_array_equal(_np(layer.codebook), 0.0)
        layer(x, training=True)
        assert float(_np(layer.initialized)) == 1.0
        codebook = _np(layer.codebook)
        # Every data point is now close to a code (seeded: all 4 clusters found).
        error = ((x[:, None] - codebook[None]) ** 2).sum(-1).min(-1)
        assert error.max() < 0.1, codebook
        # A second batch is not re-clustered.
        before = _np(layer.codebook)
        layer(x + 1.0, training=False)
        np.testing.assert_array_equal(_np(layer.codebook), before)

    def test_dead_codes_are_replaced_by_batch_vectors(self):
        layer = VectorQuantizer(codebook_size=8, dead_code_threshold=1.0, seed=0)
        x = _x((64, 3))
        layer.build(x.shape)
        codebook = np.full((8, 3), 100.0, dtype="float32")
        codebook[0] = 0.0  # only code 0 is ever chosen
        layer.codebook.assign(codebook)
        layer.codebook_average.assign(codebook)
        layer(x, training=True)
        new = _np(layer.codebook)
        for row in new[1:]:
            assert np.any(np.all(np.isclose(x, row[None]), axis=-1)), row
        self.assertAllClose(layer.cluster_size[1:], np.ones(7))

    def test_stochastic_codes_in_training_only(self):
        x = _x((400, 4))
        layer = VectorQuantizer(codebook_size=8, sample_temperature=10.0, seed=0)
        layer.build(x.shape)
        layer.codebook.assign(_x((8, 4), seed=5))
        nearest = _np(layer.encode(x))
        _, sampled, _ = layer._quantize(ops.convert_to_tensor(x), training=True)
        # A high temperature draws other codes than the nearest for many vectors.
        assert np.mean(_np(sampled) != nearest) > 0.3
        np.testing.assert_array_equal(_np(layer.encode(x)), _np(layer.encode(x)))
        # Near zero temperature, sampling is the argmin.
        cold = VectorQuantizer(codebook_size=8, sample_temperature=1e-6, seed=0)
        cold.build(x.shape)
        cold.codebook.assign(_x((8, 4), seed=5))
        _, sampled, _ = cold._quantize(ops.convert_to_tensor(x), training=True)
        np.testing.assert_array_equal(_np(sampled), nearest)

    def test_cosine_similarity_codes_are_unit(self):
        layer = VectorQuantizer(codebook_size=8, use_cosine_similarity=True)
        x = _x((5, 6, 4))
        y = layer(x, training=True)
        self.assertAllClose(ops.norm(y, axis=-1), np.ones((5, 6)), atol=1e-5)
        self.assertAllClose(ops.norm(layer.codebook, axis=-1), np.ones(8), atol=1e-5)

    def test_perplexity_from_indices(self):
        layer = VectorQuantizer(codebook_size=16)
        indices = _np(layer.encode(_x((4, 50, 8))))
        perplexity = perplexity_from_indices(indices, 16)
        assert 1.0 <= perplexity <= 16.0
        assert perplexity_from_indices(np.arange(16), 16) == pytest.approx(16.0)
        assert perplexity_from_indices(np.zeros(9, "int32"), 16) == pytest.approx(1.0)
        per_head = perplexity_from_indices(np.array([[0, 0], [1, 0]]), 4, axis=-1)
        assert per_head == pytest.approx((2.0 + 1.0) / 2)
        with pytest.raises(ValueError, match="codebook_size=4"):
            perplexity_from_indices(np.array([4]), 4)

    def test_mixed_precision_returns_float16(self):
        keras.config.set_dtype_policy("mixed_float16")
        layer = VectorQuantizer(**SMALL)
        y = layer(_x((2, 3, 8)), training=True)
        assert keras.backend.standardize_dtype(y.dtype) == "float16"
        assert keras.backend.standardize_dtype(layer.losses[0].dtype) == "float32"

    def test_pure_bfloat16_policy_keeps_float32_state(self):
        x = _x((2, 3, 8))
        reference = VectorQuantizer(**SMALL)
        reference(x, training=False)
        layer = VectorQuantizer(**SMALL, dtype="bfloat16")
        layer.build((2, 3, 8))
        layer.set_weights(reference.get_weights())
        assert {w.dtype for w in layer.weights} == {"float32"}
        y = layer(ops.cast(x, "bfloat16"), training=False)
        assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
        self.assertAllClose(
            ops.cast(y, "float32"), reference(x, training=False), atol=0.02
        )
        layer(ops.cast(x, "bfloat16"), training=True)  # the EMA update runs
        assert np.isfinite(ops.convert_to_numpy(layer.codebook)).all()


@requires_tf
class TestVectorQuantizerDistributed(TestCase):
    def test_replicas_keep_identical_codebooks(self):
        import tensorflow as tf

        devices = tf.config.list_logical_devices("CPU")[:2]
        strategy = tf.distribute.MirroredStrategy([d.name for d in devices])
        x = _x((8, 4, 8))
        y = _x((8, 4, 8), seed=1)
        with strategy.scope():
            layer = VectorQuantizer(
                codebook_size=16,
                codebook_dim=4,
                kmeans_init=True,
                kmeans_iters=2,
                dead_code_threshold=0.5,
                seed=1,
            )
            inputs = keras.Input((4, 8))
            model = keras.Model(inputs, layer(inputs))
            model.compile(optimizer="adam", loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        assert float(_np(layer.initialized)) == 1.0
        assert np.any(_np(layer.codebook) != 0.0)
        for weight in (layer.codebook, layer.codebook_average, layer.cluster_size):
            replicas = weight.value.values
            assert len(replicas) == 2
            np.testing.assert_array_equal(_np(replicas[0]), _np(replicas[1]))


class TestVectorQuantizerErrors(TestCase):
    @pytest.mark.parametrize(
        "kwargs, message",
        [
            ({"codebook_size": 0}, "codebook_size=0"),
            ({"codebook_dim": -1}, "codebook_dim=-1"),
            ({"codebook_update": "adam"}, "codebook_update='adam'"),
            ({"decay": 1.0}, "decay=1.0"),
            ({"epsilon": 0}, "epsilon=0"),
            ({"commitment_weight": -1}, "commitment_weight=-1"),
            ({"dead_code_threshold": -2}, "dead_code_threshold=-2"),
            ({"sample_temperature": -1.0}, "sample_temperature=-1.0"),
        ],
    )
    def test_bad_arguments(self, kwargs, message):
        with pytest.raises(ValueError, match=message.replace("(", r"\(")):
            VectorQuantizer(**kwargs)

    def test_input_dim_change(self):
        layer = VectorQuantizer(codebook_size=4)
        layer(_x((2, 8)))
        with pytest.raises(ValueError, match="dimension D=8"):
            layer(_x((2, 6)))

    def test_decode_before_build(self):
        with pytest.raises(ValueError, match="needs a built layer"):
            VectorQuantizer().decode(np.zeros((2,), "int32"))

    def test_registry(self):
        layer = get_quantizer({"name": "vq", "codebook_size": 32, "decay": 0.9})
        assert isinstance(layer, VectorQuantizer)
        assert layer.decay == 0.9
