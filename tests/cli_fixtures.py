"""Tiny experiment files shared by the CLI, export and resume tests."""

import pathlib

import numpy as np
import yaml

from keras_svq.testing.tiny_models import tiny_simvp_config


def write_series(path, frames=60, size=16, seed=0):
    """A smooth, noisy `(frames, size, size)` series in kelvin-like units."""
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None, None]
    phase = (
        np.linspace(0, 3, size)[None, :, None] + np.linspace(0, 2, size)[None, None, :]
    )
    series = (
        280 + 5 * np.sin(t / 5.0 + phase) + rng.normal(0, 0.3, (frames, size, size))
    )
    np.save(path, series.astype("float32"))
    return pathlib.Path(path)


def tiny_config(
    array_path, *, svq, epochs=1, batch_size=4, deterministic=False, **training
):
    model = tiny_simvp_config(svq=svq)
    return {
        "backbone": "SimVPBackbone",
        "data": {
            "array": str(array_path),
            "input_length": 4,
            "output_length": 4,
            "batch_size": batch_size,
        },
        "model": model,
        "training": {
            "epochs": epochs,
            "learning_rate": 0.005,
            "schedule": "cosine",
            "loss": "mae" if svq else "mse",
            "deterministic": deterministic,
            **training,
        },
    }


def write_config(path, config):
    pathlib.Path(path).write_text(yaml.safe_dump(config, sort_keys=False))
    return pathlib.Path(path)
