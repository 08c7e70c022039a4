"""Callbacks of a training run: atomic checkpoints, resumable state, logs.

A run can be killed at any instant (SIGKILL, pre-emption) and restarted with
the same command. What makes that safe:

- every file is written to a temporary name and renamed (`keras_svq.io_utils`);
- `RunBackup` saves the whole training state (model and optimizer weights,
  the epoch, the history, the best validation loss, early-stopping counters)
  at each epoch end, and the trainer restores it before `fit`, so a restarted
  run replays the interrupted epoch exactly (the data order of epoch `e` is a
  function of the seed and `e` only, see `trainer.py`);
- a non-finite loss or non-finite weights never reach a checkpoint or the
  backup (`NaNGuard` checks both; the checkpointing callbacks ask it);
- every weights file has a `.sha256` sidecar, verified with the weights'
  finiteness whenever a checkpoint is loaded (`load_weights_checked`).
"""

import csv
import io
import json
import logging
import math
import pathlib

import keras
import numpy as np

from keras_svq.io_utils import UserError
from keras_svq.io_utils import atomic_save_weights
from keras_svq.io_utils import atomic_write_json
from keras_svq.io_utils import atomic_write_text
from keras_svq.io_utils import remove_with_checksum
from keras_svq.io_utils import verify_checksum

logger = logging.getLogger(__name__)


def _finite(logs, key="loss"):
    value = (logs or {}).get(key)
    return value is None or math.isfinite(float(value))


def non_finite_weights(model):
    """`(count, variable path)` of the first variable holding NaN/Inf, or None."""
    for variable in model.weights:
        value = np.asarray(keras.ops.convert_to_numpy(variable))
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            return int((~np.isfinite(value)).sum()), variable.path
    return None


def load_weights_checked(model, path):
    """`model.load_weights`, refusing a damaged file with one line naming it.

    Checks the file's `.sha256` sidecar (bit-rot), that it loads, and that
    every weight is finite.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise UserError(f"Checkpoint not found: {path}")
    verify_checksum(path)
    try:
        model.load_weights(str(path))
    except Exception as e:  # h5py/Keras raise many types for a damaged file
        reason = " ".join(str(e).split())[:200]
        raise UserError(
            f"Checkpoint {path} is corrupt or does not match the model ({type(e).__name__}: {reason})"
        ) from None
    bad = non_finite_weights(model)
    if bad is not None:
        raise UserError(
            f"Checkpoint {path} holds {bad[0]} NaN/Inf weight value(s) (first in "
            f"{bad[1]}), so every forecast would be NaN; use another checkpoint"
        )


def _random_state_variables(model):
    """Seed-generator states (DropPath, Dropout...), in model order.

    They are not part of `save_weights`, yet advance at every training step
    that draws random numbers, so a resumed run must restore them to replay
    the same draws. Matched by position: auto-generated names may differ
    between processes.
    """
    return [v for v in model.variables if "seed_generator_state" in v.path]


def _get_random_state(model):
    return [
        np.asarray(keras.ops.convert_to_numpy(v)).tolist()
        for v in _random_state_variables(model)
    ]


def _set_random_state(model, state):
    variables = _random_state_variables(model)
    if len(state) != len(variables):
        logger.warning(
            "backup has %d random states, the model %d; not restored",
            len(state),
            len(variables),
        )
        return
    for variable, value in zip(variables, state):
        variable.assign(np.asarray(value, dtype=variable.dtype))


class RunBackup(keras.callbacks.BackupAndRestore):
    """`BackupAndRestore` with atomic files and the state of the other callbacks.

    Keras' own callback writes `latest.weights.h5` and its metadata in place
    (a kill during the write leaves a corrupt pair) and, resumed from a
    mid-epoch save, restarts that epoch from mid-epoch weights. Here the
    state is saved at epoch ends only, each save is a new weights file plus a
    `state.json` renamed into place last (the commit point), so the backup on
    disk is always one consistent epoch boundary.

    Args:
        backup_dir: str. Folder of the backup.
        stateful: list of objects with `get_state()`/`set_state(dict)` and a
            `state_key` (the other callbacks), saved along.
        keep_previous: bool. Also keep the epoch before the last (multi-worker
            training: a worker killed between two workers' saves leaves
            backups one epoch apart, and the job resumes at the older one).
            Defaults to False.
    """

    STATE = "state.json"

    def __init__(self, backup_dir, stateful=(), guard=None, keep_previous=False):
        super().__init__(str(backup_dir), save_freq="epoch", delete_checkpoint=False)
        self.backup_path = pathlib.Path(backup_dir)
        self.stateful = list(stateful)
        self.guard = guard
        self.keep_previous = keep_previous

    # Restoring happens in the trainer, before `fit`, so that the data
    # pipeline can be positioned at the resumed epoch.
    def on_train_begin(self, logs=None):
        pass

    def read_state(self):
        path = self.backup_path / self.STATE
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise UserError(
                f"Backup state {path} is corrupt; delete {self.backup_path} to restart the run"
            ) from None

    def epochs(self):
        """The epochs this backup can resume at, newest first (empty: none)."""
        state = self.read_state() or {}
        found = [state.get("epoch"), (state.get("previous") or {}).get("epoch")]
        return [int(e) for e in found if e is not None]

    def restore(self, model, epoch=None):
        """Loads a saved state; returns the epoch to resume at (0 if none).

        `epoch` chooses the state (the last or, with `keep_previous`, the one
        before; 0: none, a fresh start); None means the last.
        """
        state = self.read_state()
        if epoch is not None and state is not None and epoch != state["epoch"]:
            older = state.get("previous")
            if epoch == 0:  # a fresh start: the next saves must not mix with these
                (self.backup_path / self.STATE).unlink()
                for stale in (state, older or {}):
                    if stale.get("weights"):
                        remove_with_checksum(self.backup_path / stale["weights"])
                return 0
            if older is None or older.get("epoch") != epoch:
                raise UserError(
                    f"Backup {self.backup_path} holds no state of epoch {epoch}; "
                    f"delete {self.backup_path} to restart the run"
                )
            # The disk must say what was restored: the next save builds on it.
            atomic_write_json(self.backup_path / self.STATE, older)
            remove_with_checksum(self.backup_path / state["weights"])
            state = older
        if state is None:
            return 0
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        load_weights_checked(model, self.backup_path / state["weights"])
        _set_random_state(model, state.get("random_state", []))
        for obj in self.stateful:
            if obj.state_key in state.get("callbacks", {}):
                obj.set_state(state["callbacks"][obj.state_key])
        logger.info("resumed from %s at epoch %d", self.backup_path, state["epoch"])
        return int(state["epoch"])

    def on_epoch_end(self, epoch, logs=None):
        if not _finite(logs) or _fired(self.guard):
            logger.warning(
                "epoch %d ended with a non-finite loss or weights; backup not updated",
                epoch + 1,
            )
            return
        self.backup_path.mkdir(parents=True, exist_ok=True)
        previous = self.read_state()
        name = f"epoch-{epoch + 1:05d}.weights.h5"
        atomic_save_weights(self.model, self.backup_path / name)
        state = {
            "epoch": epoch + 1,
            "weights": name,
            "callbacks": {obj.state_key: obj.get_state() for obj in self.stateful},
            "random_state": _get_random_state(self.model),
        }
        dropped = previous
        if self.keep_previous and previous and previous.get("epoch") != epoch + 1:
            dropped = previous.pop("previous", None)
            state["previous"] = previous
        atomic_write_json(self.backup_path / self.STATE, state)
        if dropped and dropped.get("weights") not in (
            name,
            (state.get("previous") or {}).get("weights"),
        ):
            remove_with_checksum(self.backup_path / dropped["weights"])

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class BestCheckpoint(keras.callbacks.Callback):
    """Saves the weights with the lowest `monitor` value, atomically.

    Args:
        filepath: str. A `.weights.h5` path.
        monitor: str. A validation log key. Defaults to "val_loss".
    """

    state_key = "best_checkpoint"

    def __init__(self, filepath, monitor="val_loss", guard=None):
        super().__init__()
        self.filepath = pathlib.Path(filepath)
        self.monitor = monitor
        self.guard = guard
        self.best = math.inf
        self.best_epoch = None

    def get_state(self):
        return {
            "best": None if math.isinf(self.best) else self.best,
            "best_epoch": self.best_epoch,
        }

    def set_state(self, state):
        self.best = math.inf if state.get("best") is None else state["best"]
        self.best_epoch = state.get("best_epoch")

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.monitor)
        if (
            value is None
            or not _finite(logs)
            or not math.isfinite(float(value))
            or _fired(self.guard)
        ):
            return
        if float(value) < self.best:
            self.best = float(value)
            self.best_epoch = epoch + 1
            atomic_save_weights(self.model, self.filepath)
            logger.info(
                "epoch %d: %s improved to %.6g, saved %s",
                epoch + 1,
                self.monitor,
                value,
                self.filepath,
            )


class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` on the validation loss whose counters survive a restart."""

    state_key = "early_stopping"

    def __init__(self, patience, monitor="val_loss"):
        super().__init__(monitor=monitor, patience=patience, mode="min")
        self._pending_state = None

    def get_state(self):
        best = self.best
        return {
            "wait": int(self.wait),
            "best": None
            if best is None or not math.isfinite(float(best))
            else float(best),
            "best_epoch": int(self.best_epoch),
        }

    def set_state(self, state):
        self._pending_state = state

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._pending_state:
            self.wait = self._pending_state["wait"]
            if self._pending_state["best"] is not None:
                self.best = self._pending_state["best"]
            self.best_epoch = self._pending_state["best_epoch"]


class HistoryWriter(keras.callbacks.Callback):
    """Writes `history.csv` and `history.json` (all epochs so far) at each epoch end.

    Rewriting the whole file (atomically) rather than appending means a run
    resumed after a kill never holds a duplicated or half-written row.
    """

    state_key = "history"

    def __init__(self, log_dir):
        super().__init__()
        self.log_dir = pathlib.Path(log_dir)
        self.rows = []

    def get_state(self):
        return {"rows": self.rows}

    def set_state(self, state):
        self.rows = list(state.get("rows", []))

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1}
        for key, value in (logs or {}).items():
            try:
                row[key] = float(value)
            except (TypeError, ValueError):
                continue
        lr = getattr(self.model.optimizer, "learning_rate", None)
        if lr is not None and "learning_rate" not in row:
            try:
                row["learning_rate"] = float(keras.ops.convert_to_numpy(lr))
            except Exception:  # a schedule object; the step value is enough
                pass
        self.rows = [r for r in self.rows if r["epoch"] < epoch + 1] + [row]
        self.write()

    def write(self):
        self.log_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.log_dir / "history.json", self.rows)
        keys = []
        for row in self.rows:
            keys += [k for k in row if k not in keys]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=keys)
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.log_dir / "history.csv", buffer.getvalue())


def _fired(guard):
    return guard is not None and guard.fired_at is not None


class NaNGuard(keras.callbacks.TerminateOnNaN):
    """`TerminateOnNaN` that remembers where it fired, so the run can report it.

    Besides the loss of every batch, it checks the validation loss and the
    weights at each epoch end (a step can turn them NaN or huge while its own
    loss was still finite), before
    the checkpointing callbacks, which skip their save once it has fired.
    `fired_at` is `(epoch, batch)` (1-based; batch None: at the epoch end).
    """

    def __init__(self):
        super().__init__()
        self.fired_at = None
        self._epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.fired_at is None and (
            not _finite(logs)
            or not _finite(logs, "val_loss")
            or non_finite_weights(self.model) is not None
        ):
            self.fired_at = (epoch + 1, None)
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if (
            loss is not None
            and not math.isfinite(float(loss))
            and self.fired_at is None
        ):
            self.fired_at = (self._epoch, batch + 1)
        super().on_batch_end(batch, logs)
