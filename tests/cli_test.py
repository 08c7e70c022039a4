"""End-to-end `keras-svq` tests on tiny configs: train -> evaluate -> predict -> export -> reload.

Runs the CLI in-process (`keras_svq.cli.main(argv)`), which is what the
console script calls, so each step costs seconds, not a TensorFlow start-up.
"""

import hashlib
import json
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import yaml
from cli_fixtures import tiny_config
from cli_fixtures import write_config
from cli_fixtures import write_series

from keras_svq.cli import main
from keras_svq.testing.test_case import run_saved_model_in_fresh_process


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    write_series(root / "series.npy")
    return root


@pytest.fixture(scope="module")
def trained(workdir):
    """Two finished runs (SimVP, SimVP + SVQ), trained once for the module."""
    runs = {}
    for name, svq in (("plain", False), ("svq", True)):
        config = write_config(
            workdir / f"{name}.yaml", tiny_config(workdir / "series.npy", svq=svq)
        )
        run = workdir / f"run_{name}"
        assert (
            main(
                ["train", "--config", str(config), "--output-dir", str(run), "--quiet"]
            )
            == 0
        )
        runs[name] = run
    return runs


def _raw_windows(workdir, n=3):
    series = np.load(workdir / "series.npy")
    return np.stack([series[i : i + 4] for i in range(n)])[..., None].astype("float32")


def _keras_forecast(run, x):
    """The Keras model's forecast in physical units, for comparison."""
    from keras_svq.training import trainer

    layout, config, info = trainer.load_run(run)
    model = trainer.load_trained_model(config, trainer.default_weights(layout))
    norm = trainer.normalizer_from_info(info)
    return (
        model,
        norm,
        norm.denormalize(np.asarray(model.predict(norm.normalize(x), verbose=0))),
    )


@pytest.mark.integration
@pytest.mark.parametrize("name", ["plain", "svq"])
def test_train_writes_a_complete_run_folder(trained, name):
    run = trained[name]
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished"
    assert info["epochs_completed"] == 1
    for path in (
        "config.yaml",
        "checkpoints/best.weights.h5",
        "checkpoints/final.weights.h5",
        "model.keras",
        "logs/history.csv",
        "logs/history.json",
        "logs/train.log",
    ):
        assert (run / path).exists(), path
    assert not (run / "backup").exists()
    history = json.loads((run / "logs/history.json").read_text())
    assert {"loss", "val_loss"} <= set(history[0])
    if name == "svq":  # the codebook diagnostics callback ran
        assert "svq_perplexity_2" in history[0]
    # The resolved config shows every training value, defaults included.
    saved = yaml.safe_load((run / "config.yaml").read_text())
    assert (
        saved["training"]["optimizer"] == "adam" and saved["training"]["patience"] == 10
    )


_LOAD_KERAS_FILE = """
import sys
import keras
import numpy as np
import keras_svq

model = keras.saving.load_model(sys.argv[1])
x = np.load(sys.argv[2])
np.save(sys.argv[3], keras.ops.convert_to_numpy(model(x, training=False)))
print(type(model).__name__, "tensorflow" in sys.modules)
"""


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_run_model_keras_loads_in_a_fresh_process(trained, tmp_path, backend):
    """`RUN/model.keras` loads after `import keras_svq` alone (no `zoo`), on
    TensorFlow and JAX, and holds the best weights."""
    pytest.importorskip(backend)
    from keras_svq.training import trainer

    run = trained["svq"]
    layout, config, _ = trainer.load_run(run)
    model = trainer.load_trained_model(config, layout.best)
    x = np.random.default_rng(0).standard_normal((2, 4, 16, 16, 1)).astype("float32")
    np.save(tmp_path / "x.npy", x)
    env = dict(
        os.environ,
        KERAS_BACKEND=backend,
        TF_CPP_MIN_LOG_LEVEL="3",
        CUDA_VISIBLE_DEVICES="",
        JAX_PLATFORMS="cpu",
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _LOAD_KERAS_FILE,
            str(run / "model.keras"),
            str(tmp_path / "x.npy"),
            str(tmp_path / "y.npy"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    name, tf_loaded = proc.stdout.split()[-2:]
    assert name == "SimVPBackbone"
    assert tf_loaded == str(backend == "tensorflow")
    np.testing.assert_allclose(
        np.load(tmp_path / "y.npy"),
        np.asarray(model(x, training=False)),
        atol=1e-5,
        rtol=1e-5,
    )


@pytest.mark.integration
@pytest.mark.parametrize("name", ["plain", "svq"])
def test_evaluate_predict_export_reload(trained, workdir, name, capsys):
    run = trained[name]
    assert main(["evaluate", "--run", str(run), "--num-plots", "1"]) == 0
    printed = capsys.readouterr().out
    assert "persistence" in printed and "Per lead time" in printed
    metrics = json.loads((run / "evaluation/metrics.json").read_text())
    assert set(metrics["reference"]) >= {"mse", "mae", "rmse", "per_lead_time"}
    assert len(metrics["physical"]["per_lead_time"]["rmse"]) == 4
    assert list((run / "evaluation").glob("example_*.png"))

    x = _raw_windows(workdir)
    np.savez(
        workdir / f"in_{name}.npz",
        inputs=x,
        lat=np.linspace(58, 50, 16),
        lon=np.linspace(-10, 2, 16),
    )
    out = workdir / f"forecast_{name}.npz"
    assert (
        main(
            [
                "predict",
                "--run",
                str(run),
                "--input",
                str(workdir / f"in_{name}.npz"),
                "--output",
                str(out),
            ]
        )
        == 0
    )
    model, norm, expected = _keras_forecast(run, x)
    with np.load(out) as data:
        np.testing.assert_allclose(data["forecast"], expected, rtol=1e-5, atol=1e-3)
        assert data["forecast"].mean() > 200  # kelvin, not normalised units
    from scipy.io import netcdf_file

    nc = netcdf_file(str(out.with_suffix(".nc")), "r", mmap=False)
    data_vars = [v for v in nc.variables if v not in ("lead_time", "lat", "lon")]
    assert len(data_vars) == 1 and nc.variables[data_vars[0]].shape == (3, 4, 16, 16)
    np.testing.assert_allclose(
        nc.variables[data_vars[0]][:], expected[..., 0], rtol=1e-5, atol=1e-3
    )
    nc.close()

    export_dir = workdir / f"export_{name}"
    assert main(["export", "--run", str(run), "--output", str(export_dir)]) == 0
    signature = json.loads((export_dir / "signature.json").read_text())
    assert signature["signatures"]["serving_default"]["inputs"]["shape"] == [
        None,
        4,
        16,
        16,
        1,
    ]
    result = run_saved_model_in_fresh_process(
        export_dir, x, workdir / f"y_{name}.npy", endpoint="serving_default"
    )
    # The helper blocks keras_svq/zoo imports in the child: the graph is self-contained.
    assert not result.get("keras_svq_imported") and not result.get("keras_imported")
    np.testing.assert_allclose(
        np.load(workdir / f"y_{name}.npy"), expected, rtol=1e-5, atol=1e-3
    )
    if name == "svq":
        assert "encode" in signature["signatures"]
        run_saved_model_in_fresh_process(
            export_dir, x, workdir / "codes.npy", endpoint="encode"
        )
        codes = np.load(workdir / "codes.npy")
        latent, _ = model.encoder(norm.normalize(x), training=False)
        np.testing.assert_allclose(
            codes, np.asarray(model.quantizer.encode(latent)), atol=1e-4
        )
        assert codes.shape == (3, 4, 8, 8, 32)
        _check_saved_model_cli(export_dir, workdir, x, expected)
        _check_bfloat16_export(run, workdir, x, expected)
    else:
        assert "encode" not in signature["signatures"]


@pytest.mark.integration
def test_mirrored_strategy_on_two_logical_cpus(workdir):
    import tensorflow as tf

    assert len(tf.config.list_logical_devices("CPU")) >= 2, "conftest.py splits the CPU"
    config = write_config(
        workdir / "mirrored.yaml",
        tiny_config(workdir / "series.npy", svq=True, steps_per_epoch=3),
    )
    run = workdir / "run_mirrored"
    assert (
        main(
            [
                "train",
                "--config",
                str(config),
                "--output-dir",
                str(run),
                "--strategy",
                "mirrored",
                "--quiet",
            ]
        )
        == 0
    )
    info = json.loads((run / "run.json").read_text())
    assert info["replicas"] == 2 and info["status"] == "finished"


def _check_bfloat16_export(run, workdir, x, expected):
    """`--compute-dtype bfloat16`: same signature, forecasts within rounding."""
    export_dir = workdir / "export_bf16"
    argv = ["export", "--run", str(run), "--output", str(export_dir)]
    assert main([*argv, "--compute-dtype", "bfloat16"]) == 0
    signature = json.loads((export_dir / "signature.json").read_text())
    assert signature["compute_dtype"] == "bfloat16"
    run_saved_model_in_fresh_process(
        export_dir, x, workdir / "y_bf16.npy", endpoint="serving_default"
    )
    y = np.load(workdir / "y_bf16.npy")
    assert y.dtype == np.float32 and y.shape == expected.shape
    # Kelvin around 280: bfloat16 inside rounds forecasts by hundredths.
    difference = np.abs(y - expected)
    assert 0 < difference.max() < 2.0 and difference.mean() < 0.2


def _check_saved_model_cli(export_dir, workdir, x, expected):
    """`saved_model_cli run` (what a TF Serving user tries first) gives the same numbers."""
    np.save(workdir / "cli_in.npy", x)
    cli = pathlib.Path(sys.executable).with_name("saved_model_cli")
    out_dir = workdir / "cli_out"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    subprocess.run(
        [
            str(cli),
            "run",
            "--dir",
            str(export_dir),
            "--tag_set",
            "serve",
            "--signature_def",
            "serving_default",
            "--inputs",
            f"inputs={workdir / 'cli_in.npy'}",
            "--outdir",
            str(out_dir),
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    np.testing.assert_allclose(
        np.load(out_dir / "output_0.npy"), expected, rtol=1e-5, atol=1e-3
    )


# ----------------------------------------------------------- user mistakes


def _digest(folder):
    h = hashlib.sha256()
    for path in sorted(pathlib.Path(folder).rglob("*")):
        if path.is_file():
            h.update(str(path).encode() + path.read_bytes())
    return h.hexdigest()


def _user_error(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("keras-svq: error:")
    return err


@pytest.mark.integration
def test_user_mistakes_exit_2_with_one_line(trained, workdir, capsys):
    run = trained["plain"]
    before = _digest(run)
    config = workdir / "plain.yaml"

    err = _user_error(["train", "--config", str(workdir / "nope.yaml")], capsys)
    assert "nope.yaml" in err
    err = _user_error(
        [
            *("export", "--run", str(run), "--output", str(workdir / "onnx_bf16")),
            *("--format", "onnx", "--compute-dtype", "bfloat16"),
        ],
        capsys,
    )
    assert "applies to SavedModel exports" in err
    assert not (workdir / "onnx_bf16").exists()
    err = _user_error(["train", "--preset", "weather_t2m/simvp_gst"], capsys)
    assert "weather_t2m/simvp_gsta" in err  # close matches are listed
    err = _user_error(
        [
            "train",
            "--preset",
            "weather_t2m/simvp_gsta_svq_frozen",
            "--output-dir",
            str(workdir / "x"),
        ],
        capsys,
    )
    assert "--data-dir" in err
    err = _user_error(
        [
            "train",
            "--preset",
            "weather_t2m/simvp_gsta_svq_frozen",
            "--data-dir",
            str(workdir / "missing"),
            "--output-dir",
            str(workdir / "x"),
        ],
        capsys,
    )
    assert "missing" in err
    err = _user_error(
        [
            "train",
            "--config",
            str(config),
            "--set",
            "training.learning_rat=0.1",
            "--output-dir",
            str(workdir / "y"),
        ],
        capsys,
    )
    assert "training.learning_rat" in err and "learning_rate" in err
    err = _user_error(
        ["train", "--config", str(config), "--set", "modle.height=3"], capsys
    )
    assert "modle" in err
    err = _user_error(["train", "--config", str(config), "--set", "epochs"], capsys)
    typo = tiny_config(workdir / "series.npy", svq=False)
    typo["model"]["spatial_hiden_dim"] = 8
    err = _user_error(
        ["train", "--config", str(write_config(workdir / "typo.yaml", typo))], capsys
    )
    assert "model.spatial_hiden_dim" in err
    # An output folder holding another run (different config) or this finished run.
    err = _user_error(
        [
            "train",
            "--config",
            str(config),
            "--set",
            "training.epochs=2",
            "--output-dir",
            str(run),
        ],
        capsys,
    )
    assert "another run" in err and "training.epochs" in err
    err = _user_error(
        ["train", "--config", str(config), "--output-dir", str(run)], capsys
    )
    assert "finished run" in err
    (workdir / "foreign").mkdir(exist_ok=True)
    (workdir / "foreign" / "notes.txt").write_text("mine")
    err = _user_error(
        ["train", "--config", str(config), "--output-dir", str(workdir / "foreign")],
        capsys,
    )
    assert "not empty" in err
    err = _user_error(["evaluate", "--run", str(workdir / "no_run")], capsys)
    err = _user_error(["nonsense"], capsys)
    err = _user_error(["summary", "--preset", "era5_uk/simvp"], capsys)
    assert _digest(run) == before, "a failed command touched an earlier run"


@pytest.mark.integration
def test_nan_loss_stops_with_exit_1_and_no_bad_checkpoint(workdir, capsys):
    config = write_config(
        workdir / "nan.yaml",
        tiny_config(
            workdir / "series.npy",
            svq=False,
            learning_rate=1e12,
            schedule="constant",
            steps_per_epoch=3,
        ),
    )
    run = workdir / "run_nan"
    assert (
        main(["train", "--config", str(config), "--output-dir", str(run), "--quiet"])
        == 1
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "NaN" in err
    assert json.loads((run / "run.json").read_text())["status"] == "failed"
    assert not (run / "checkpoints" / "best.weights.h5").exists()


@pytest.mark.integration
def test_corrupt_checkpoint_names_the_file(trained, workdir, capsys):
    bad = workdir / "bad.weights.h5"
    bad.write_bytes(b"this is not hdf5")
    err = _user_error(
        [
            "evaluate",
            "--run",
            str(trained["plain"]),
            "--weights",
            str(bad),
            "--output-dir",
            str(workdir / "eval_bad"),
        ],
        capsys,
    )
    assert str(bad) in err and "corrupt" in err


@pytest.mark.integration
def test_evaluate_from_config_and_weights(trained, workdir, capsys):
    out = workdir / "eval_from_config"
    assert (
        main(
            [
                "evaluate",
                "--config",
                str(workdir / "plain.yaml"),
                "--weights",
                str(trained["plain"] / "checkpoints" / "best.weights.h5"),
                "--output-dir",
                str(out),
                "--num-plots",
                "0",
            ]
        )
        == 0
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert (
        main(
            [
                "evaluate",
                "--run",
                str(trained["plain"]),
                "--output-dir",
                str(workdir / "eval_run"),
                "--num-plots",
                "0",
            ]
        )
        == 0
    )
    reference = json.loads((workdir / "eval_run" / "metrics.json").read_text())
    assert metrics["reference"]["mse"] == pytest.approx(
        reference["reference"]["mse"], rel=1e-5
    )


# ------------------------------------------------------------ presets, summary


def test_presets_lists_the_paper_and_sample_presets(capsys):
    assert main(["presets"]) == 0
    names = set(capsys.readouterr().out.split())
    for dataset in (
        "weather_t2m",
        "weather_r",
        "weather_uv10",
        "weather_tcc",
        "weather_mv",
        "weather_hmv",
        "taxibj",
        "kth",
        "kitticaltech",
        "human",
    ):
        assert any(
            n.startswith(f"{dataset}/simvp_") and n.endswith("_svq_frozen")
            for n in names
        ), dataset
        assert any(
            n.startswith(f"{dataset}/simvp_") and n.endswith("_svq_learnable")
            for n in names
        ), dataset
    for name in (
        "weather_t2m/simvp_gsta",
        "weather_t2m/tau",
        "taxibj/simvp_incepu",
        "era5_uk/simvp_gsta",
        "era5_uk/simvp_gsta_svq_frozen",
        "nyc_taxi/simvp_gsta_svq_learnable",
        "mmnist_sample/simvp_gsta",
    ):
        assert name in names


def test_summary_prints_torch_style_parameter_counts(capsys):
    assert main(["summary", "--preset", "weather_t2m/simvp_gsta_svq_frozen"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-3:-1] == ["total params: 14372529", "trainable params: 14052529"]
    # Keras counts BatchNorm's moving statistics; PyTorch keeps them as buffers.
    keras_total = next(
        line for line in lines if line.strip().startswith("Total params")
    )
    difference = int(keras_total.split(":")[1].split()[0].replace(",", "")) - 14372529
    assert lines[-1].startswith(f"Keras' total ({14372529 + difference:,}) exceeds")
    assert (
        f"by {difference:,}: {difference:,} BatchNorm moving means and variances"
        in (lines[-1])
    )


def test_summary_of_a_recurrent_preset(capsys):
    assert main(["summary", "--preset", "weather_t2m/convlstm"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-3] == "total params: 14928384"


@pytest.mark.integration
def test_recurrent_run_with_scheduled_sampling(tmp_path, capsys):
    """A PredRNN run trains its ScheduledSamplingModel wrapper (the preset's
    `training.scheduled_sampling`); evaluation and predictions use the backbone."""
    config = tiny_config(write_series(tmp_path / "series.npy"), svq=False)
    config["backbone"] = "PredRNNBackbone"
    config["model"] = {
        "input_length": 4,
        "output_length": 4,
        "height": 16,
        "width": 16,
        "channels": 1,
        "hidden_dims": [8, 8],
        "kernel_size": 3,
        "patch_size": 2,
        "reverse_scheduled_sampling": True,
    }
    config["training"]["scheduled_sampling"] = {
        "reverse_sampling_start": 2,
        "reverse_sampling_stop": 6,
    }
    path = write_config(tmp_path / "predrnn.yaml", config)
    run = tmp_path / "run"
    assert main(["train", "--config", str(path), "--output-dir", str(run)]) == 0
    import keras

    # model.keras holds the backbone, not the scheduled-sampling wrapper.
    assert type(keras.saving.load_model(run / "model.keras")).__name__ == (
        "PredRNNBackbone"
    )
    assert main(["evaluate", "--run", str(run), "--num-plots", "0"]) == 0
    metrics = json.loads((run / "evaluation" / "metrics.json").read_text())
    assert np.isfinite(metrics["physical"]["mse"])
    capsys.readouterr()
