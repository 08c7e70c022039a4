import types

import numpy as np
import pytest

from keras_svq.metrics import persistence_forecast
from keras_svq.viz import example_choice
from keras_svq.viz.viz_testing import colorbar_labels
from keras_svq.viz.viz_testing import taxi_windows


@pytest.fixture(scope="module")
def taxi():
    return taxi_windows()


def test_choose_examples_takes_error_quantiles():
    errors = np.array([5.0, 1.0, 9.0, 3.0, 7.0])  # sorted: 1 3 5 7 9
    assert example_choice.choose_examples(errors) == [0]  # the median, 5.0
    # k=3: quantiles 1/6, 1/2, 5/6 -> ranks 1, 2, 3 of 0..4
    assert example_choice.choose_examples(errors, 3) == [3, 0, 4]
    assert example_choice.choose_examples(errors, 5) == [1, 3, 0, 4, 2]
    # More windows asked than exist: each once.
    assert example_choice.choose_examples(errors[:2], 4) == [1, 0]


def test_choose_examples_skips_excluded_and_missing():
    errors = np.array([5.0, 1.0, 9.0, 3.0, 7.0, np.nan])
    exclude = np.array([True, False, False, False, False, False])
    # Without window 0 the eligible errors are 1 3 7 9: rank round(1.5) = 2 -> 7.
    assert example_choice.choose_examples(errors, exclude=exclude) == [4]
    # Everything excluded: the exclusion is dropped rather than drawing nothing.
    everything = np.ones(6, bool)
    assert example_choice.choose_examples(errors, exclude=everything) == [0]
    assert example_choice.choose_examples(np.full(3, np.nan)) == [1]
    with pytest.raises(ValueError, match="`k` must be at least 1"):
        example_choice.choose_examples(errors, 0)
    with pytest.raises(ValueError, match="non-empty 1-D"):
        example_choice.choose_examples([])
    with pytest.raises(ValueError, match="shape of `errors`"):
        example_choice.choose_examples(errors, exclude=[True])


def test_window_errors_match_numpy():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=(3, 2, 4, 5, 2))
    forecast = truth + rng.normal(size=truth.shape)
    expected = np.mean((forecast - truth) ** 2, axis=(1, 2, 3, 4))
    np.testing.assert_allclose(example_choice.window_errors(forecast, truth), expected)
    truth[1, 0, 0, 0, 0] = np.nan  # missing targets leave the mean
    squared = (forecast[1] - truth[1]) ** 2
    np.testing.assert_allclose(
        example_choice.window_errors(forecast, truth)[1], np.nanmean(squared)
    )
    with pytest.raises(ValueError, match="must both be"):
        example_choice.window_errors(forecast[:2], truth)


def test_daylight_saving_windows_of_the_taxi_sample_are_flagged(taxi):
    # Frames 3460-3461 of the shipped series (13 March 2016, 02:00-03:00)
    # count 36 and 41 trips; the test split starts at frame 3456, so windows
    # 0-5 (4 inputs + 4 targets) hold them, and nothing else in the split is
    # near zero.
    x, y, _ = taxi
    totals = np.concatenate([x[0], y[0]]).sum(axis=(1, 2, 3))
    np.testing.assert_array_equal(totals[4:6], [36, 41])
    assert totals[[3, 6]].min() > 15_000
    flags = example_choice.flag_dropout_windows(x, y)
    np.testing.assert_array_equal(np.flatnonzero(flags), np.arange(6))
    # One channel (3-D frames) works the same way.
    np.testing.assert_array_equal(
        example_choice.flag_dropout_windows(x[..., 0], y[..., 0]), flags
    )


def test_default_example_is_the_median_window_and_never_an_artefact(taxi):
    x, y, _ = taxi
    pred = np.asarray(persistence_forecast(x, y.shape[1]))
    errors = example_choice.window_errors(pred, y)
    flags = example_choice.flag_dropout_windows(x, y)
    index, why = example_choice.default_example(x, y, pred)
    assert not flags[index]
    eligible = np.sort(errors[~flags])
    assert errors[index] == eligible[len(eligible) // 2]
    assert why == "median error of n=857; 6 windows with a dropout frame skipped"
    # The rule would not pick window 0 anyway, but an artefact with a
    # typical error must still be skipped:
    errors[0] = np.median(errors)
    assert 0 not in example_choice.choose_examples(errors, 3, exclude=flags)


class _Persistence:
    """Stands in for a trained model: repeats the last input frame."""

    def predict(self, x, batch_size=None, verbose=0):
        return np.asarray(persistence_forecast(x, 4))


def test_taxi_run_plots_use_the_whole_split_and_the_rule(taxi, tmp_path, monkeypatch):
    # `keras-svq plot` on a taxi run: the skill chart states the windows it
    # used (all 857, as `evaluate`'s table), the forecast drawn is the median
    # window, and its panels are labelled per channel.
    from keras_svq.viz import commands
    from keras_svq.viz import forecast_panels
    from keras_svq.viz import skill_plots

    _, _, splits = taxi
    bundle = types.SimpleNamespace(
        arrays=splits.arrays,
        normalizer=splits.normalizer,
        info=splits.info,
        crop=None,
        frame_shape=tuple(splits.frame_shape),
    )
    run = commands.RunData(
        "taxi", {"data": {"sample": "nyc_taxi_flow"}}, bundle, _Persistence()
    )
    figures = {}
    for module, name in (
        (forecast_panels, "plot_forecast_panels"),
        (skill_plots, "plot_skill_by_lead"),
    ):
        draw = getattr(module, name)

        def recording(*args, _draw=draw, _name=name, **kwargs):
            figures[_name] = _draw(*args, **kwargs)
            return figures[_name]

        monkeypatch.setattr(module, name, recording)
    written = commands.write_model_plots(run, tmp_path)
    skill = figures["plot_skill_by_lead"]
    assert skill._suptitle.get_text() == "Skill per lead time, test split (n=857)"
    assert skill.axes[0].get_ylabel() == "MSE [(trips per 30 min)^2]"
    panels = figures["plot_forecast_panels"]
    title = panels._suptitle.get_text()
    example = int(title.split("example ")[1].split()[0])
    assert example >= 6 and f"forecast_example_{example}" in written
    assert "median error of n=857" in title
    assert [" ".join(label.split()) for label in colorbar_labels(panels)] == [
        "inflow [trips per 30 min]",
        "inflow error [trips per 30 min]",
        "outflow [trips per 30 min]",
        "outflow error [trips per 30 min]",
    ]
    # A limited set says so.
    commands.write_model_plots(run, tmp_path, max_examples=64, example=10)
    assert figures["plot_skill_by_lead"]._suptitle.get_text().endswith("(n=64 of 857)")
    assert figures["plot_forecast_panels"]._suptitle.get_text() == (
        "taxi: test example 10"
    )
