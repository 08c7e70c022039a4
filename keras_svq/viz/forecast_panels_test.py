import numpy as np
import pytest

from keras_svq.metrics import persistence_forecast
from keras_svq.viz import forecast_panels
from keras_svq.viz import geo
from keras_svq.viz.figures import save_figure
from keras_svq.viz.viz_testing import assert_png
from keras_svq.viz.viz_testing import assert_text_inside
from keras_svq.viz.viz_testing import colorbar_labels
from keras_svq.viz.viz_testing import era5_windows
from keras_svq.viz.viz_testing import taxi_windows


@pytest.fixture(scope="module")
def era5():
    x, y, splits = era5_windows(num_examples=2)
    pred = np.asarray(persistence_forecast(x, y.shape[1]))
    return x, y, pred, splits


def test_panels_on_era5_with_coordinates(era5, tmp_path):
    x, y, pred, splits = era5
    coords = geo.sample_coordinates("era5_t2m_uk")
    figure = forecast_panels.plot_forecast_panels(
        x[0],
        y[0],
        pred[0],
        units="K",
        variable="t2m",
        time_step="1h",
        lat=coords["lat"],
        lon=coords["lon"],
        land_mask=geo.sample_land_mask("era5_t2m_uk"),
        title="persistence",
    )
    axes = figure.axes
    # 4 rows x 6 lead times + 2 colour bars; 4 input frames fill the first row.
    assert len(axes) == 4 * 6 + 2
    assert sum(bool(ax.images) for ax in axes[:6]) == 4
    assert colorbar_labels(figure) == ["t2m [K]", "t2m error [K]"]
    # Input, truth and forecast share one colour scale.
    limits = {ax.images[0].get_clim() for ax in axes[:18] if ax.images}
    assert len(limits) == 1
    assert axes[6].get_title() == "+1 h"
    figure.canvas.draw()
    assert axes[18].get_xticklabels()[0].get_text().endswith(("W", "E", "°"))
    assert axes[18].get_yticklabels()[0].get_text().endswith("N")
    assert_text_inside(figure)
    assert_png(save_figure(figure, tmp_path / "panels.png"), figure)


def test_taxi_panels_have_one_block_per_channel(tmp_path):
    # The issue: channel 0 was drawn under the label "inflow, outflow" and the
    # error colour bar label ran off the bottom of the figure.
    x, y, splits = taxi_windows()
    info = splits.info
    i = 100
    pred = np.asarray(persistence_forecast(x[i : i + 1], y.shape[1]))[0]
    figure = forecast_panels.plot_forecast_panels(
        x[i],
        y[i],
        pred,
        units=info.units,
        variable=info.variables,
        time_step=info.time_step,
        title="persistence",
    )
    assert info.variables == ("inflow", "outflow")
    blocks = figure.subfigs
    assert [block._suptitle.get_text() for block in blocks] == [
        "inflow [trips per 30 min]",
        "outflow [trips per 30 min]",
    ]
    labels = [" ".join(label.split()) for label in colorbar_labels(figure)]
    assert labels == [
        "inflow [trips per 30 min]",
        "inflow error [trips per 30 min]",
        "outflow [trips per 30 min]",
        "outflow error [trips per 30 min]",
    ]
    # Each block draws its own channel: the last input frame, then lead 1.
    for c, block in enumerate(blocks):
        images = [ax.images[0] for ax in block.axes if ax.images]
        np.testing.assert_allclose(images[3].get_array(), x[i, -1, ..., c])
        np.testing.assert_allclose(images[4].get_array(), y[i, 0, ..., c])
        assert images[0].get_clim() != images[-1].get_clim()  # error scale apart
    assert blocks[0].axes[4].get_title() == "+30 min"
    assert_text_inside(figure)
    assert_png(save_figure(figure, tmp_path / "taxi.png"), figure)

    one = forecast_panels.plot_forecast_panels(
        x[i], y[i], pred, channel=1, units=info.units, variable=info.variables
    )
    assert not one.subfigs
    assert [" ".join(label.split()) for label in colorbar_labels(one)] == [
        "outflow [trips per 30 min]",
        "outflow error [trips per 30 min]",
    ]
    np.testing.assert_allclose(one.axes[0].images[0].get_array(), x[i, 0, ..., 1])
    assert_text_inside(one)


def test_long_colour_bar_labels_wrap_inside_the_figure():
    x, y, _ = taxi_windows()
    figure = forecast_panels.plot_forecast_panels(
        x[100],
        y[100],
        y[100],
        units="vehicles entering the cell per half hour",
        variable=("inflow", "outflow"),
    )
    assert any("\n" in label for label in colorbar_labels(figure))
    assert_text_inside(figure)


def test_lead_selection_and_labels():
    assert forecast_panels.select_leads(12, 4) == [1, 5, 8, 12]
    assert forecast_panels.select_leads(3, 6) == [1, 2, 3]
    assert forecast_panels.lead_label(3, "1h") == "+3 h"
    assert forecast_panels.lead_label(2, "30min") == "+60 min"
    assert forecast_panels.lead_label(2) == "+2"
    with pytest.raises(ValueError, match="1-based lead times in"):
        forecast_panels.select_leads(4, leads=[0, 5])


def test_panels_without_coordinates_and_errors(era5, tmp_path):
    x, y, pred, _ = era5
    figure = forecast_panels.plot_forecast_panels(
        x[0, ..., 0], y[0, ..., 0], pred[0, ..., 0], leads=[1, 6]
    )
    assert len(figure.axes) == 4 * 2 + 2
    assert_png(save_figure(figure, tmp_path / "plain.png", dpi=60), figure, dpi=60)
    with pytest.raises(ValueError, match="one example"):
        forecast_panels.plot_forecast_panels(x, y, pred)
    with pytest.raises(ValueError, match="Pass both `lat` and `lon`"):
        forecast_panels.plot_forecast_panels(x[0], y[0], pred[0], lat=np.arange(33))
    with pytest.raises(ValueError, match="`channel` must be in"):
        forecast_panels.plot_forecast_panels(x[0], y[0], pred[0], channel=2)
    with pytest.raises(ValueError, match="one entry per channel"):
        forecast_panels.plot_forecast_panels(
            x[0], y[0], pred[0], units=("K", "K", "K"), variable=("a", "b")
        )
