"""Rows 2, 4, 5, 7, 8, 10 and 11 of issue 15: bad configs, inputs and checkpoints.

Every one is a one-line error with exit 2 that names the problem, and the
run folder is unchanged afterwards.
"""

import shutil

import h5py
import numpy as np
import pytest
from fault_helpers import cli_error
from fault_helpers import digest

from keras_svq.data import from_array

pytestmark = pytest.mark.integration


def _windows(workdir, n=3):
    series = np.load(workdir / "series.npy")
    return np.stack([series[i : i + 4] for i in range(n)])[..., None].astype("float32")


@pytest.mark.parametrize(
    "override, message",
    [
        (
            "data.batch_size=abc",
            "data.batch_size must be an integer >= 1. Received: 'abc'",
        ),
        (
            'data.input_length="4"',
            "data.input_length must be an integer >= 1. Received: '4'",
        ),
        ("training.warmup_epochs=abc", "training.warmup_epochs must be an integer"),
        (
            "training.min_learning_rate=abc",
            "training.min_learning_rate must be a finite number",
        ),
        ("training.seed=abc", "training.seed must be an integer"),
        (
            "training.clip_norm=abc",
            "training.clip_norm must be a finite number > 0 or null",
        ),
        (
            "training.learning_rate=.nan",
            "training.learning_rate must be a finite number > 0. Received: nan",
        ),
        (
            "training.mixed_precision=abc",
            "training.mixed_precision must be true or false",
        ),
        ("training.deterministic=nope", "training.deterministic must be true or false"),
        ("training.loss=mse2", "training.loss must be one of huber, mae, mse, tau"),
        ("model.mlp_ratio=abc", "model.mlp_ratio must be a finite number"),
    ],
)
def test_mistyped_config_values_are_one_line_errors(workdir, capsys, override, message):
    run = workdir / f"typo_{abs(hash(override))}"
    err = cli_error(
        [
            "train",
            "--config",
            str(workdir / "plain.yaml"),
            "--output-dir",
            str(run),
            "--set",
            override,
        ],
        capsys,
    )
    assert message in err
    assert not run.exists(), "a refused start left a folder behind"


@pytest.mark.parametrize(
    "key", ["input_length", "output_length", "stride", "batch_size"]
)
def test_from_array_refuses_non_integer_lengths(key):
    kwargs = {"input_length": 4, "output_length": 4, "batch_size": 2, key: 4.5}
    with pytest.raises(ValueError, match=f"`{key}` must be a positive integer"):
        from_array(np.zeros((40, 8, 8), "float32"), **kwargs)


def _predict(trained, path, out, capsys):
    return cli_error(
        ["predict", "--run", str(trained), "--input", str(path), "--output", str(out)],
        capsys,
    )


def test_corrupt_empty_and_foreign_input_files(trained, workdir, tmp_path, capsys):
    before = digest(trained)
    good = tmp_path / "good.npz"
    np.savez(good, inputs=_windows(workdir))
    cases = {
        "empty.npz": (b"", "is empty (0 bytes)"),
        "truncated.npz": (good.read_bytes()[:300], "is truncated or corrupt"),
        "random.npy": (
            np.random.default_rng(0).bytes(1000),
            "is not a .npy file (wrong header)",
        ),
        "pickled.npy": (b"\x80\x04K\x01.", "is not a .npy file (wrong header)"),
    }
    for name, (payload, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(payload)
        err = _predict(trained, path, tmp_path / f"out_{name}.npz", capsys)
        assert f"{path}" in err and message in err, err
        assert "(N, T_in, H, W, C)" in err
        assert not (tmp_path / f"out_{name}.npz").exists()
    assert digest(trained) == before


def test_wrong_window_shapes_are_refused(trained, workdir, tmp_path, capsys):
    x = _windows(workdir)
    for name, bad in {
        "hw_swapped": x[:, :, :8, :, :].transpose(0, 1, 3, 2, 4),
        "two_channels": np.concatenate([x, x], axis=-1),
        "long_input": np.concatenate([x] * 6, axis=1),
        "rank_6": x[..., None],
    }.items():
        path = tmp_path / f"{name}.npy"
        np.save(path, bad)
        err = _predict(trained, path, tmp_path / f"{name}_out.npz", capsys)
        assert "must have shape (N, 4, H, W, 1)" in err and str(bad.shape) in err, err


def test_empty_batch_gives_an_empty_forecast(trained, workdir, tmp_path):
    from keras_svq.cli import main

    path = tmp_path / "none.npy"
    np.save(path, _windows(workdir)[:0])
    assert (
        main(
            [
                "predict",
                "--run",
                str(trained),
                "--input",
                str(path),
                "--output",
                str(tmp_path / "none_out.npz"),
            ]
        )
        == 0
    )
    with np.load(tmp_path / "none_out.npz") as data:
        assert data["forecast"].shape == (0, 4, 16, 16, 1)


def test_nan_input_is_refused_with_count_and_location(
    trained, workdir, tmp_path, capsys
):
    x = _windows(workdir)
    x[1, 2, 3, 4, 0] = np.nan
    x[2, 0, 0, 0, 0] = np.inf
    path = tmp_path / "nan.npy"
    np.save(path, x)
    err = _predict(trained, path, tmp_path / "nan_out.npz", capsys)
    assert "2 input value(s) are NaN/Inf" in err
    assert "[1, 2, 3, 4, 0]" in err and "nan_policy='raise'" in err
    assert not (tmp_path / "nan_out.npz").exists()


def test_bit_rot_in_a_checkpoint_is_detected(trained, tmp_path, capsys):
    run = tmp_path / "rotten"
    shutil.copytree(trained, run)
    best = run / "checkpoints" / "best.weights.h5"
    with open(best, "r+b") as f:  # 256 bytes overwritten in the middle
        f.seek(best.stat().st_size // 2)
        f.write(b"\x00" * 256)
    before = digest(run)
    err = _predict(run, run / "nope.npy", tmp_path / "o.npz", capsys)
    assert "Input file not found" in err  # inputs are checked first...
    np.save(tmp_path / "x.npy", np.zeros((1, 4, 16, 16, 1), "float32") + 280)
    err = _predict(run, tmp_path / "x.npy", tmp_path / "o.npz", capsys)
    assert f"Checkpoint {best} is corrupt: its SHA-256 differs" in err
    assert digest(run) == before


def test_checkpoint_with_non_finite_weights_is_refused(trained, tmp_path, capsys):
    run = tmp_path / "nan_weights"
    shutil.copytree(trained, run)
    best = run / "checkpoints" / "best.weights.h5"
    (run / "checkpoints" / "best.weights.h5.sha256").unlink()  # a foreign file
    with h5py.File(best, "r+") as f:
        names = []
        f.visititems(
            lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None
        )
        data = f[names[0]]
        values = data[()]
        values.flat[0] = np.nan
        data[...] = values
    np.save(tmp_path / "x.npy", np.zeros((1, 4, 16, 16, 1), "float32") + 280)
    err = _predict(run, tmp_path / "x.npy", tmp_path / "o.npz", capsys)
    assert f"Checkpoint {best} holds 1 NaN/Inf weight value(s)" in err
