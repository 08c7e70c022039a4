import numpy as np

from keras_svq.viz import geo
from keras_svq.viz.animation import animate_forecast
from keras_svq.viz.viz_testing import era5_windows


def test_gif_has_one_frame_per_time_step(tmp_path):
    from PIL import Image

    x, y, _ = era5_windows(num_examples=1, input_length=3, output_length=3)
    coords = geo.sample_coordinates("era5_t2m_uk")
    path = animate_forecast(
        x[0],
        y[0],
        y[0] + 0.5,
        tmp_path / "anim" / "forecast.gif",
        units="K",
        time_step="1h",
        lat=coords["lat"],
        lon=coords["lon"],
        dpi=40,
    )
    assert path.stat().st_size > 1000
    with Image.open(path) as image:
        assert image.format == "GIF"
        assert image.n_frames == 6
        assert image.size == (int(9.5 * 40), int(3.4 * 40))
    assert np.isfinite(x).all()
