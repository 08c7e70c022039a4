"""`tf.distribute` strategy selection by name."""

import json
import logging
import os

import keras
import tensorflow as tf

from keras_svq.io_utils import UserError

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
    return tf.distribute.MultiWorkerMirroredStrategy()


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
