"""Nothing before the final evaluation reads the test split: training, early
stopping and the baselines' fitting see the training and validation splits only."""

import numpy as np
import pytest
import tensorflow as tf
from cli_fixtures import tiny_config
from cli_fixtures import write_series

from keras_svq.metrics.baselines import build_baselines
from keras_svq.training import trainer


class SplitLeak(AssertionError):
    pass


def _refuse(*args, **kwargs):
    raise SplitLeak("the test split was read")


def _guard(bundle, monkeypatch):
    """Makes every way of reading the test windows fail loudly."""
    source = bundle.splits.sources["test"]
    for name in ("numpy", "_read_numpy", "tf_read"):
        monkeypatch.setattr(source, name, _refuse)

    def explode(i):
        raise SplitLeak("the test dataset was iterated")

    bundle.test = tf.data.Dataset.range(1).map(
        lambda i: tf.numpy_function(explode, [i], tf.int64)
    )
    return bundle


def test_training_and_early_stopping_never_read_the_test_split(tmp_path, monkeypatch):
    series = write_series(tmp_path / "series.npy", frames=64)
    config = tiny_config(series, svq=True, epochs=2, steps_per_epoch=2, patience=1)
    real = trainer.build_data

    def guarded(config, **kwargs):
        return _guard(real(config, **kwargs), monkeypatch)

    monkeypatch.setattr(trainer, "build_data", guarded)
    summary = trainer.train(config, tmp_path / "run", verbose=0)
    assert summary["epochs_completed"] >= 1
    # The guard works: reading the test split does fail.
    bundle = guarded(config)
    with pytest.raises(SplitLeak):
        bundle.splits.arrays("test")


def test_baselines_fit_without_reading_the_test_split(tmp_path, monkeypatch):
    series = write_series(tmp_path / "series.npy", frames=64)
    bundle = _guard(trainer.build_data(tiny_config(series, svq=False)), monkeypatch)
    baselines = build_baselines(bundle.splits)
    x = np.zeros((2, 4, 16, 16, 1), "float32")
    forecast = baselines["climatology"].forecast(x, np.arange(2))
    assert forecast.shape == (2, 4, 16, 16, 1) and np.isfinite(forecast).all()
