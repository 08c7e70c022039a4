import argparse

import numpy as np
import pytest

from keras_svq.commands import explain as explain_command
from keras_svq.commands import plot as plot_command
from keras_svq.io_utils import UserError
from keras_svq.viz import attribution
from keras_svq.viz import commands
from keras_svq.viz.viz_testing import train_tiny_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return train_tiny_run(tmp_path_factory.mktemp("runs") / "tiny_svq")


def _parse(add_arguments, argv):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.integration
def test_plot_command_writes_every_figure(run_dir, capsys):
    from PIL import Image

    args = _parse(
        plot_command.add_arguments,
        ["--run", str(run_dir), "--gif", "--max-examples", "8", "--example", "0"],
    )
    plot_command.run(args)
    plots = run_dir / "plots"
    expected = {
        "training_curves.png",
        "svq_sparsity.png",
        "skill_by_lead.png",
        "code_weights.png",
        "codebook_usage.png",
        "codebook_projection.png",
    }
    # The example drawn is chosen by `example_choice` unless --example is given.
    examples = {p.name for p in plots.glob("forecast_example_*")}
    assert {p.rsplit(".", 1)[1] for p in examples} == {"png", "gif"}
    expected |= examples
    assert expected <= {p.name for p in plots.iterdir()}
    for name in expected:
        path = plots / name
        assert path.stat().st_size > 1000
        with Image.open(path) as image:
            assert min(image.size) > 200
    assert str(plots / "skill_by_lead.png") in capsys.readouterr().out


def test_explain_command_end_to_end(run_dir):
    for method in ("saliency", "gradcam"):
        args = _parse(
            explain_command.add_arguments,
            [
                "--run",
                str(run_dir),
                "--region",
                "4:8,4:8",
                "--lead",
                "2",
                "--method",
                method,
            ],
        )
        explain_command.run(args)
        png = run_dir / "explain" / f"{method}_lead2.png"
        assert png.stat().st_size > 1000
        with np.load(png.with_suffix(".npz")) as saved:
            assert saved["maps"].shape == (4, 16, 16)
            assert np.isfinite(saved["maps"]).all()


def test_command_choices_match_the_library():
    # The command modules list them to stay light (no matplotlib for --help).
    assert explain_command.METHODS == tuple(sorted(attribution.ATTRIBUTION_METHODS))
    assert plot_command.SPLITS == commands.SPLITS


def test_explain_errors_are_user_errors(run_dir, tmp_path):
    with pytest.raises(UserError, match=r"`lead` must be in \[1, 4\]"):
        commands.explain_run(run_dir, region="4:8,4:8", lead=9)
    with pytest.raises(UserError, match="softmax"):
        commands.explain_run(run_dir, region="4:8,4:8", lead=1, method="scorecam")
    with pytest.raises(UserError, match="ROW_START"):
        commands.explain_run(run_dir, region="4-8", lead=1)
    with pytest.raises(UserError, match="Run folder not found"):
        commands.write_run_plots(tmp_path / "missing")


def test_model_plots_from_config_and_weights(run_dir, tmp_path):
    # What `keras-svq evaluate --config FILE --weights FILE --output-dir DIR` writes.
    from keras_svq.training import trainer

    layout, config, _ = trainer.load_run(run_dir)
    run = commands.load_model_data(config, trainer.default_weights(layout), name="tiny")
    written = commands.write_model_plots(
        run, tmp_path / "plots", example=1, max_examples=4
    )
    assert {"skill_by_lead", "forecast_example_1", "codebook_usage"} <= set(written)
    assert all(path.stat().st_size > 1000 for path in written.values())
    with pytest.raises(UserError, match="--example must be in"):
        commands.write_model_plots(run, tmp_path / "plots", example=99, max_examples=4)


def test_run_coordinates_from_run_json():
    info = {"coords": {"lat": [52.0, 51.5, 51.0], "lon": [-1.0, -0.5, 0.0, 0.5]}}
    coords = commands.run_coordinates(info, (3, 4, 1))
    np.testing.assert_array_equal(coords["lat"], [52.0, 51.5, 51.0])
    np.testing.assert_array_equal(coords["lon"], [-1.0, -0.5, 0.0, 0.5])
    # Coordinates of the uncropped frames: `data.crop` keeps the top-left corner.
    coords = commands.run_coordinates(info, (2, 2, 1), crop=(2, 2))
    np.testing.assert_array_equal(coords["lat"], [52.0, 51.5])
    np.testing.assert_array_equal(coords["lon"], [-1.0, -0.5])
    assert commands.run_coordinates(info, (2, 2, 1)) is None  # no crop: a mismatch
    assert (
        commands.run_coordinates({"coords": {"y": [0, 1], "x": [0, 1]}}, (2, 2)) is None
    )
    assert commands.run_coordinates({}, (3, 4)) is None
    assert commands.run_coordinates(None, (3, 4)) is None


def test_run_plots_prefer_recorded_coords(run_dir, tmp_path, monkeypatch):
    import dataclasses

    run = commands.load_run_data(run_dir)
    sample_lat = run.coordinates()["lat"]  # no coords in run.json: the sample's
    assert sample_lat[0] > sample_lat[-1] and run.coordinates()["land_mask"] is not None
    lat, lon = 40.0 + np.arange(16), -10.0 + np.arange(20)  # lon uncropped (20 > 16)
    run = dataclasses.replace(
        run, info={**run.info, "coords": {"lat": lat.tolist(), "lon": lon.tolist()}}
    )
    coords = run.coordinates()
    np.testing.assert_array_equal(coords["lat"], lat)
    np.testing.assert_array_equal(coords["lon"], lon[:16])

    figures = []
    draw = commands.forecast_panels.plot_forecast_panels

    def recording_panels(*args, **kwargs):
        figures.append((kwargs, draw(*args, **kwargs)))
        return figures[-1][1]

    monkeypatch.setattr(
        commands.forecast_panels, "plot_forecast_panels", recording_panels
    )
    commands.write_model_plots(run, tmp_path / "plots", max_examples=2)
    ((kwargs, figure),) = figures
    np.testing.assert_array_equal(kwargs["lat"], lat)
    labels = {t.get_text() for ax in figure.axes for t in ax.get_yticklabels()}
    assert "40°N" in labels  # degree ticks from `geo.set_lat_lon_ticks`
