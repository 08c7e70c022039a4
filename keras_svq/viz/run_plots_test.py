import json

import pytest

from keras_svq.viz import run_plots
from keras_svq.viz.figures import save_figure
from keras_svq.viz.viz_testing import assert_png

ROWS = [
    {"epoch": 1, "loss": 0.9, "val_loss": 0.5, "learning_rate": 0.005},
    {"epoch": 2, "loss": 0.4, "val_loss": 0.3, "learning_rate": 0.001},
]


def test_history_from_run_folder(tmp_path):
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "history.json").write_text(json.dumps(ROWS))
    rows = run_plots.load_history(tmp_path)
    figure = run_plots.plot_training_history(rows)
    loss_axis, lr_axis = figure.axes
    assert [line.get_label() for line in loss_axis.get_lines()] == [
        "train",
        "validation",
    ]
    assert loss_axis.get_yscale() == "log"
    assert list(lr_axis.get_lines()[0].get_ydata()) == [0.005, 0.001]
    assert_png(save_figure(figure, tmp_path / "curves.png"), figure)
    assert run_plots.load_evaluation(tmp_path) is None


def test_several_runs_and_keras_history():
    figure = run_plots.plot_training_history(
        {"a": ROWS, "b": {"loss": [1.0, 0.5], "val_loss": [1.0, 0.7]}}
    )
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["a train", "a validation", "b train", "b validation"]
    figure = run_plots.plot_training_history({"loss": [1.0, 0.5]})
    assert figure.axes[1].texts[0].get_text() == "no learning rate logged"


def test_missing_history_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="run folder"):
        run_plots.load_history(tmp_path)
