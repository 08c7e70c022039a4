"""`tf.distribute` strategy selection by name."""

import json
import logging
import os

import keras
import tensorflow as tf

from keras_svq.io_utils import UserError
from keras_svq.training import multi_worker_patch

logger = logging.getLogger(__name__)


def _default():
    return tf.distribute.get_strategy()


def _mirrored():
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        return tf.distribute.MirroredStrategy([d.name for d in gpus])
    # No GPU: replicate over the logical CPUs (one unless the CPU was split,
    # e.g. with `--cpu-devices 2`), which is how the CPU tests exercise it.
    cpus = tf.config.list_logical_devices("CPU")
    return tf.distribute.MirroredStrategy([d.name for d in cpus])


def _multi_worker():
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        raise UserError(
            "--strategy multi-worker needs the TF_CONFIG environment variable"
        )
    try:
        json.loads(raw)
    except json.JSONDecodeError:
        raise UserError("TF_CONFIG is not valid JSON") from None
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    # Keras 3's `fit` fails under this strategy without it (see the module).
    multi_worker_patch.apply()
    return strategy


STRATEGIES = {"default": _default, "mirrored": _mirrored, "multi-worker": _multi_worker}


def get_strategy(name=None):
    """`name` in STRATEGIES, or None: mirrored when several GPUs are visible."""
    if name is None:
        name = (
            "mirrored" if len(tf.config.list_physical_devices("GPU")) > 1 else "default"
        )
    if name not in STRATEGIES:
        raise UserError(f"Unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
    backend = keras.backend.backend()
    if name != "default" and backend != "tensorflow":
        raise UserError(
            f"--strategy {name} uses tf.distribute, which needs the TensorFlow "
            f"backend (this run uses {backend}); use --backend tensorflow or the "
            "default strategy"
        )
    strategy = STRATEGIES[name]()
    logger.info("strategy %s with %d replica(s)", name, strategy.num_replicas_in_sync)
    return strategy


def is_multi_worker(strategy):
    """True for a `MultiWorkerMirroredStrategy` spanning several workers."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and bool(
        strategy.extended._in_multi_worker_mode()
    )


def worker_task(strategy):
    """`(task_type, task_id, is_chief)` of this process in a multi-worker job.

    The chief is the task of type "chief", or worker 0 when the cluster has
    no "chief" task (TensorFlow's rule). A single process is its own chief.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    task_id = getattr(resolver, "task_id", None) or 0
    if task_type is None:
        return None, 0, True
    cluster = resolver.cluster_spec().as_dict() or {}
    is_chief = task_type == "chief" or (
        task_type == "worker" and task_id == 0 and "chief" not in cluster
    )
    return task_type, task_id, is_chief


def split_cpu(count):
    """Splits the CPU into `count` logical devices; call before TF starts."""
    if count and count > 1:
        cpus = tf.config.list_physical_devices("CPU")
        try:
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration()] * count
            )
        except RuntimeError:  # already initialised (e.g. inside the test process)
            pass
