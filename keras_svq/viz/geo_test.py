import numpy as np
import pytest

from keras_svq.viz import geo


def test_sample_coordinates_and_crop():
    coords = geo.sample_coordinates("era5_t2m_uk")
    assert coords["lat"].shape == (33,) and coords["lon"].shape == (49,)
    assert coords["lat"][0] == 58.0 and coords["lon"][0] == -10.0
    cropped = geo.sample_coordinates("era5_t2m_uk", crop=(32, 48))
    assert cropped["lat"].shape == (32,) and cropped["lon"].shape == (48,)
    assert geo.sample_coordinates("moving_mnist") is None


def test_land_mask_finds_land_and_sea():
    mask = geo.sample_land_mask("era5_t2m_uk")
    lat, lon = geo.sample_coordinates("era5_t2m_uk").values()
    assert mask.shape == (33, 49)
    # Central England (52.5N, 1.5W) is land; the Atlantic west of Ireland (53N, 10W) is sea.
    assert mask[np.argmin(abs(lat - 52.5)), np.argmin(abs(lon + 1.5))]
    assert not mask[np.argmin(abs(lat - 53.0)), np.argmin(abs(lon + 10.0))]
    assert 0.2 < mask.mean() < 0.6


def test_extent_and_labels():
    spec = geo.grid_extent([58.0, 57.75, 57.5], [-10.0, -9.75])
    assert spec["origin"] == "upper"
    assert spec["extent"] == pytest.approx((-10.125, -9.625, 57.375, 58.125))
    assert geo.grid_extent([1.0, 2.0], [0.0, 1.0])["origin"] == "lower"
    assert geo.format_latitude(52) == "52°N" and geo.format_latitude(-3.5) == "3.5°S"
    assert geo.format_longitude(-4) == "4°W" and geo.format_longitude(0) == "0°"


def test_land_mask_rejects_bad_shapes():
    with pytest.raises(ValueError, match="time, H, W"):
        geo.land_mask_from_variability(np.zeros((5, 4)))
