"""The standard battery every layer, quantizer and backbone must pass.

Modelled on KerasHub's `TestCase`: one place that knows what "works as a Keras
layer" means, so each new model only states its constructor arguments and
shapes. Each check can be switched off by name when a model cannot support it,
and the reason is then visible in the test that does so.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import textwrap

import keras
import numpy as np

# Runs in a fresh interpreter: loads a SavedModel with TensorFlow alone, as TF
# Serving and a bare TF user do. The script never imports keras itself, and
# importing this package is made impossible, so the SavedModel is proven to
# need none of our Python code. (`import tensorflow` loads parts of keras on
# its own since TF 2.16; that is reported, not forbidden.)
_SAVED_MODEL_SCRIPT = textwrap.dedent(
    """
    import json, sys
    sys.modules["keras_svq"] = None
    sys.modules["zoo"] = None
    import numpy as np
    import tensorflow as tf
    path, in_path, out_path, endpoint = sys.argv[1:5]
    reloaded = tf.saved_model.load(path)
    x = np.load(in_path)
    y = getattr(reloaded, endpoint)(tf.constant(x))
    np.save(out_path, np.asarray(y))
    print(json.dumps({"keras_svq_imported": sys.modules.get("keras_svq") is not None}))
    """
)


def _to_numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


def _random_input(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


class TestCase:
    """Mix-in for pytest test classes.

    Example:

    ```python
    class SparseVectorQuantizerTest(TestCase):
        def test_battery(self):
            self.run_layer_test(SparseVectorQuantizer, {"codebook_size": 16},
                                input_shape=(2, 5, 8))
    ```
    """

    atol = 1e-5
    rtol = 1e-5

    # ------------------------------------------------------------------ helpers
    def assertAllClose(self, actual, desired, atol=None, rtol=None, msg=""):
        np.testing.assert_allclose(
            _to_numpy(actual),
            _to_numpy(desired),
            atol=self.atol if atol is None else atol,
            rtol=self.rtol if rtol is None else rtol,
            err_msg=msg,
        )

    def tmp_dir(self):
        path = tempfile.mkdtemp(prefix="keras_svq_test_")
        return pathlib.Path(path)

    @staticmethod
    def _wrap(layer_or_model, input_shape):
        """A functional model around a layer, batch dimension left free."""
        inputs = keras.Input(shape=input_shape[1:], batch_size=None)
        return keras.Model(inputs, layer_or_model(inputs))

    # ------------------------------------------------------------- the battery
    def run_layer_test(
        self,
        cls,
        init_kwargs,
        input_shape,
        *,
        expected_output_shape=None,
        run_fit=True,
        run_saving=True,
        run_saved_model=True,
        run_mixed_precision=True,
        run_distribution=True,
        run_jit=True,
        fit_target_shape=None,
    ):
        """Runs the standard checks on `cls(**init_kwargs)`.

        Args:
            cls: the layer or backbone class.
            init_kwargs: dict. Constructor arguments.
            input_shape: tuple. A full input shape, batch first.
            expected_output_shape: tuple. Defaults to `input_shape`.
            run_*: bool. Turn one check off when the class cannot support it.
            fit_target_shape: tuple. Target shape for the fit step; defaults
                to the output shape.
        """
        expected_output_shape = tuple(expected_output_shape or input_shape)
        self.check_config_round_trip(cls, init_kwargs, input_shape)
        self.check_call(cls, init_kwargs, input_shape, expected_output_shape)
        if run_fit:
            self.check_fit_step(
                cls, init_kwargs, input_shape, fit_target_shape or expected_output_shape
            )
        if run_saving:
            self.check_keras_saving(cls, init_kwargs, input_shape)
        is_tf = keras.backend.backend() == "tensorflow"
        if run_saved_model and is_tf:
            self.check_saved_model(cls, init_kwargs, input_shape)
        if run_mixed_precision:
            self.check_mixed_precision(cls, init_kwargs, input_shape)
        if run_distribution and is_tf:
            self.check_distributed_fit(
                cls, init_kwargs, input_shape, fit_target_shape or expected_output_shape
            )
        if run_jit:
            self.check_jit_compile(cls, init_kwargs, input_shape)

    run_backbone_test = run_layer_test

    def check_config_round_trip(self, cls, init_kwargs, input_shape):
        obj = cls(**init_kwargs)
        config = obj.get_config()
        json.dumps(config)  # a config must be plain JSON
        revived = cls.from_config(config)
        assert revived.get_config() == config, (
            "get_config() -> from_config() -> get_config() is not stable"
        )

    def check_call(self, cls, init_kwargs, input_shape, expected_output_shape):
        layer = cls(**init_kwargs)
        # Symbolic call: shapes inferred without data, batch left free.
        symbolic = layer(keras.Input(shape=input_shape[1:]))
        assert tuple(symbolic.shape[1:]) == tuple(expected_output_shape[1:]), (
            f"symbolic output shape {symbolic.shape} != {expected_output_shape}"
        )
        if hasattr(layer, "compute_output_shape") and not isinstance(
            layer, keras.Model
        ):
            assert tuple(layer.compute_output_shape(input_shape)) == tuple(
                expected_output_shape
            )
        # Eager call at two batch sizes, deterministic in inference mode.
        for batch in (input_shape[0], input_shape[0] + 1):
            x = _random_input((batch,) + tuple(input_shape[1:]), seed=batch)
            y1 = layer(x, training=False)
            y2 = layer(x, training=False)
            assert tuple(y1.shape) == (batch,) + tuple(expected_output_shape[1:])
            assert np.all(np.isfinite(_to_numpy(y1)))
            self.assertAllClose(y1, y2, msg="inference is not deterministic")

    def check_fit_step(self, cls, init_kwargs, input_shape, target_shape):
        model = self._wrap(cls(**init_kwargs), input_shape)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        x = _random_input(input_shape, seed=1)
        y = _random_input(target_shape, seed=2)
        before = [_to_numpy(w) for w in model.trainable_weights]
        history = model.fit(x, y, batch_size=input_shape[0], epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        after = [_to_numpy(w) for w in model.trainable_weights]
        changed = sum(not np.array_equal(a, b) for a, b in zip(before, after))
        assert changed > 0, "one fit step changed no trainable weight"

    def check_keras_saving(self, cls, init_kwargs, input_shape):
        model = self._wrap(cls(**init_kwargs), input_shape)
        x = _random_input(input_shape, seed=3)
        expected = model(x, training=False)
        path = self.tmp_dir() / "model.keras"
        model.save(path)
        revived = keras.saving.load_model(path)
        self.assertAllClose(revived(x, training=False), expected)

    def check_saved_model(self, cls, init_kwargs, input_shape):
        model = self._wrap(cls(**init_kwargs), input_shape)
        x = _random_input(input_shape, seed=4)
        expected = _to_numpy(model(x, training=False))
        tmp = self.tmp_dir()
        model.export(str(tmp / "saved_model"), format="tf_saved_model", verbose=False)
        np.save(tmp / "x.npy", x)
        result = run_saved_model_in_fresh_process(
            tmp / "saved_model", x, tmp / "y.npy", endpoint="serve"
        )
        assert not result["keras_svq_imported"], "the SavedModel needed keras_svq"
        self.assertAllClose(np.load(tmp / "y.npy"), expected, atol=1e-4, rtol=1e-4)

    def check_mixed_precision(self, cls, init_kwargs, input_shape):
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy("mixed_float16")
        try:
            layer = cls(**init_kwargs)
            y = layer(_random_input(input_shape, seed=5), training=False)
            assert keras.backend.standardize_dtype(y.dtype) == "float16"
            assert np.all(np.isfinite(_to_numpy(y).astype("float32")))
            for weight in layer.weights:
                assert weight.dtype == "float32", (
                    f"{weight.path} should stay float32 under mixed precision"
                )
        finally:
            keras.config.set_dtype_policy(previous)

    def check_distributed_fit(self, cls, init_kwargs, input_shape, target_shape):
        strategy = two_cpu_mirrored_strategy()
        global_batch = 2 * input_shape[0]
        x = _random_input((global_batch,) + tuple(input_shape[1:]), seed=6)
        y = _random_input((global_batch,) + tuple(target_shape[1:]), seed=7)
        with strategy.scope():
            model = self._wrap(cls(**init_kwargs), input_shape)
            model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
        history = model.fit(x, y, batch_size=global_batch, epochs=1, verbose=0)
        assert np.isfinite(history.history["loss"][0])
        for weight in model.weights:
            values = getattr(weight.value, "values", None)
            if values:
                for replica_value in values[1:]:
                    self.assertAllClose(
                        replica_value,
                        values[0],
                        atol=0,
                        rtol=0,
                        msg=f"replicas diverged on {weight.path}",
                    )

    def check_jit_compile(self, cls, init_kwargs, input_shape):
        model = self._wrap(cls(**init_kwargs), input_shape)
        x = _random_input(input_shape, seed=8)
        eager = model(x, training=False)
        model.compile(loss="mse", jit_compile=True)
        compiled = model.predict(x, batch_size=input_shape[0], verbose=0)
        self.assertAllClose(compiled, eager, atol=1e-4, rtol=1e-4)


def two_cpu_mirrored_strategy():
    """A `MirroredStrategy` over the two logical CPUs that conftest.py creates."""
    import tensorflow as tf

    devices = tf.config.list_logical_devices("CPU")
    assert len(devices) >= 2, "conftest.py must create two logical CPUs"
    return tf.distribute.MirroredStrategy([d.name for d in devices[:2]])


def run_saved_model_in_fresh_process(path, x, out_path, endpoint="serve"):
    """Calls a SavedModel endpoint in a new interpreter that never imports keras.

    Returns the JSON report the child printed; raises with its stderr on failure.
    """
    out_path = pathlib.Path(out_path)
    in_path = out_path.with_name(out_path.stem + "_input.npy")
    np.save(in_path, np.asarray(x))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _SAVED_MODEL_SCRIPT,
            str(path),
            str(in_path),
            str(out_path),
            endpoint,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if proc.returncode != 0:
        raise AssertionError(f"SavedModel reload failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
