"""The trainer's steps, each on its own, and `train` end to end on a tiny run."""

import json
import logging
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_svq.testing import tiny_experiment_config
from keras_svq.testing import tiny_simvp
from keras_svq.training import config as config_lib
from keras_svq.training import trainer
from keras_svq.training.callbacks import BestCheckpoint
from keras_svq.training.callbacks import HistoryWriter
from keras_svq.training.callbacks import NaNGuard
from keras_svq.training.callbacks import ResumableEarlyStopping
from keras_svq.training.callbacks import RunBackup
from keras_svq.training.codebook_usage_callback import CodebookUsageCallback
from keras_svq.training.losses import MaskedLoss


@pytest.fixture(autouse=True)
def _float32():
    yield
    keras.config.set_dtype_policy("float32")


@pytest.fixture
def no_tensorboard(monkeypatch):
    """As on a machine without the `tensorboard` package."""
    real = trainer.importlib.util.find_spec
    monkeypatch.setattr(
        trainer.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "tensorboard" else real(name, *a),
    )
    trainer._warn_no_tensorboard.cache_clear()
    yield
    trainer._warn_no_tensorboard.cache_clear()


def _config(tmp_path, **training):
    rng = np.random.default_rng(0)
    series = 280 + rng.normal(0, 1, (60, 16, 16)).astype("float32")
    np.save(tmp_path / "series.npy", series)
    data = {
        "array": str(tmp_path / "series.npy"),
        "input_length": 4,
        "output_length": 4,
        "batch_size": 4,
    }
    section = {"epochs": 2, "learning_rate": 0.005, "deterministic": False}
    section.update(training)
    return config_lib.resolve(tiny_experiment_config(data, training=section))


def _val(batches=2):
    x = np.zeros((4 * batches, 4, 16, 16, 1), "float32")
    return tf.data.Dataset.from_tensor_slices((x, x)).batch(4)


class _Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(epoch)
        logs["user_value"] = float(epoch)


# ------------------------------------------------------------ make_callbacks


def test_make_callbacks_order_and_types(tmp_path, no_tensorboard):
    training = config_lib.TrainingConfig(patience=3)
    user = _Recorder()
    made = trainer.make_callbacks(
        trainer.RunLayout(tmp_path), training, tiny_simvp(), _val(), extra=[user]
    )
    assert [type(c) for c in made.callbacks] == [
        _Recorder,
        NaNGuard,
        BestCheckpoint,
        ResumableEarlyStopping,
        HistoryWriter,
        RunBackup,
    ]
    assert made.early_stopping.patience == 3
    assert made.backup is made.callbacks[-1]
    assert made.best.guard is made.nan_guard
    assert made.backup.keep_previous is False
    assert made.tensorboard is None


def test_make_callbacks_without_patience_with_svq_and_multi_worker(
    tmp_path, no_tensorboard
):
    training = config_lib.TrainingConfig(patience=None)
    made = trainer.make_callbacks(
        trainer.RunLayout(tmp_path),
        training,
        tiny_simvp(svq=True),
        _val(),
        multi_worker=True,
    )
    assert [type(c) for c in made.callbacks] == [
        CodebookUsageCallback,
        NaNGuard,
        BestCheckpoint,
        HistoryWriter,
        RunBackup,
    ]
    assert made.early_stopping is None
    assert made.backup.keep_previous is True
    off = config_lib.TrainingConfig(codebook_diagnostics=False)
    made = trainer.make_callbacks(
        trainer.RunLayout(tmp_path), off, tiny_simvp(svq=True), None
    )
    assert not any(isinstance(c, CodebookUsageCallback) for c in made.callbacks)


def test_tensorboard_written_when_installed(tmp_path, monkeypatch):
    monkeypatch.setattr(trainer.importlib.util, "find_spec", lambda name, *a: object())
    layout = trainer.RunLayout(tmp_path)
    made = trainer.make_callbacks(layout, config_lib.TrainingConfig(), tiny_simvp())
    assert isinstance(made.tensorboard, keras.callbacks.TensorBoard)
    assert made.callbacks[-2] is made.tensorboard
    assert made.tensorboard.log_dir == str(layout.logs / "tensorboard")


def test_missing_tensorboard_warns_once(tmp_path, no_tensorboard, caplog):
    layout = trainer.RunLayout(tmp_path)
    with caplog.at_level(logging.WARNING, logger="keras_svq"):
        for _ in range(2):
            assert trainer._tensorboard(layout) is None
    messages = [r.getMessage() for r in caplog.records if "TensorBoard" in r.message]
    assert len(messages) == 1
    assert "pip install 'keras-svq[tensorboard]'" in messages[0]


# ------------------------------------------------------- compile and steps


@pytest.mark.parametrize(
    "loss, cls", [("mse", keras.losses.MeanSquaredError), ("huber", keras.losses.Huber)]
)
def test_compile_model_sets_loss_optimizer_and_metrics(loss, cls):
    training = config_lib.TrainingConfig(
        loss=loss, optimizer="adamw", clip_norm=1.0, schedule="constant"
    )
    model = tiny_simvp()
    returned = trainer.compile_model(
        model, training, steps=5, metrics=[keras.metrics.MeanAbsoluteError("mae")]
    )
    assert returned is model
    assert isinstance(model.loss, MaskedLoss)
    assert isinstance(model.loss.loss, cls)
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert model.optimizer.global_clipnorm == 1.0
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)
    x = np.zeros((2, 4, 16, 16, 1), "float32")
    logs = model.evaluate(x, x, verbose=0, return_dict=True)
    assert set(logs) == {"loss", "mae"}


def test_compile_model_without_metrics_reports_the_loss_only():
    model = tiny_simvp()
    trainer.compile_model(model, config_lib.TrainingConfig(), steps=3)
    x = np.zeros((2, 4, 16, 16, 1), "float32")
    assert set(model.evaluate(x, x, verbose=0, return_dict=True)) == {"loss"}


def test_steps_per_epoch():
    ds = _val(batches=5)
    assert trainer.steps_per_epoch(ds, config_lib.TrainingConfig()) == 5
    capped = config_lib.TrainingConfig(steps_per_epoch=2)
    assert trainer.steps_per_epoch(ds, capped) == 2
    with pytest.raises(trainer.UserError, match="no complete batch"):
        trainer.steps_per_epoch(ds.take(0), config_lib.TrainingConfig())


def test_fit_datasets_resume_skips_and_known_cardinality():
    x = np.arange(12, dtype="float32").reshape(12, 1)

    def bundle():
        # Built afresh, as in a restarted process (a shuffle's seed state
        # lives with its dataset).
        ds = tf.data.Dataset.from_tensor_slices((x, x))
        ds = ds.shuffle(12, seed=1, reshuffle_each_iteration=True).batch(2)
        return trainer.DataBundle(
            train=ds,
            val=ds.filter(lambda a, b: True),  # unknown cardinality
            test=ds,
            normalizer=None,
            info=None,
            input_length=1,
            output_length=1,
            frame_shape=(),
            crop=None,
        )

    def batches(dataset, n):
        return [b[0].numpy().ravel().tolist() for b in dataset.take(n)]

    training = config_lib.TrainingConfig(validation_steps=2)
    fresh, _ = trainer.fit_datasets(bundle(), training, steps=3)
    resumed, val_ds = trainer.fit_datasets(bundle(), training, steps=3, initial_epoch=1)
    assert int(resumed.cardinality()) == tf.data.INFINITE_CARDINALITY
    # Epoch 1 of a resumed run reads what epoch 1 of an uninterrupted one reads.
    assert batches(resumed, 3) == batches(fresh, 6)[3:]
    assert int(val_ds.cardinality()) == 2


def test_resume_state_fresh_run_starts_at_zero(tmp_path):
    backup = RunBackup(tmp_path / "backup")
    model = tiny_simvp()
    assert trainer.resume_state(backup, model, None, resume=False) == 0


# -------------------------------------------------------------- end to end


def test_train_uses_user_callbacks_and_metrics_without_data_warnings(
    tmp_path, monkeypatch, no_tensorboard
):
    config = _config(tmp_path)
    training = config_lib.training_config(config["training"])
    bundle = trainer.build_data(config)
    for split in (bundle.train, bundle.val, bundle.test):
        assert int(split.cardinality()) > 0  # known
    builds = []
    real = config_lib.training_config
    monkeypatch.setattr(
        config_lib,
        "training_config",
        lambda section: builds.append(section) or real(section),
    )

    class BuiltOnce(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.builds = len(builds)

    recorder, built_once = _Recorder(), BuiltOnce()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        summary = trainer.train(
            config,
            tmp_path / "run",
            verbose=0,
            training=training,
            callbacks=[recorder, built_once],
            metrics=[keras.metrics.MeanAbsoluteError(name="mae")],
        )
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "ran out of data" in m], messages
    assert summary["status"] == "finished"
    assert recorder.epochs == [0, 1]
    assert built_once.builds == 0  # the caller's TrainingConfig was used
    rows = json.loads((tmp_path / "run" / "logs" / "history.json").read_text())
    assert {"mae", "val_mae", "user_value"} <= set(rows[-1])


def test_remat_layers_train_the_same_model_and_typos_are_named(tmp_path):
    losses = {}
    for name, remat in (("plain", None), ("remat", ["attn", "mlp"])):
        folder = tmp_path / name
        folder.mkdir()
        config = _config(folder, epochs=1, deterministic=True, remat_layers=remat)
        summary = trainer.train(config, folder / "run", verbose=0)
        assert summary["status"] == "finished"
        history = json.loads((folder / "run" / "logs" / "history.json").read_text())
        losses[name] = [row["loss"] for row in history] + [
            row["val_loss"] for row in history
        ]
    np.testing.assert_allclose(losses["remat"], losses["plain"], rtol=1e-5)
    config = _config(tmp_path, remat_layers=["attn", "mpl"])
    training = config_lib.training_config(config["training"])
    with pytest.raises(trainer.UserError, match="no layer of the model is named 'mpl'"):
        trainer.build_training_model(config, training, trainer.build_data(config))
