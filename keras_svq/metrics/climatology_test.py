"""Climatology and skill scores, against numpy on the shipped ERA5 sample."""

import numpy as np
import pytest

from keras_svq.metrics.climatology import Climatology
from keras_svq.metrics.climatology import skill_score
from keras_svq.testing.reference import shared_data_path


def _era5():
    with np.load(shared_data_path("era5_t2m_uk_2019-03_hourly.npz")) as data:
        return data["t2m"][..., None].astype("float64"), data["time"]


def test_hourly_climatology_of_the_era5_sample():
    t2m, time = _era5()
    train, train_time = t2m[:500], time[:500]
    climatology = Climatology.fit(train, times=train_time)
    assert climatology.fields.shape == (24, 33, 49, 1)
    assert climatology.slot_seconds == 3600
    hours = (train_time % 86400) // 3600
    for hour in (0, 6, 13):
        np.testing.assert_allclose(
            climatology.fields[hour], train[hours == hour].mean(axis=0), rtol=1e-6
        )
    # Forecasts for windows of the test part: the field of each target's hour.
    targets = np.stack([time[600 + i : 600 + i + 12] for i in range(5)])
    forecast = climatology.forecast(targets)
    assert forecast.shape == (5, 12, 33, 49, 1)
    expected = train[hours == (targets[2, 7] % 86400) // 3600].mean(axis=0)
    np.testing.assert_allclose(forecast[2, 7], expected, rtol=1e-6)
    datetimes = climatology.forecast(targets.astype("datetime64[s]"))
    np.testing.assert_array_equal(datetimes, forecast)


def test_plain_mean_without_times_and_nan_ignored():
    t2m, _ = _era5()
    frames = t2m[:100].copy()
    frames[:, 0, 0] = np.nan
    frames[3, 1, 1] = np.nan
    climatology = Climatology.fit(frames)
    forecast = climatology.forecast(num_windows=2, output_length=3)
    assert forecast.shape == (2, 3, 33, 49, 1)
    assert np.isnan(forecast[:, :, 0, 0]).all()
    np.testing.assert_allclose(
        forecast[1, 2, 1, 1], np.mean(np.delete(t2m[:100, 1, 1, 0], 3)), rtol=1e-6
    )
    with pytest.raises(ValueError, match="num_windows and output_length"):
        climatology.forecast()
    hourly = Climatology.fit(t2m[:48], times=np.arange(48) * 3600)
    with pytest.raises(ValueError, match="pass the target times"):
        hourly.forecast(num_windows=1, output_length=1)


def test_skill_score():
    assert skill_score(0.5, 1.0) == pytest.approx(0.5)
    np.testing.assert_allclose(skill_score([1.0, 3.0], [2.0, 2.0]), [0.5, -0.5])
    t2m, time = _era5()
    truth = t2m[600:612][None]
    persistence = np.repeat(t2m[599:600][None], 12, axis=1)
    climatology = Climatology.fit(t2m[:500], times=time[:500]).forecast(
        time[None, 600:612]
    )
    mse_p = ((persistence - truth) ** 2).mean(axis=(0, 2, 3, 4))
    mse_c = ((climatology - truth) ** 2).mean(axis=(0, 2, 3, 4))
    np.testing.assert_allclose(skill_score(mse_p, mse_c), 1 - mse_p / mse_c)
