import json
import math

import keras
import numpy as np
import pytest
from keras import ops

from keras_svq.quantizers import SparseVectorQuantizer
from keras_svq.quantizers import codebook_usage
from keras_svq.quantizers import get_quantizer
from keras_svq.quantizers import load_svq_state_dict
from keras_svq.testing import TestCase
from keras_svq.testing import reference_path
from keras_svq.training import CodebookUsageCallback

SMALL = {"codebook_size": 32, "hidden_dim": 16}


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _load_fixture(name):
    data = np.load(reference_path(name))
    meta = json.loads(str(data["meta:json"]))
    state = {k: data[k] for k in meta["state_keys"]}
    return data, meta, state


class TestSparseVectorQuantizerBattery(TestCase):
    def test_standard_battery(self):
        self.run_layer_test(SparseVectorQuantizer, SMALL, input_shape=(2, 4, 6, 8))

    def test_battery_explicit_path_frozen(self):
        kwargs = dict(SMALL, output_activation="relu", freeze_codebook=True)
        self.run_layer_test(
            SparseVectorQuantizer,
            kwargs,
            input_shape=(2, 5, 8),
            run_saved_model=False,
            run_distribution=False,
        )

    def test_battery_linear(self):
        kwargs = dict(SMALL, linear=True, codebook_initializer="kaiming")
        self.run_layer_test(
            SparseVectorQuantizer,
            kwargs,
            input_shape=(3, 8),
            run_saved_model=False,
            run_distribution=False,
            run_mixed_precision=False,
        )


class TestReferenceFidelity(TestCase):
    @pytest.mark.parametrize(
        "fixture, linear", [("svq_module.npz", False), ("svq_module_linear.npz", True)]
    )
    def test_reproduces_official_module(self, fixture, linear):
        data, meta, state = _load_fixture(fixture)
        kwargs = meta["constructor_kwargs"]
        layer = SparseVectorQuantizer(
            codebook_size=kwargs["codebook_size"],
            hidden_dim=kwargs["middim"],
            linear=not kwargs["nonlinear"],
        )
        assert layer.linear is linear
        consumed = load_svq_state_dict(layer, state)
        assert consumed == set(state)
        # torch (B, C, H, W) -> channels-last (B, H, W, C)
        x = data["x"].transpose(0, 2, 3, 1)
        y = layer(x)
        self.assertAllClose(y, data["y"].transpose(0, 2, 3, 1), atol=1e-5, rtol=1e-5)
        b, h, w, _ = x.shape
        code_weights = ops.reshape(layer.encode(x), (b, h * w, -1))
        self.assertAllClose(code_weights, data["out:code_weight"], atol=1e-5, rtol=1e-5)
        if not linear:
            hidden = ops.reshape(
                layer._hidden(ops.convert_to_tensor(x)), (b, h * w, -1)
            )
            self.assertAllClose(
                hidden, data["act:proj_regression_weight.activation_mid"], atol=1e-5
            )

    def test_missing_state_entry_is_named(self):
        _, _, state = _load_fixture("svq_module.npz")
        state.pop("proj_regression_weight.linear_proj2.bias")
        layer = SparseVectorQuantizer(codebook_size=64, hidden_dim=16)
        with pytest.raises(KeyError, match="linear_proj2.bias"):
            load_svq_state_dict(layer, state)


class TestFastPath(TestCase):
    @pytest.mark.parametrize("freeze", [False, True])
    def test_fast_and_explicit_paths_agree_with_gradients(self, freeze):
        if keras.backend.backend() != "tensorflow":
            pytest.skip("gradient tape comparison written for the TensorFlow backend")
        import tensorflow as tf

        layer = SparseVectorQuantizer(
            codebook_size=300, hidden_dim=32, freeze_codebook=freeze
        )
        x = tf.constant(_x((4, 7, 16)))
        target = tf.constant(_x((4, 7, 16), seed=1))
        layer(x)
        assert layer.uses_fast_path

        def loss_of(fn):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_mean((fn(x) - target) ** 2)
            variables = [v.value for v in layer.trainable_weights]
            return loss, tape.gradient(loss, variables + [x])

        fast_loss, fast_grads = loss_of(layer)
        slow_loss, slow_grads = loss_of(lambda v: layer.decode(layer.encode(v)))
        self.assertAllClose(fast_loss, slow_loss, atol=1e-5, rtol=1e-5)
        for variable, g_fast, g_slow in zip(
            layer.trainable_weights + [None], fast_grads, slow_grads
        ):
            name = variable.path if variable is not None else "input"
            scale = float(tf.reduce_max(tf.abs(g_slow))) + 1e-12
            np.testing.assert_allclose(
                g_fast.numpy() / scale,
                g_slow.numpy() / scale,
                atol=2e-5,
                err_msg=f"gradient mismatch for {name}",
            )
        if freeze:
            assert all(v is not layer.codebook for v in layer.trainable_weights)

    def test_decode_encode_round_trip(self):
        layer = SparseVectorQuantizer(**SMALL)
        x = _x((3, 5, 8))
        codes = layer.encode(x)
        assert tuple(codes.shape) == (3, 5, 32)
        self.assertAllClose(layer.decode(codes), layer(x, training=False), atol=1e-5)

    def test_output_activation_uses_explicit_path(self):
        layer = SparseVectorQuantizer(**SMALL, output_activation="relu")
        x = _x((6, 8))
        codes = layer.encode(x)
        assert not layer.uses_fast_path
        assert float(ops.min(codes)) >= 0.0
        self.assertAllClose(layer(x), layer.decode(codes), atol=1e-5)

    def test_numpy_reference_formula(self):
        layer = SparseVectorQuantizer(codebook_size=40, hidden_dim=12)
        x = _x((10, 6))
        y = layer(x)
        w1, b1, w2, b2, c = (
            v.numpy() if hasattr(v, "numpy") else ops.convert_to_numpy(v)
            for v in layer.weights
        )
        expected = (np.maximum(x @ w1 + b1, 0) @ w2 + b2) @ c
        self.assertAllClose(y, expected, atol=1e-4, rtol=1e-4)


class TestConstruction(TestCase):
    def test_weights_and_freezing(self):
        layer = SparseVectorQuantizer(
            codebook_size=64, hidden_dim=16, freeze_codebook=True
        )
        layer.build((None, 8))
        shapes = {v.name: tuple(v.shape) for v in layer.weights}
        assert shapes == {
            "hidden_kernel": (8, 16),
            "hidden_bias": (16,),
            "output_kernel": (16, 64),
            "output_bias": (64,),
            "codebook": (64, 8),
        }
        assert [v.name for v in layer.non_trainable_weights] == ["codebook"]
        # Counted as PyTorch counts them (frozen codebook included).
        assert layer.count_params() == 8 * 16 + 16 + 16 * 64 + 64 + 64 * 8

    @pytest.mark.parametrize("freeze_codebook", [False, True])
    def test_freeze_projection(self, freeze_codebook):
        layer = SparseVectorQuantizer(
            codebook_size=64,
            hidden_dim=16,
            freeze_projection=True,
            freeze_codebook=freeze_codebook,
        )
        layer.build((None, 8))
        expected_trainable = [] if freeze_codebook else ["codebook"]
        assert [v.name for v in layer.trainable_weights] == expected_trainable
        assert layer.get_config()["freeze_projection"] is True
        assert SparseVectorQuantizer.from_config(layer.get_config()).freeze_projection

    def test_freeze_projection_trains_only_the_codebook(self):
        inputs = keras.Input((8,))
        layer = SparseVectorQuantizer(
            codebook_size=64, hidden_dim=16, freeze_projection=True
        )
        model = keras.Model(inputs, layer(inputs))
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        before = {v.name: np.array(v) for v in layer.weights}
        model.fit(_x((16, 8)), _x((16, 8), seed=1), epochs=1, verbose=0)
        for variable in layer.weights:
            changed = not np.array_equal(np.array(variable), before[variable.name])
            assert changed == (variable.name == "codebook"), variable.name

    def test_paper_size_parameter_count(self):
        # SVQ on the WeatherBench-S t2m latent (D=32, K=10000, hidden 128)
        # adds 1,614,224 parameters in the official code.
        layer = SparseVectorQuantizer()
        layer.build((None, 32))
        assert layer.count_params() == 1_614_224

    def test_hidden_width_reduced_to_codebook_size(self):
        layer = SparseVectorQuantizer(codebook_size=10, hidden_dim=128)
        layer.build((None, 4))
        assert layer.effective_hidden_dim == 10
        assert tuple(layer.hidden_kernel.shape) == (4, 10)

    def test_linear_weights(self):
        layer = SparseVectorQuantizer(codebook_size=20, linear=True)
        layer.build((None, 4))
        assert [v.name for v in layer.weights] == [
            "output_kernel",
            "output_bias",
            "codebook",
        ]
        assert tuple(layer.output_kernel.shape) == (4, 20)

    def test_functional_and_subclassed_models(self):
        inputs = keras.Input((4, 4, 8))
        functional = keras.Model(inputs, SparseVectorQuantizer(**SMALL)(inputs))
        assert tuple(functional.output.shape) == (None, 4, 4, 8)

        class Forecaster(keras.Model):
            def __init__(self):
                super().__init__()
                self.encoder = keras.layers.Dense(8)
                self.quantizer = SparseVectorQuantizer(**SMALL)
                self.decoder = keras.layers.Dense(3)

            def call(self, x):
                return self.decoder(self.quantizer(self.encoder(x)))

        model = Forecaster()
        model.compile(optimizer="adam", loss="mse")
        history = model.fit(_x((8, 5, 3)), _x((8, 5, 3), 1), epochs=2, verbose=0)
        assert history.history["loss"][1] < history.history["loss"][0]

    def test_get_quantizer(self):
        assert get_quantizer(None) is None
        assert isinstance(get_quantizer("svq", codebook_size=5), SparseVectorQuantizer)
        layer = get_quantizer({"name": "svq", "codebook_size": 7, "hidden_dim": 3})
        assert (layer.codebook_size, layer.hidden_dim) == (7, 3)
        revived = get_quantizer(keras.saving.serialize_keras_object(layer))
        assert revived.get_config() == layer.get_config()
        with pytest.raises(
            ValueError, match=r"Valid names: \[.*'svq'.*Received: quantizer='vqq'"
        ):
            get_quantizer("vqq")


class TestInitializers(TestCase):
    K, D = 4000, 16

    def _codebook(self, name):
        layer = SparseVectorQuantizer(
            codebook_size=self.K, hidden_dim=8, codebook_initializer=name
        )
        layer.build((None, self.D))
        return ops.convert_to_numpy(layer.codebook)

    def test_normal(self):
        c = self._codebook("normal")
        assert abs(c.std() - 1.0) < 0.02 and abs(c.mean()) < 0.02

    def test_kaiming_uniform(self):
        # torch kaiming_uniform_ on (K, D): fan_in = D, gain sqrt(2).
        bound = math.sqrt(2.0) * math.sqrt(3.0 / self.D)
        c = self._codebook("kaiming")
        assert np.abs(c).max() <= bound and np.abs(c).max() > 0.98 * bound
        assert abs(c.std() - bound / math.sqrt(3)) < 0.01 * bound

    def test_xavier_uniform_relu_gain(self):
        bound = math.sqrt(2.0) * math.sqrt(6.0 / (self.K + self.D))
        c = self._codebook("xavier")
        assert np.abs(c).max() <= bound and np.abs(c).max() > 0.98 * bound

    def test_truncated_normal_torch_bounds(self):
        c = self._codebook("trunc")
        assert np.abs(c).max() <= 2.0 and np.abs(c).max() > 1.95
        # std of N(0,1) truncated at +-2
        assert abs(c.std() - 0.8796) < 0.02

    def test_orthogonal(self):
        c = self._codebook("orthogonal").astype("float64")
        np.testing.assert_allclose(c.T @ c, np.eye(self.D), atol=1e-4)

    def test_sparse(self):
        c = self._codebook("sparse")
        zeros_per_column = (c == 0).sum(axis=0)
        np.testing.assert_array_equal(zeros_per_column, math.ceil(0.9 * self.K))
        assert abs(c[c != 0].std() - 0.01) < 0.001

    def test_dense_layers_as_torch_linear(self):
        layer = SparseVectorQuantizer(codebook_size=self.K, hidden_dim=64)
        layer.build((None, self.D))
        for variable, fan_in in [
            (layer.hidden_kernel, self.D),
            (layer.hidden_bias, self.D),
            (layer.output_kernel, 64),
            (layer.output_bias, 64),
        ]:
            value = ops.convert_to_numpy(variable)
            bound = 1.0 / math.sqrt(fan_in)
            assert np.abs(value).max() <= bound
            assert np.abs(value).max() > 0.9 * bound, variable.path

    def test_keras_initializer_accepted(self):
        layer = SparseVectorQuantizer(codebook_size=8, codebook_initializer="zeros")
        layer.build((None, 3))
        assert not np.any(ops.convert_to_numpy(layer.codebook))
        revived = SparseVectorQuantizer.from_config(layer.get_config())
        assert revived.get_config() == layer.get_config()


class TestErrors:
    def test_rank_below_two(self):
        with pytest.raises(
            ValueError, match=r"rank >= 2.*Received: input_shape=\(8,\)"
        ):
            SparseVectorQuantizer(**SMALL)(np.zeros((8,), "float32"))

    @pytest.mark.parametrize("argument", ["codebook_size", "hidden_dim"])
    @pytest.mark.parametrize("value", [0, -3, 2.5])
    def test_sizes(self, argument, value):
        with pytest.raises(
            ValueError,
            match=f"`{argument}` must be a positive integer.*{argument}={value}",
        ):
            SparseVectorQuantizer(**{argument: value})

    def test_unknown_initializer(self):
        with pytest.raises(
            ValueError,
            match=r"codebook_initializer='gaussian'.*|Unknown codebook initializer",
        ):
            SparseVectorQuantizer(codebook_initializer="gaussian")

    @pytest.mark.parametrize("argument", ["hidden_activation", "output_activation"])
    def test_unknown_activation(self, argument):
        with pytest.raises(ValueError, match=f"{argument}='relux'"):
            SparseVectorQuantizer(**{argument: "relux"})

    def test_last_dimension_changes_after_build(self):
        layer = SparseVectorQuantizer(**SMALL)
        layer(np.zeros((2, 8), "float32"))
        with pytest.raises(ValueError, match=r"D=8.*Received: input_shape=\(2, 6\)"):
            layer(np.zeros((2, 6), "float32"))


class TestMixedPrecision(TestCase):
    def test_math_in_float32(self):
        x = _x((4, 8))
        reference = SparseVectorQuantizer(**SMALL)
        y32 = reference(x)
        keras.config.set_dtype_policy("mixed_float16")
        layer = SparseVectorQuantizer(**SMALL)
        layer.build((None, 8))
        layer.set_weights(reference.get_weights())
        y16 = layer(x)
        assert keras.backend.standardize_dtype(y16.dtype) == "float16"
        assert keras.backend.standardize_dtype(layer.encode(x).dtype) == "float32"
        # Only the final cast to float16 may differ.
        self.assertAllClose(ops.cast(y16, "float32"), y32, atol=2e-3, rtol=1e-3)

    def test_pure_bfloat16_policy_keeps_float32_weights_and_math(self):
        # A serving copy (keras_svq.export.precision) uses the pure policy:
        # the weights must not be rounded to bfloat16, nor the math done in it.
        x = _x((4, 8))
        reference = SparseVectorQuantizer(**SMALL)
        y32 = reference(x)
        layer = SparseVectorQuantizer(**SMALL, dtype="bfloat16")
        layer.build((None, 8))
        layer.set_weights(reference.get_weights())
        assert {w.dtype for w in layer.weights} == {"float32"}
        y = layer(ops.cast(x, "bfloat16"))
        assert keras.backend.standardize_dtype(y.dtype) == "bfloat16"
        # Rounding the input and the output to bfloat16 (8 significant bits).
        scale = float(np.abs(y32).max())
        self.assertAllClose(ops.cast(y, "float32"), y32, atol=0.02 * scale)


class TestCodebookUsage(TestCase):
    def test_against_reference_formula(self):
        w = _x((3, 50, 20))
        flat = w.reshape(-1, 20).astype("float64")
        z = np.abs((flat - flat.mean()) / flat.std(ddof=1))
        expected = {}
        for t in (2, 3):
            counts = (z > t).sum(0)
            p = counts / counts.sum()
            expected[t] = np.exp(-np.sum(p * np.log(p + 1e-10)))
        result = codebook_usage(w)
        assert result["perplexity_2"] == pytest.approx(expected[2], rel=1e-9)
        assert result["perplexity_3"] == pytest.approx(expected[3], rel=1e-9)
        assert result["codebook_size"] == 20

    def test_one_hot_codes_have_perplexity_one_and_are_sparse(self):
        w = np.zeros((100, 50))
        w[:, 7] = 5.0
        result = codebook_usage(w)
        assert result["perplexity_2"] == pytest.approx(1.0)
        assert result["near_zero_fraction"] == pytest.approx(49 / 50)

    def test_callback_logs_into_history(self):
        inputs = keras.Input((6, 8))
        model = keras.Model(
            inputs, SparseVectorQuantizer(**SMALL)(keras.layers.Dense(8)(inputs))
        )
        model.compile(optimizer="adam", loss="mse")
        x, y = _x((16, 6, 8)), _x((16, 6, 8), 1)
        callback = CodebookUsageCallback(x[:4])
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
        for key in ("svq_perplexity_2", "svq_perplexity_3", "svq_near_zero_fraction"):
            assert len(history.history[key]) == 2
            assert 0 <= history.history[key][-1] <= SMALL["codebook_size"]
        # The capture hook is switched off again after the epoch.
        assert model.layers[-1]._captured_inputs is None
