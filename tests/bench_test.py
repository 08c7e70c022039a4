"""The benchmark scripts' helpers, and `keras_svq.runtime`.

Timings are never checked here (they belong in `bench/RESULTS.md`); these
tests check that the scripts compute what they print. The end-to-end smoke
run of `bench/scaling.py --quick` trains a dozen tiny models in their own
processes, so it is marked slow.
"""

import json
import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from keras_svq.testing.processes import run_python

BENCH = pathlib.Path(__file__).resolve().parents[1] / "bench"
sys.path.insert(0, str(BENCH))

import compare_official  # noqa: E402
import reduced_precision  # noqa: E402
import scaling  # noqa: E402


def test_fit_exponent_recovers_power_laws():
    xs = [1, 4, 16, 64]
    assert scaling.fit_exponent(xs, [3 * x for x in xs]) == pytest.approx(1.0)
    assert scaling.fit_exponent(xs, [5.0] * 4) == pytest.approx(0.0)
    assert scaling.fit_exponent(xs, [0.1 * x**2 for x in xs]) == pytest.approx(2.0)
    assert math.isnan(scaling.fit_exponent([4], [1.0]))


def test_scaling_points_cover_the_axes():
    class Args:
        batch, grid_batch, k_batch = 16, 1, 1

    grid = scaling.points_for("grid", scaling.FULL, scaling.T2M, Args)
    assert [p["grid"] for p in grid] == [(32, 64), (64, 128), (128, 256)]
    assert [p["x"] for p in grid] == [2048, 8192, 32768]
    codebook = scaling.points_for("codebook", scaling.FULL, scaling.T2M, Args)
    assert {p["form"] for p in codebook} == {"folded", "explicit"}
    assert [p["x"] for p in codebook if p["form"] == "explicit"] == [
        1000,
        10000,
        100000,
    ]
    # The (N, K) code weights of the explicit form: 1 x 12 frames x 16 x 32 latents x K.
    biggest = codebook[-1]
    assert scaling.explicit_gib(biggest) == pytest.approx(
        12 * 16 * 32 * 100000 * 4 / 2**30
    )
    assert scaling.explicit_gib(codebook[0]) == 0.0  # folded
    with pytest.raises(ValueError, match="Received: axis='depth'"):
        scaling.points_for("depth", scaling.FULL, scaling.T2M, Args)


def test_scaling_skips_points_over_the_memory_bound(capsys):
    class Args:
        max_gib = 0.001

    point = dict(
        axis="codebook (explicit)",
        x=1000,
        model=scaling.T2M,
        grid=(32, 64),
        batch=1,
        codebook=1000,
        form="explicit",
    )
    record = scaling.run_point(point, Args)
    assert "skipped" in record and "--max-gib" in record["skipped"]
    exponents = scaling.print_tables([record])
    assert math.isnan(exponents["codebook (explicit)"]["step_s"])
    assert "skipped" in capsys.readouterr().out


def test_stub_modules_fail_only_when_used():
    compare_official._stub_missing(["surely_not_installed_pkg.sub"])
    module = sys.modules["surely_not_installed_pkg.sub"]
    cls = module.Anything  # importable, so `from x import y` works
    with pytest.raises(ImportError, match="stub"):
        cls()
    with pytest.raises(AttributeError):
        module.__file__  # noqa: B018
    del (
        sys.modules["surely_not_installed_pkg.sub"],
        sys.modules["surely_not_installed_pkg"],
    )


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="needs Linux /proc")
def test_cpu_jiffies_increase():
    busy, total = compare_official._cpu_jiffies()
    sum(i * i for i in range(200000))
    busy2, total2 = compare_official._cpu_jiffies()
    assert 0 <= busy <= total and busy2 >= busy and total2 >= total


def _malloc_settings(env):
    """`runtime.configure_malloc()` in a fresh interpreter (mallopt is process-wide)."""
    runtime = pathlib.Path(__file__).resolve().parents[1] / "keras_svq" / "runtime.py"
    code = (
        "import importlib.util, json\n"
        f"spec = importlib.util.spec_from_file_location('runtime', {str(runtime)!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print(json.dumps([module.configure_malloc(), module.ARENA_MAX, module.MMAP_THRESHOLD]))"
    )
    return json.loads(run_python(code, env=env, timeout=60))


def test_runtime_malloc_settings_respect_the_environment():
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    applied, arena_max, threshold = _malloc_settings(env)
    if sys.platform.startswith("linux"):
        assert applied == {"arena_max": arena_max, "mmap_threshold": threshold}
    user_set = dict(env, MALLOC_ARENA_MAX="4", MALLOC_MMAP_THRESHOLD_="65536")
    assert _malloc_settings(user_set)[0] == {}


@pytest.mark.parametrize("user_value", [None, "0"])
def test_import_turns_onednn_on_unless_the_user_chose(user_value):
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if user_value is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = user_value
    code = (
        "import os, sys, keras_svq\n"
        "assert 'tensorflow' in sys.modules\n"
        "print(os.environ.get('TF_ENABLE_ONEDNN_OPTS'))\n"
    )
    assert run_python(code, env=env, timeout=300).split()[-1] == (user_value or "1")


def test_low_memory_setting_respects_the_environment(monkeypatch):
    from keras_svq import runtime

    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)  # not imported yet
    monkeypatch.delenv("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", raising=False)
    assert runtime.configure_low_memory() == "true"
    monkeypatch.setenv("TF_ONEDNN_USE_SYSTEM_ALLOCATOR", "false")
    assert runtime.configure_low_memory() == "false"


def test_roofline_counts_flops_and_bounds_the_speed_up(monkeypatch, capsys):
    import roofline

    monkeypatch.setattr(roofline, "MLP_SHAPE", (64, 16, 32))
    result = roofline.main(
        [
            "--preset",
            "era5_uk/simvp_gsta",
            "--batch-size",
            "1",
            "--repeats",
            "1",
            "--official-seconds",
            "2.0",
        ]
    )
    # One window of era5_uk/simvp_gsta is hundreds of MFLOP, far from 0 or a TFLOP.
    assert 1e8 < result["flops"] < 1e11
    assert result["rates"]["tensorflow"] > 0
    assert result["floor_s"] == pytest.approx(
        result["flops"] / (max(result["rates"].values()) * 1e9)
    )
    assert "at most" in capsys.readouterr().out


def test_compiled_predictor_matches_the_model():
    import keras

    from keras_svq import runtime

    inputs = keras.Input((3, 4, 4, 1))
    outputs = keras.layers.Dropout(0.5)(keras.layers.Dense(2)(inputs))
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(0).standard_normal((5, 3, 4, 4, 1)).astype("float32")
    predict = runtime.compiled_predictor(model)
    np.testing.assert_allclose(predict(x).numpy(), model(x, training=False), rtol=1e-6)
    # Another batch size reuses the trace (the batch axis is free).
    assert predict(x[:2]).shape == (2, 3, 4, 4, 2)
    assert predict.experimental_get_tracing_count() == 1


def test_reduced_precision_scores_both_forecasts_on_valid_pixels():
    import types

    import keras

    from keras_svq.data.normalizer import Normalizer
    from keras_svq.testing import tiny_simvp

    keras.utils.set_random_seed(0)
    model = tiny_simvp()
    rng = np.random.default_rng(0)
    batches = []
    for n in (3, 2):
        x = rng.standard_normal((n, 4, 16, 16, 1)).astype("float32")
        y = rng.standard_normal((n, 4, 16, 16, 1)).astype("float32")
        y[0, :, :5] = np.nan  # missing targets are left out
        batches.append((x, y))
    norm = Normalizer(280.0, 5.0)
    bundle = types.SimpleNamespace(test=batches, normalizer=norm)
    result = reduced_precision.compare_precisions(model, bundle)
    errors = []
    for x, y in batches:
        forecast = norm.denormalize(np.asarray(model(x, training=False), "float64"))
        error = (forecast - norm.denormalize(y.astype("float64")))[np.isfinite(y)]
        errors.append(error)
    errors = np.concatenate(errors)
    assert result["pixels"] == errors.size == 5 * 4 * 256 - 2 * 4 * 5 * 16
    assert result["float32"]["mse"] == pytest.approx(np.mean(errors**2), rel=1e-5)
    assert result["float32"]["mae"] == pytest.approx(np.mean(np.abs(errors)), rel=1e-5)
    # bfloat16 rounds (kelvin values ~ 280 K: a few hundredths of a kelvin).
    assert 0 < result["rms_difference"] <= result["max_difference"] < 1.0
    assert result["mse_change"] == pytest.approx(
        result["bfloat16"]["mse"] / result["float32"]["mse"] - 1
    )
    assert abs(result["mse_change"]) < 0.05


@pytest.mark.slow
def test_scaling_quick_runs_every_axis(tmp_path):
    out = tmp_path / "scaling.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "scaling.py"), "--quick", "--json", str(out)],
        capture_output=True,
        text=True,
        env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"),
        timeout=1200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    records = result["records"]
    assert not [r for r in records if "skipped" in r], records
    assert {r["axis"] for r in records} == {
        "grid",
        "batch",
        "codebook (folded)",
        "codebook (explicit)",
    }
    assert all(r["step_s"] > 0 and r["peak_rss_gib"] > 0 for r in records)
    # The folded SVQ has the same weights as the explicit one.
    params = {(r["form"], r["codebook"]): r["params"] for r in records if r["codebook"]}
    assert params[("folded", 256)] == params[("explicit", 256)]
    assert "fitted growth exponents" in proc.stdout
    for axis in ("grid", "batch", "codebook (folded)", "codebook (explicit)"):
        assert f"| {axis} |" in proc.stdout


def test_mix_mlp_fused_gelu_matches_the_plain_path(monkeypatch):
    """The memory-lean `gelu_dense` path of MixMLP (issue 18) changes no number."""
    import keras
    from keras import ops

    from keras_svq.layers import MixMLP
    from keras_svq.layers.mix_mlp import gelu_exact

    keras.utils.set_random_seed(0)
    layer = MixMLP(32)
    x = np.random.default_rng(0).standard_normal((2, 5, 6, 8)).astype("float32")
    layer(x)

    def values_and_grads():
        import tensorflow as tf

        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            loss = tf.reduce_sum(tf.sin(layer(xt, training=True)))
        return [loss, *tape.gradient(loss, [xt, *layer.trainable_weights])]

    assert layer._fuses_gelu(training=True)
    fused = values_and_grads()
    monkeypatch.setattr(MixMLP, "_fuses_gelu", lambda self, training: False)
    plain = values_and_grads()
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        gelu_exact(x), ops.gelu(x, approximate=False), rtol=1e-6, atol=1e-6
    )
    monkeypatch.undo()
    with_dropout = MixMLP(32, dropout_rate=0.1)
    with_dropout(x)
    assert not with_dropout._fuses_gelu(training=True)
    assert with_dropout._fuses_gelu(training=False)
