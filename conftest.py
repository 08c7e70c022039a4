"""Session set-up shared by every test in the repository.

TensorFlow must be told to split the CPU into two logical devices before its
runtime starts, so that `tf.distribute.MirroredStrategy` tests can run on a
machine without GPUs. This has to happen at import time of the first conftest,
as has the choice of oneDNN kernels (`TF_ENABLE_ONEDNN_OPTS`).
Tests that read the shared folder (`keras_svq.testing.reference`) are skipped
when it is absent.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# What `import keras_svq` and the `keras-svq` command choose (keras_svq.runtime):
# the tests run TensorFlow's oneDNN kernels whatever the CPU's default.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import keras  # noqa: E402
import pytest  # noqa: E402

if keras.backend.backend() == "tensorflow":
    import tensorflow as tf

    _cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            _cpus[0], [tf.config.LogicalDeviceConfiguration()] * 2
        )
    except RuntimeError:  # the runtime was already initialised by a plugin
        pass

# After the device split: importing keras_svq must not start TF's runtime first.
from keras_svq.testing import reference  # noqa: E402

# A checkout without the shared folder (reference fixtures, sample data)
# skips the tests that read it, naming KERAS_SVQ_SHARED; a wrong
# KERAS_SVQ_SHARED still fails them.
reference.skip_tests_when_missing()


@pytest.fixture(autouse=True)
def _reset_keras_state():
    """Each test starts from float32, a fixed seed and a clean Keras session."""
    keras.config.set_dtype_policy("float32")
    keras.utils.set_random_seed(1337)
    yield
    keras.config.set_dtype_policy("float32")
    keras.backend.clear_session()


@pytest.fixture(autouse=True)
def _fresh_collective_keys():
    """Gives each test's `MirroredStrategy` its own collective keys.

    TensorFlow caches collective parameters per (group, instance) key for the
    life of the process and every new MirroredStrategy starts from the same
    keys, so a second strategy whose all-reduce has another shape fails with
    "Shape mismatch in the collective instance". TensorFlow's own tests move
    the key base between strategies (`_collective_key_base`); so do ours.
    """
    if keras.backend.backend() == "tensorflow":
        tf.distribute.MirroredStrategy._collective_key_base += 10_000
    yield
