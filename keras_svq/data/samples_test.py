"""Embedded samples load by name, offline, with their statistics and facts."""

import numpy as np
import pytest
import tensorflow as tf

from keras_svq.data import DATASETS
from keras_svq.data import SAMPLES
from keras_svq.data import Splits
from keras_svq.data import load_sample
from keras_svq.testing import shared_data_path


def test_samples_listed():
    assert SAMPLES == ("era5_t2m_uk", "nyc_taxi_flow", "moving_mnist")
    assert all(name in DATASETS for name in SAMPLES)


def test_era5_t2m_uk():
    splits = load_sample(
        "era5_t2m_uk", input_length=12, output_length=12, batch_size=8, seed=0
    )
    train, val, test = splits
    assert isinstance(splits, Splits) and isinstance(train, tf.data.Dataset)
    x, y = next(iter(train))
    assert x.shape == (8, 12, 33, 49, 1) and y.shape == (8, 12, 33, 49, 1)
    with np.load(shared_data_path("era5_t2m_uk_2019-03_hourly.npz")) as data:
        t2m = data["t2m"]
    n_train = int(round(0.7 * 744))
    np.testing.assert_allclose(splits.mean, [t2m[:n_train].mean()], rtol=1e-5)
    np.testing.assert_allclose(splits.std, [t2m[:n_train].std()], rtol=1e-4)
    assert splits.info.units == ("K",) and splits.info.spatial_norm
    assert splits.num_examples["train"] == n_train - 23
    xt, yt = splits.arrays("test")
    np.testing.assert_allclose(
        splits.normalizer.denormalize(yt[-1, -1, ..., 0]), t2m[-1], rtol=1e-5
    )


def test_nyc_taxi_flow_uses_published_split():
    splits = load_sample(
        "nyc_taxi_flow", input_length=4, output_length=4, batch_size=16, stride=2
    )
    assert splits.frame_shape == (16, 12, 2)
    assert splits.num_examples == {
        "train": (2784 - 8) // 2 + 1,
        "val": (672 - 8) // 2 + 1,
        "test": (864 - 8) // 2 + 1,
    }
    x, _ = splits.arrays("train")
    assert x.min() >= 0.0 and x.max() <= 1.0  # [0, 1] by the training maximum
    np.testing.assert_array_equal(splits.mean, [0.0, 0.0])
    assert splits.info.metrics == ("frame_mse", "frame_mae", "ssim", "psnr")


def test_moving_mnist_generated_from_real_digits():
    splits = load_sample(
        "moving_mnist",
        input_length=10,
        output_length=10,
        batch_size=4,
        seed=3,
        num_train=8,
        num_val=4,
        num_test=4,
    )
    x, y = next(iter(splits[0]))
    assert x.shape == (4, 10, 64, 64, 1) and y.shape == (4, 10, 64, 64, 1)
    assert 0.0 <= float(tf.reduce_min(x)) and float(tf.reduce_max(x)) <= 1.0
    assert float(tf.reduce_max(x)) > 0.9  # real digits have saturated strokes
    again = load_sample(
        "moving_mnist",
        input_length=10,
        output_length=10,
        batch_size=4,
        seed=3,
        num_train=8,
    )
    np.testing.assert_array_equal(x.numpy(), next(iter(again[0]))[0].numpy())
    # Evaluation sequences do not depend on the user's seed.
    other = load_sample(
        "moving_mnist",
        input_length=10,
        output_length=10,
        batch_size=4,
        seed=4,
        num_train=8,
        num_val=4,
        num_test=4,
    )
    np.testing.assert_array_equal(splits.arrays("test")[0], other.arrays("test")[0])


def test_unknown_sample_lists_names():
    with pytest.raises(
        ValueError,
        match="era5_t2m_uk.*nyc_taxi_flow.*moving_mnist.*Received: name='era5'",
    ):
        load_sample("era5", input_length=2, output_length=2, batch_size=2)


def test_shards_under_tf_distribute():
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    splits = load_sample(
        "nyc_taxi_flow", input_length=2, output_length=2, batch_size=8, seed=0
    )
    distributed = strategy.experimental_distribute_dataset(splits[2])
    x, y = next(iter(distributed))
    parts = strategy.experimental_local_results(x)
    assert len(parts) == 2 and sum(int(p.shape[0]) for p in parts) == 8


def test_fit_and_evaluate_on_a_sample():
    import keras

    from keras_svq.metrics import ForecastMSE
    from keras_svq.metrics import evaluate_forecast

    train, val, test = splits = load_sample(
        "nyc_taxi_flow", input_length=4, output_length=4, batch_size=32, seed=0
    )
    inputs = keras.Input((4, 16, 12, 2))
    model = keras.Model(inputs, keras.layers.Conv3D(2, 1)(inputs))
    model.compile(optimizer="adam", loss="mse", metrics=[ForecastMSE()])
    history = model.fit(train.take(2), validation_data=val.take(1), epochs=1, verbose=0)
    # OpenSTL's per-frame sum on traffic: logged as `frame_mse`, not Keras' `mse`.
    assert np.isfinite(history.history["loss"][0])
    assert "val_frame_mse" in history.history and "val_mse" not in history.history
    scores = evaluate_forecast(model, splits, max_batches=2)
    assert (
        set(scores["per_lead_time"]) == set(splits.info.metrics)
        and scores["num_examples"] == 64
    )
