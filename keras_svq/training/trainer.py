"""The fit glue: experiment config -> data, model, callbacks -> a run folder.

`train` is a short sequence of steps, each a function here that can be
called (and tested) alone: `seed_everything`, `set_precision`, `build_data`,
`build_training_model`, `steps_per_epoch`, `compile_model`, `open_run`,
`record_start`, `make_callbacks`, `resume_state`, `fit_datasets`, `fit` and
`finish_run`. Reading a run folder back is `keras_svq.runs`.

Run folder layout (every file but the logs written atomically):

```
RUN/
  config.yaml                 the resolved experiment (defaults filled in)
  run.json                    status, versions, normaliser, dataset facts, results
  data_masks.npz              the static masks, when some pixels are invalid
  checkpoints/best.weights.h5 lowest validation loss
  checkpoints/final.weights.h5 after the last epoch
  model.keras                 the backbone with the best weights (`keras.saving.load_model`)
  backup/                     resumable state (deleted when the run finishes)
  logs/history.csv|json       one row per epoch; logs/train.log (appended)
  logs/tensorboard/           TensorBoard events, with the `tensorboard` package
  evaluation/                 written by `keras-svq evaluate`
```

Under `MultiWorkerMirroredStrategy` only the chief writes the run folder;
every other worker writes the same files into its scratch folder
(`worker_scratch_dir`: `$TMPDIR/keras-svq-workers/...`), which holds its own
backup while the job runs and is removed when the run finishes.

A run folder belongs to one experiment and one process: `train` takes an
exclusive lock (`RUN/.lock`, `keras_svq.file_lock`) before it checks or
writes anything, so a second `train` into the same folder is refused while
the first runs. A folder that holds a different config, a finished run, or
unrelated files is refused with a `UserError`, so nothing is ever
overwritten. The same command on an unfinished run resumes it, after
checking that the data are those the run started on (`data_fingerprint`)
and removing what interrupted writes left behind.
"""

import contextlib
import dataclasses
import functools
import hashlib
import importlib.util
import logging
import math
import os
import pathlib
import shutil
import tempfile
import time

import keras
import numpy as np
import yaml

from keras_svq.file_lock import LOCK_FILE
from keras_svq.file_lock import FolderLock
from keras_svq.io_utils import UserError
from keras_svq.io_utils import atomic_save_npz
from keras_svq.io_utils import atomic_save_weights
from keras_svq.io_utils import atomic_write_json
from keras_svq.io_utils import atomic_write_text
from keras_svq.io_utils import make_dirs
from keras_svq.io_utils import os_errors
from keras_svq.io_utils import read_json
from keras_svq.io_utils import remove_litter
from keras_svq.layers import remat as remat_lib

# The run-folder read side lives in `keras_svq.runs`; re-exported here so
# that existing imports keep working.
from keras_svq.runs import CONFIG_FILE  # noqa: F401
from keras_svq.runs import MASKS_FILE  # noqa: F401
from keras_svq.runs import MODEL_FILE  # noqa: F401
from keras_svq.runs import RUN_FILE  # noqa: F401
from keras_svq.runs import RunLayout
from keras_svq.runs import default_weights  # noqa: F401
from keras_svq.runs import forecast_transform  # noqa: F401
from keras_svq.runs import load_run  # noqa: F401
from keras_svq.runs import normalizer_from_info  # noqa: F401
from keras_svq.training import config as config_lib
from keras_svq.training import data_fingerprint
from keras_svq.training.callbacks import BestCheckpoint
from keras_svq.training.callbacks import HistoryWriter
from keras_svq.training.callbacks import NaNGuard
from keras_svq.training.callbacks import ResumableEarlyStopping
from keras_svq.training.callbacks import RunBackup
from keras_svq.training.callbacks import load_weights_checked
from keras_svq.training.codebook_usage_callback import CodebookUsageCallback
from keras_svq.training.codebook_usage_callback import find_sparse_vector_quantizers
from keras_svq.training.optimizers import get_loss
from keras_svq.training.optimizers import get_optimizer
from keras_svq.training.schedules import get_schedule
from keras_svq.training.step_variables import build_step_variables

logger = logging.getLogger(__name__)

# Set (to anything) to keep a non-chief worker's scratch folder after the run,
# e.g. to compare its weights with the chief's.
KEEP_WORKER_DIR = "KERAS_SVQ_KEEP_WORKER_DIR"


class RunFailed(Exception):
    """Training ran but did not succeed (e.g. the loss became NaN)."""


# ------------------------------------------------------------------ data


@dataclasses.dataclass
class DataBundle:
    """The splits, cropped as the config asks, with what the run must remember.

    `transform` maps raw windows to this model space and forecasts back
    (`ForecastTransform`: missing codes, masks, crop/coarsen/pad, normaliser);
    `coords` are the model grid's coordinates (possibly empty).
    """

    train: object
    val: object
    test: object
    normalizer: object
    info: object
    input_length: int
    output_length: int
    frame_shape: tuple
    crop: tuple | None
    transform: object = None
    coords: dict = dataclasses.field(default_factory=dict)
    _splits: object = None

    @property
    def splits(self):
        """The loader's `Splits` (uncropped), e.g. to fit baselines on."""
        return self._splits

    def arrays(self, split):
        x, y = self._splits.arrays(split)
        return crop_array(x, self.crop), crop_array(y, self.crop)


def crop_array(a, crop):
    """Keeps the top-left `crop = (H, W)` of `(..., H, W, C)` arrays."""
    if crop is None:
        return a
    h, w = crop
    return a[..., :h, :w, :]


def _crop_dataset(ds, crop):
    if crop is None:
        return ds
    h, w = crop
    return ds.map(lambda x, y: (x[..., :h, :w, :], y[..., :h, :w, :]))


def _call_loader(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except UserError:
        raise
    except FileNotFoundError as e:
        raise UserError(f"data: {e}") from None
    except (ValueError, KeyError, TypeError, ImportError) as e:
        message = " ".join(str(e).split())
        raise UserError(f"data: {message}") from None


def load_mask(path):
    """A validity mask (True = valid) from a `.npy` / `.npz` file (`data.mask`)."""
    from keras_svq.data import load_array

    path = pathlib.Path(path)
    if not path.exists():
        raise UserError(f"data.mask: file not found: {path}")
    mask = np.asarray(_call_loader(load_array, str(path), variable=None))
    if mask.dtype != bool:
        values = np.unique(mask[np.isfinite(mask)] if mask.dtype.kind == "f" else mask)
        if not set(values.tolist()) <= {0, 1}:
            raise UserError(
                f"data.mask {path} must be boolean or 0/1 (1 = valid pixel); it holds "
                f"{values.size} distinct values"
            )
        mask = mask == 1
    return mask


def _load_array_source(section, name):
    from keras_svq import data as data_lib

    variable = section.pop("variable", None)
    path = pathlib.Path(name)
    if not path.exists():
        raise UserError(f"data.array: file not found: {path}")
    if section.get("mask") is not None:
        section["mask"] = load_mask(section["mask"])
    array = _call_loader(data_lib.load_array, str(path), variable=variable)
    return _call_loader(data_lib.from_array, array, **section)


def build_data(config, *, data_dir=None):
    """Loads the data section of an experiment. `data_dir` overrides `data.data_dir`."""
    from keras_svq import data as data_lib
    from keras_svq.data.forecast_transform import ForecastTransform

    section = dict(config["data"])
    source = config_lib.data_source(section)
    name = section.pop(source)
    # `array` sources crop in `from_array` (rows/cols, coordinates); the
    # others keep the top-left `[H, W]` here.
    crop = None if source == "array" else section.pop("crop", None)
    crop = tuple(crop) if crop else None
    seed = config.get("training", {}).get("seed")
    if "seed" not in section and seed is not None:
        section["seed"] = seed
    if source == "sample":
        splits = _call_loader(data_lib.load_sample, name, **section)
    elif source == "dataset":
        if data_dir is not None:
            section["data_dir"] = str(data_dir)
        if not section.get("data_dir"):
            raise UserError(
                f"Dataset {name!r} needs --data-dir (the folder holding its files)"
            )
        if not pathlib.Path(section["data_dir"]).is_dir():
            raise UserError(f"Data directory not found: {section['data_dir']}")
        splits = _call_loader(data_lib.load_dataset, name, **section)
    else:
        splits = _load_array_source(section, name)
    train, val, test = splits[0], splits[1], splits[2]
    frame_shape = tuple(splits.frame_shape)
    coords = dict(getattr(splits, "coords", None) or {})
    if getattr(splits, "preprocessing", None) is not None:
        transform = splits.forecast_transform()
    else:
        transform = ForecastTransform(
            splits.normalizer, nan_policy=getattr(splits, "nan_policy", "raise")
        )
    if crop is not None:
        if crop[0] > frame_shape[0] or crop[1] > frame_shape[1]:
            raise UserError(
                f"data.crop {list(crop)} is larger than the frames {frame_shape[:2]}"
            )
        transform.preprocessing = data_lib.Preprocessing(
            crop=list(crop), input_shape=frame_shape[:2]
        )
        coords = transform.preprocessing.apply_coords(coords) if coords else coords
        frame_shape = (crop[0], crop[1]) + frame_shape[2:]
    return DataBundle(
        train=_crop_dataset(train, crop),
        val=_crop_dataset(val, crop),
        test=_crop_dataset(test, crop),
        normalizer=splits.normalizer,
        info=splits.info,
        input_length=splits.input_length,
        output_length=splits.output_length,
        frame_shape=frame_shape,
        crop=crop,
        transform=transform,
        coords=coords,
        _splits=splits,
    )


def _info_dict(info):
    if dataclasses.is_dataclass(info):
        return dataclasses.asdict(info)
    return dict(getattr(info, "__dict__", {}))


def _cardinality(ds):
    import tensorflow as tf

    n = int(ds.cardinality())
    if n == tf.data.INFINITE_CARDINALITY:
        raise UserError("The training split is infinite; set training.steps_per_epoch")
    if n < 0:  # unknown: count once
        n = sum(1 for _ in ds)
    return n


# ----------------------------------------------------------------- model


def build_model(config):
    cls = config_lib.get_backbone_class(config["backbone"])
    try:
        return cls.from_config(dict(config["model"]))
    except (TypeError, ValueError) as e:
        message = " ".join(str(e).split())
        raise UserError(f"model: {message}") from None


def set_precision(mixed_precision):
    if mixed_precision:
        import tensorflow as tf

        policy = (
            "mixed_float16"
            if tf.config.list_physical_devices("GPU")
            else "mixed_bfloat16"
        )
    else:
        policy = "float32"
    keras.config.set_dtype_policy(policy)


def seed_everything(seed, deterministic):
    import tensorflow as tf

    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()


# ------------------------------------------------------------ run folder


def _first_difference(a, b, prefix=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{prefix}{key}"
            found = _first_difference(a[key], b[key], f"{prefix}{key}.")
            if found:
                return found
        return None
    return None if a == b else prefix.rstrip(".") or "(root)"


def check_run_dir(layout, config):
    """Checks, without writing, that `layout.root` can hold this run. Returns True to resume."""
    root = layout.root
    if root.exists() and not root.is_dir():
        raise UserError(f"--output-dir {root} is a file")
    if not root.exists() or not any(p.name != LOCK_FILE for p in root.iterdir()):
        return False
    if not layout.config.exists():
        raise UserError(
            f"--output-dir {root} is not empty and holds no keras-svq run; choose another folder"
        )
    try:
        saved = config_lib.yaml_load(layout.config.read_text())
    except yaml.YAMLError:
        raise UserError(
            f"{layout.config} is corrupt; choose another --output-dir"
        ) from None
    normalized = config_lib.yaml_load(config_lib.dump_yaml(config))
    difference = _first_difference(saved, normalized)
    if difference:
        raise UserError(
            f"--output-dir {root} holds another run (its config differs at {difference}); choose another folder"
        )
    if layout.run.exists() and read_json(layout.run).get("status") == "finished":
        raise UserError(
            f"--output-dir {root} holds a finished run of this config; choose another folder"
        )
    return True


def is_finished_run(layout, config):
    """True when `layout` holds a finished run of exactly `config`.

    A finished run of another config is refused (a `UserError` naming the
    first differing key), so nothing is ever silently reused.
    """
    if not (layout.run.exists() and read_json(layout.run).get("status") == "finished"):
        return False
    saved = config_lib.load_yaml(layout.config)
    difference = _first_difference(
        saved, config_lib.yaml_load(config_lib.dump_yaml(config))
    )
    if difference:
        raise UserError(
            f"{layout.root} holds a different finished run (its config differs at "
            f"{difference}); choose another --output-dir"
        )
    return True


def train_or_reuse(config, output_dir, **kwargs):
    """Trains `config` into `output_dir` unless a finished run of it is there.

    An unfinished run resumes from its last checkpoint. Returns True when it
    trained, False when it reused a finished run.
    """
    if is_finished_run(RunLayout(output_dir), config):
        logger.info("reusing the finished run %s", output_dir)
        return False
    train(config, output_dir, **kwargs)
    return True


def _write_run_info(layout, **fields):
    info = read_json(layout.run) if layout.run.exists() else {}
    info.update(fields)
    atomic_write_json(layout.run, info)
    return info


def _add_log_file(layout):
    make_dirs(layout.logs)
    with os_errors(layout.logs / "train.log"):
        handler = logging.FileHandler(layout.logs / "train.log")
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.getLogger("keras_svq").addHandler(handler)
    return handler


# ------------------------------------------------------------------ train


def train(
    config,
    output_dir,
    *,
    data_dir=None,
    strategy=None,
    verbose=1,
    allow_data_change=False,
    training=None,
    callbacks=None,
    metrics=None,
):
    """Fits the experiment `config` (already resolved) into `output_dir`.

    The steps, each a function of this module: `seed_everything`,
    `set_precision`, `build_data`, `build_training_model`, `compile_model`,
    `open_run` / `record_start`, `make_callbacks`, `resume_state`,
    `fit_datasets`, `fit` and `finish_run`, all under the run folder's lock.

    Args:
        config: dict. A resolved experiment (`config.resolve`).
        output_dir: path. The run folder.
        data_dir: path or None. Folder of a full dataset's files.
        strategy: a `tf.distribute.Strategy`, or None for the default one.
        verbose: int. Keras progress-bar verbosity.
        allow_data_change: bool. Resume even though the data files or the
            fitted normaliser differ from those the run started with.
        training: `TrainingConfig` or None. `config["training"]` already
            built by the caller (so it is built once); None builds it here.
        callbacks: list of `keras.callbacks.Callback` or None. Added to the
            run's own, which run in this order: the SVQ codebook diagnostics,
            these callbacks, then `NaNGuard`, `BestCheckpoint`, early
            stopping, `HistoryWriter`, TensorBoard and `RunBackup` (last). So
            what they add to the epoch logs is written to `logs/history.csv`
            and TensorBoard. Their own state is not in the backup: a resumed
            run starts them afresh.
        metrics: list of metric names or `keras.metrics.Metric`s, or None.
            Compiled beside the loss, logged as `<name>` and `val_<name>`
            (e.g. `keras_svq.metrics.ForecastMSE(spatial_norm=True)` logs a
            per-element `mse`). Under a `strategy`, create metric objects in
            its `scope()`.

    Returns:
        dict: the run summary also stored in `run.json`.

    Raises:
        UserError: a mistake the user can fix (the folder is in use, holds
            another run, the data changed since the run started...).
        RunFailed: the loss or the weights became non-finite.
    """
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    if training is None:
        training = config_lib.training_config(config["training"])
    run_dir = pathlib.Path(output_dir)
    output_dir = _worker_output_dir(strategy, run_dir)
    is_chief = output_dir == run_dir
    layout = RunLayout(output_dir)
    if layout.root.exists() and not layout.root.is_dir():
        raise UserError(f"--output-dir {layout.root} is a file")
    # A non-chief worker locks its own scratch folder, never the chief's
    # run folder (both may be on one machine).
    lock = FolderLock.for_folder(
        layout.root,
        f"run folder {layout.root}",
        hint=", or choose another --output-dir",
    )
    with lock:
        remove_litter(layout.root, recursive=True)
        summary = _train_locked(
            config,
            layout,
            training=training,
            data_dir=data_dir,
            strategy=strategy,
            verbose=verbose,
            allow_data_change=allow_data_change,
            callbacks=callbacks,
            metrics=metrics,
        )
    if not is_chief and not os.environ.get(KEEP_WORKER_DIR):
        # Finished: the scratch copy has served its purpose.
        shutil.rmtree(layout.root, ignore_errors=True)
        try:
            layout.root.parent.rmdir()  # `keras-svq-workers`, when empty
        except OSError:
            pass
        summary = dict(summary, run_dir=str(run_dir))
    return summary


def _check_same_data(layout, fingerprint, allow_data_change):
    saved = (
        read_json(layout.run).get("data_fingerprint") if layout.run.exists() else None
    )
    changes = data_fingerprint.differences(saved, fingerprint) if saved else []
    if not changes:
        return
    what = "; ".join(changes)
    if not allow_data_change:
        raise UserError(
            f"the data changed since {layout.root} started ({what}); to start afresh "
            "choose another --output-dir (or delete this one), or pass "
            "--allow-data-change to resume on the new data"
        )
    logger.warning("resuming %s on changed data: %s", layout.root, what)


def _train_locked(
    config,
    layout,
    *,
    training,
    data_dir,
    strategy,
    verbose,
    allow_data_change,
    callbacks,
    metrics,
):
    from keras_svq.training.strategy import is_multi_worker

    if data_dir is not None and "dataset" in config["data"]:
        config = dict(
            config,
            data=dict(config["data"], data_dir=str(pathlib.Path(data_dir).resolve())),
        )
    resume = _check_run_dir(layout, config, strategy)
    # Everything a user can get wrong (data, model arguments) is checked
    # before the run folder is written, so a failed start leaves nothing behind.
    seed_everything(training.seed, training.deterministic)
    set_precision(training.mixed_precision)
    bundle = build_data(config)
    fingerprint = data_fingerprint.fingerprint(config["data"], bundle.normalizer)
    if resume:
        _check_same_data(layout, fingerprint, allow_data_change)
    model, fitted = build_training_model(config, training, bundle, strategy=strategy)
    steps = steps_per_epoch(bundle.train, training)
    compile_model(fitted, training, steps, metrics=metrics, strategy=strategy)
    handler = open_run(layout, config)
    try:
        record_start(layout, config, bundle, fingerprint, strategy)
        multi_worker = is_multi_worker(strategy)
        run_callbacks = make_callbacks(
            layout,
            training,
            model,
            bundle.val,
            multi_worker=multi_worker,
            extra=callbacks,
        )
        initial_epoch = resume_state(
            run_callbacks.backup,
            fitted,
            strategy,
            resume=resume,
            multi_worker=multi_worker,
        )
        if resume:
            logger.info("resuming %s at epoch %d", layout.root, initial_epoch)
        train_ds, val_ds = fit_datasets(
            bundle,
            training,
            steps,
            initial_epoch,
            # Scheduled sampling reads the future frames.
            pack=type(fitted).pack if fitted is not model else None,
        )
        build_step_variables(fitted, train_ds, strategy)
        elapsed = fit(
            fitted,
            train_ds,
            val_ds,
            layout=layout,
            epochs=training.epochs,
            steps=steps,
            initial_epoch=initial_epoch,
            callbacks=run_callbacks.callbacks,
            verbose=verbose,
        )
        return finish_run(
            layout,
            config,
            fitted,
            run_callbacks,
            epochs=training.epochs,
            initial_epoch=initial_epoch,
            elapsed=elapsed,
        )
    finally:
        logging.getLogger("keras_svq").removeHandler(handler)
        handler.close()


def build_training_model(config, training, bundle, *, strategy=None):
    """The backbone and what `fit` trains, in `strategy`'s scope.

    What `fit` trains, checkpoints and resumes is the backbone, or its
    scheduled-sampling wrapper (whose weights are the backbone's plus the
    sampling step); evaluation and export use the backbone.

    Returns:
        `(model, fitted)`: the backbone and the model to fit (the same object
        without scheduled sampling).

    Raises:
        UserError: the model's arguments are wrong or its input shape does
            not match the data's.
    """
    with _scope(strategy), remat_lib.remat_scope(training.remat_layers):
        model = build_model(config)
        try:
            remat_lib.check_remat_layers(model, training.remat_layers)
        except ValueError as error:
            raise UserError(f"training.remat_layers: {error}") from None
        if hasattr(model, "set_output_normalization"):
            # Physical bounds (`model.output_constraint`, `model.clip`) in model space.
            model.set_output_normalization(
                bundle.normalizer.mean, bundle.normalizer.std
            )
        fitted = _fitted_model(model, training.scheduled_sampling)
    _check_shapes(model, bundle)
    return model, fitted


def steps_per_epoch(train_ds, training):
    """Training steps per epoch: the split's batches, capped by `training.steps_per_epoch`."""
    steps = _cardinality(train_ds)
    if training.steps_per_epoch:
        steps = min(steps, training.steps_per_epoch)
    if steps < 1:
        raise UserError(
            "The training split has no complete batch; lower data.batch_size"
        )
    return steps


def compile_model(model, training, steps, *, metrics=None, strategy=None):
    """Compiles `model` with the configured optimizer, schedule and masked loss.

    Args:
        model: the `keras.Model` to fit.
        training: `TrainingConfig`.
        steps: int. Steps per epoch (the learning-rate schedule's unit).
        metrics: list of metric names or `keras.metrics.Metric`s, or None.
        strategy: a `tf.distribute.Strategy` whose scope holds the optimizer
            and metric variables, or None.
    """
    with _scope(strategy):
        model.compile(
            optimizer=get_optimizer(training, get_schedule(training, steps)),
            loss=get_loss(training),
            metrics=list(metrics) if metrics else None,
            jit_compile=training.jit_compile,
        )
    return model


def open_run(layout, config):
    """Writes the resolved config into the run folder and starts `logs/train.log`.

    Returns the log handler, which the caller removes when the run ends.
    """
    make_dirs(layout.root)
    # The config first: a folder with anything else in it but no config
    # would read as "not a keras-svq run" after a kill.
    atomic_write_text(layout.config, config_lib.dump_yaml(config))
    return _add_log_file(layout)


def record_start(layout, config, bundle, fingerprint, strategy):
    """Writes `run.json` (status "running", versions, data facts) and the masks."""
    import tensorflow as tf

    from keras_svq.version import __version__

    _write_run_info(
        layout,
        status="running",
        keras_svq_version=__version__,
        keras_version=keras.__version__,
        tensorflow_version=tf.__version__,
        backbone=config["backbone"],
        normalizer=bundle.normalizer.get_config(),
        data_fingerprint=fingerprint,
        dataset=_info_dict(bundle.info),
        input_shape=[bundle.input_length, *bundle.frame_shape],
        output_shape=[bundle.output_length, *bundle.frame_shape],
        crop=list(bundle.crop) if bundle.crop else None,
        forecast_transform=bundle.transform.get_config(),
        coords=_coords_json(bundle.coords),
        replicas=strategy.num_replicas_in_sync,
    )
    masks = bundle.transform.masks()
    if masks:
        atomic_save_npz(layout.masks, **masks)


@dataclasses.dataclass
class RunCallbacks:
    """The callbacks of a run: `callbacks` in the order `fit` runs them, and
    the ones the trainer reads afterwards by name."""

    callbacks: list
    nan_guard: NaNGuard
    best: BestCheckpoint
    history: HistoryWriter
    backup: RunBackup
    early_stopping: ResumableEarlyStopping | None = None
    tensorboard: keras.callbacks.Callback | None = None


def make_callbacks(
    layout, training, model, val_ds=None, *, multi_worker=False, extra=None
):
    """The run's callbacks for `training` (a `TrainingConfig`).

    In order: `CodebookUsageCallback` (when `training.codebook_diagnostics`
    and `model` has an SVQ; it probes 8 examples of `val_ds`), the `extra`
    (user) callbacks, `NaNGuard`, `BestCheckpoint`, `ResumableEarlyStopping`
    (when `training.patience`), `HistoryWriter`, Keras' `TensorBoard` (when
    the `tensorboard` package is installed) and `RunBackup`, last so that it
    records the others' updated state. `multi_worker` makes the backup keep
    the previous epoch too (see `_agree_on_epoch`).

    Returns:
        `RunCallbacks`.
    """
    nan_guard = NaNGuard()
    best = BestCheckpoint(layout.best, guard=nan_guard)
    history = HistoryWriter(layout.logs)
    stateful = [best, history]
    callbacks = []
    if training.codebook_diagnostics and find_sparse_vector_quantizers(model):
        if val_ds is None:
            raise ValueError(
                "The codebook diagnostics need `val_ds` to probe. Received: val_ds=None"
            )
        x_probe = next(iter(val_ds.take(1)))[0]
        callbacks.append(CodebookUsageCallback(np.asarray(x_probe)[:8]))
    callbacks += list(extra or [])
    callbacks += [nan_guard, best]
    stopper = None
    if training.patience:
        stopper = ResumableEarlyStopping(training.patience)
        stateful.append(stopper)
        callbacks.append(stopper)
    callbacks.append(history)
    tensorboard = _tensorboard(layout)
    if tensorboard is not None:
        callbacks.append(tensorboard)
    backup = RunBackup(
        layout.backup,
        stateful=stateful,
        guard=nan_guard,
        keep_previous=multi_worker,
    )
    callbacks.append(backup)
    return RunCallbacks(
        callbacks=callbacks,
        nan_guard=nan_guard,
        best=best,
        history=history,
        backup=backup,
        early_stopping=stopper,
        tensorboard=tensorboard,
    )


def resume_state(backup, model, strategy, *, resume, multi_worker=False):
    """Restores `model` (weights, optimizer, callbacks' state) from `backup`.

    Returns the epoch to start at: 0 for a fresh run. Under multi-worker
    training every worker must call it (the epoch is agreed collectively).
    """
    # In the scope: restoring may build the optimizer's variables.
    with _scope(strategy):
        if multi_worker:
            epoch = _agree_on_epoch(strategy, backup.epochs() if resume else [])
            return backup.restore(model, epoch=epoch)
        return backup.restore(model) if resume else 0


def fit_datasets(bundle, training, steps, initial_epoch=0, *, pack=None):
    """The training and validation datasets `fit` reads.

    The data order of epoch e must not depend on whether the process was
    restarted: one repetition of the (seeded, reshuffling) split per epoch,
    and a resumed run skips the epochs already done. `pack` maps `(x, y)`
    batches to what the fitted model reads (scheduled sampling). The
    validation split is capped by `training.validation_steps`; both have a
    known cardinality.
    """
    import tensorflow as tf

    train_ds = bundle.train.take(steps).repeat()
    if initial_epoch:
        train_ds = train_ds.skip(initial_epoch * steps)
    if pack is not None:
        train_ds = train_ds.map(pack)
    val_ds = bundle.val
    if training.validation_steps:
        val_ds = val_ds.take(training.validation_steps)
    # A known length keeps Keras from warning that validation "ran out of data".
    val_ds = val_ds.apply(tf.data.experimental.assert_cardinality(_cardinality(val_ds)))
    return train_ds, val_ds


def fit(
    model,
    train_ds,
    val_ds,
    *,
    layout,
    epochs,
    steps,
    initial_epoch,
    callbacks,
    verbose=1,
):
    """Runs `model.fit` from `initial_epoch` to `epochs`; returns the seconds it took.

    A crash other than a `UserError` is recorded in `run.json` (status
    "failed", which would otherwise read "running" forever) and re-raised;
    the same command resumes from the backup.
    """
    started = time.time()
    if initial_epoch >= epochs:
        return 0.0
    try:
        model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=epochs,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps,
            callbacks=callbacks,
            shuffle=False,  # the data pipeline shuffles, seeded per epoch
            verbose=verbose,
        )
    except UserError:  # e.g. a full disk: resumable, the run goes on
        raise
    except Exception as e:
        # E.g. a multi-worker peer lost.
        _record_crash(layout, e)
        raise
    return time.time() - started


def finish_run(layout, config, model, run_callbacks, *, epochs, initial_epoch, elapsed):
    """Ends a run: reports a NaN stop, or saves the final weights and `model.keras`.

    Raises:
        RunFailed: `NaNGuard` stopped training (`run.json` says where, and the
            message says which weights were kept).

    Returns:
        dict: the summary written to `run.json`, with `run_dir`.
    """
    history, best = run_callbacks.history, run_callbacks.best
    epochs_done = history.rows[-1]["epoch"] if history.rows else initial_epoch
    _raise_if_nan(layout, run_callbacks.nan_guard)
    atomic_save_weights(model, layout.final)
    if not layout.best.exists():  # no validation value was ever finite
        atomic_save_weights(model, layout.best)
    save_keras_model(layout, config)
    summary = {
        "status": "finished",
        "epochs_completed": epochs_done,
        "best_val_loss": None if math.isinf(best.best) else best.best,
        "best_epoch": best.best_epoch,
        "train_seconds": round(elapsed, 2),
        "stopped_early": epochs_done < epochs,
    }
    _write_run_info(layout, **summary)
    shutil.rmtree(layout.backup, ignore_errors=True)
    logger.info("run finished: %s", layout.root)
    return dict(summary, run_dir=str(layout.root))


def _raise_if_nan(layout, nan_guard):
    if nan_guard.fired_at is None:
        return
    epoch, batch = nan_guard.fired_at
    where = (
        f"in epoch {epoch}, batch {batch}"
        if batch is not None
        else f"by the end of epoch {epoch}"
    )
    _write_run_info(
        layout,
        status="failed",
        reason=f"the loss or the weights became NaN/Inf {where}",
        failed_epoch=epoch,
        failed_batch=batch,
    )
    if layout.best.exists():
        kept = f"the best weights so far are in {layout.best}"
    elif (layout.backup / RunBackup.STATE).exists():
        kept = f"the last good state is in {layout.backup}"
    else:
        kept = "no finite weights were saved (lower training.learning_rate)"
    raise RunFailed(
        f"training stopped: the loss or the weights became NaN/Inf {where}; {kept}"
    )


def _scope(strategy):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def worker_scratch_dir(output_dir, task_type, task_id):
    """The folder a non-chief worker writes instead of the run folder.

    `$TMPDIR/keras-svq-workers/<run name>-<hash of its absolute path>-<task>`:
    the same for every restart of the same command (the worker's backup lives
    there), removed when the run finishes.
    """
    output_dir = pathlib.Path(output_dir).absolute()
    digest = hashlib.sha256(str(output_dir).encode()).hexdigest()[:12]
    return (
        pathlib.Path(tempfile.gettempdir())
        / "keras-svq-workers"
        / f"{output_dir.name}-{digest}-{task_type}-{task_id}"
    )


def _worker_output_dir(strategy, output_dir):
    """Under multi-worker training every worker runs every callback (reading
    metric variables and saving are collective, and the callbacks decide
    when to stop), but only the chief writes the run folder; the others
    write their scratch folder (`worker_scratch_dir`)."""
    from keras_svq.training.strategy import worker_task

    task_type, task_id, is_chief = worker_task(strategy)
    if is_chief:
        return pathlib.Path(output_dir)
    return worker_scratch_dir(output_dir, task_type, task_id)


def _check_run_dir(layout, config, strategy):
    """`check_run_dir`; a non-chief worker's stale scratch folder is emptied."""
    from keras_svq.training.strategy import worker_task

    try:
        return check_run_dir(layout, config)
    except UserError as e:
        if worker_task(strategy)[2] or not layout.root.is_dir():
            raise
        logger.info("emptying the worker scratch folder %s (%s)", layout.root, e)
        for path in layout.root.iterdir():
            if path.name != LOCK_FILE:
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink()
        return False


def _agree_on_epoch(strategy, epochs):
    """The epoch every worker resumes at (collective: all workers call it).

    `epochs` are those this worker's backup holds, newest first. Workers can
    be one epoch apart (one was killed between two workers' saves): all go
    back to the oldest newest epoch, which each still holds (`keep_previous`).
    A worker that lost its backup (a replaced machine) restarts the job at 0.
    """
    import tensorflow as tf

    own = [float(e) for e in (epochs + [0, -1])[:2]]
    table = strategy.gather(
        strategy.run(lambda: tf.constant([own], tf.float32)), axis=0
    )
    table = np.asarray(table).astype(int)
    epoch = int(table[:, 0].min())
    if epoch and not all(epoch in row for row in table.tolist()):
        epoch = 0
    if epoch < int(table[:, 0].max()):
        logger.warning(
            "the workers' backups hold epochs %s; all resume at epoch %d",
            sorted(set(table[:, 0].tolist())),
            epoch,
        )
    return epoch


def _record_crash(layout, error):
    reason = " ".join(str(error).split())[:300]
    try:
        _write_run_info(
            layout, status="failed", reason=f"{type(error).__name__}: {reason}"
        )
    except Exception:  # noqa: BLE001 - the original error matters more
        logger.exception("could not record the failure in %s", layout.run)


def _check_shapes(model, bundle):
    expected = (bundle.input_length, *bundle.frame_shape)
    got = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    if got is not None and tuple(got) != tuple(expected):
        raise UserError(
            f"The model expects inputs {got} but the data give {expected} (after "
            "data.crop / coarsen / pad_to_multiple); make model.input_length/height/"
            "width/channels match the data section"
        )


def _coords_json(coords):
    """The grid coordinates (not time) as lists, for run.json and the plots."""
    return {
        key: np.asarray(value, "float64").tolist()
        for key, value in (coords or {}).items()
        if key in ("lat", "lon", "y", "x")
    }


def _tensorboard(layout):
    """Keras' `TensorBoard` callback writing `RUN/logs/tensorboard`.

    None without the `tensorboard` package (TensorFlow does not require it),
    with one warning per process that says how to enable it.
    """
    if importlib.util.find_spec("tensorboard") is None:
        _warn_no_tensorboard()
        return None
    return keras.callbacks.TensorBoard(str(layout.logs / "tensorboard"))


@functools.cache
def _warn_no_tensorboard():
    logger.warning(
        "TensorBoard logs are off: the tensorboard package is not installed; "
        "`pip install 'keras-svq[tensorboard]'` (or `pip install tensorboard`) "
        "writes them to RUN/logs/tensorboard"
    )


# ------------------------------------------------------------- reloading


def _fitted_model(model, scheduled_sampling):
    """What `fit` trains: the backbone chooses (its scheduled-sampling wrapper or itself)."""
    return model.training_model(scheduled_sampling)


def load_trained_model(config, weights):
    """The trained backbone of a run, from a checkpoint written by `train`."""
    keras.config.set_dtype_policy("float32")
    model = build_model(config)
    scheduled_sampling = config_lib.training_config(
        config["training"]
    ).scheduled_sampling
    load_weights_checked(_fitted_model(model, scheduled_sampling), weights)
    return model


def save_keras_model(layout, config):
    """Writes `model.keras`: the backbone with the run's best weights.

    Rebuilt from the config rather than saved from the fitted model, so the
    file holds the backbone alone (no scheduled-sampling wrapper, no
    optimizer state) at float32, as `predict` and `export` use it.
    """
    from keras_svq.io_utils import atomic_path

    model = load_trained_model(config, layout.best)
    with atomic_path(layout.model_file, suffix=".keras") as tmp:
        model.save(tmp)
