"""`keras_svq.runs.Run`: a run folder read once, on a folder written by hand."""

import json

import numpy as np
import pytest
import yaml
from cli_fixtures import tiny_config
from cli_fixtures import write_series

from keras_svq.io_utils import UserError
from keras_svq.runs import Run
from keras_svq.runs import RunLayout


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """config.yaml, run.json and a best checkpoint, as `train` leaves them."""
    from keras_svq.training import trainer

    root = tmp_path_factory.mktemp("runs") / "tiny"
    series = write_series(root.parent / "series.npy")
    config = trainer.config_lib.resolve(tiny_config(series, svq=False), [])
    layout = RunLayout(root)
    layout.checkpoints.mkdir(parents=True)
    layout.config.write_text(yaml.safe_dump(config, sort_keys=False))
    normalizer = {"mean": [280.0], "std": [5.0], "kind": "zscore"}
    layout.run.write_text(json.dumps({"status": "finished", "normalizer": normalizer}))
    trainer.build_model(config).save_weights(layout.best)
    return root


def test_reads_config_and_info_once(run_dir):
    run = Run(run_dir)
    assert run.root == run_dir and run.name == "tiny"
    assert run.config["backbone"] == "SimVPBackbone"
    assert run.info["status"] == "finished"
    assert run.weights == RunLayout(run_dir).best
    assert run.normalizer.denormalize(np.zeros((1,), "float32"))[0] == 280.0


def test_loads_data_and_model_once(run_dir):
    run = Run(run_dir)
    model = run.load_model()
    assert run.load_model() is model
    bundle = run.load_data()
    assert run.load_data() is bundle
    x, y = bundle.arrays("test")
    assert model.predict(x[:2], verbose=0).shape == y[:2].shape


def test_explicit_weights_and_config_runs(run_dir):
    final = RunLayout(run_dir).final
    assert Run(run_dir, weights=final).weights == final
    run = Run.from_config(Run(run_dir).config, RunLayout(run_dir).best, name="m")
    assert run.root is None and run.name == "m" and run.info == {}
    assert run.load_model().count_params() > 0


def test_errors_are_one_line_user_errors(run_dir, tmp_path):
    with pytest.raises(UserError, match="Run folder not found"):
        Run(tmp_path / "missing")
    with pytest.raises(UserError, match="is not a keras-svq run"):
        Run(tmp_path)
    empty = tmp_path / "untrained"
    empty.mkdir()
    (empty / "config.yaml").write_text(RunLayout(run_dir).config.read_text())
    with pytest.raises(UserError, match="has no checkpoint yet"):
        _ = Run(empty).weights
    with pytest.raises(UserError, match="run.json has no normalizer"):
        _ = Run(empty).normalizer


def test_trainer_reexports_the_run_folder_functions():
    from keras_svq import runs
    from keras_svq.training import trainer

    for name in ("RunLayout", "load_run", "default_weights", "forecast_transform"):
        assert getattr(trainer, name) is getattr(runs, name)
