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


def test_gif_draws_every_channel_with_its_label(tmp_path, monkeypatch):
    from PIL import Image

    from keras_svq.viz import animation
    from keras_svq.viz.viz_testing import colorbar_labels
    from keras_svq.viz.viz_testing import taxi_windows

    x, y, splits = taxi_windows()
    figures = []
    new_figure = animation.new_figure
    monkeypatch.setattr(
        animation,
        "new_figure",
        lambda *a, **k: figures.append(new_figure(*a, **k)) or figures[-1],
    )
    path = animate_forecast(
        x[100],
        y[100],
        y[100] + 1.0,
        tmp_path / "taxi.gif",
        units=splits.info.units,
        variable=splits.info.variables,
        time_step=splits.info.time_step,
        dpi=30,
    )
    assert [" ".join(label.split()) for label in colorbar_labels(figures[0])] == [
        "inflow [trips per 30 min]",
        "inflow error [trips per 30 min]",
        "outflow [trips per 30 min]",
        "outflow error [trips per 30 min]",
    ]
    assert [ax.get_title() for ax in figures[0].axes[:3]] == [
        "inflow observed",
        "inflow forecast",
        "inflow error",
    ]
    with Image.open(path) as image:
        assert image.n_frames == 8
        assert image.size == (int(9.5 * 30), int((3.1 * 2 + 0.3) * 30))
