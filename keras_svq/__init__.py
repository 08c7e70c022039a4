"""keras-svq: spatio-temporal forecasting with Sparse Vector Quantization in Keras 3.

What `import keras_svq` imports:

- In a library user's process, Keras, `keras_svq.layers`,
  `keras_svq.quantizers`, `keras_svq.initializers`, `keras_svq.optimizers`
  and the model zoo (`zoo`), whose classes register for deserialisation: a
  `.keras` file of a backbone loads with `keras.saving.load_model` after
  `import keras_svq` alone. The subpackages that need TensorFlow (tf.data pipelines, SavedModel
  export) or matplotlib (`data`, `metrics`, `training`, `export`, `viz`)
  load on first use, so the package works on the JAX and torch backends.
  Before Keras loads, `TF_ENABLE_ONEDNN_OPTS=1` is set unless the variable
  is set already or TensorFlow is imported (`keras_svq.runtime`): on CPUs
  without AVX-512 TensorFlow would otherwise run Eigen's kernels, at about
  half the speed.
- In the `keras-svq` command's own process, only this file and
  `keras_svq.version`: the command's parser and `keras-svq presets` need no
  Keras, and TensorFlow must not load before the command has silenced its
  logging. `keras_svq.cli` calls `complete_import()` before running a command
  that needs Keras, and touching `keras_svq.layers` (etc.) completes it too.
  The process is the command's when `sys.argv[0]` is the `keras-svq` console
  script, or when Python runs `python -m keras_svq` (it imports this package
  while `sys.argv[0]` is still "-m"; `sys.orig_argv` names the module).
  Everything else, `python -m keras_svq.something` and programs that import
  `keras_svq.cli` included, gets the full import.

Reference: Chen et al., "Does Vector Quantization Fail in Spatio-Temporal
Forecasting? Exploring a Differentiable Sparse Soft-Vector Quantization
Approach", arXiv:2312.03406.
"""

import importlib
import os
import re
import sys

from keras_svq.version import __version__

# Subpackages that import TensorFlow or matplotlib load on first use.
_LAZY_SUBPACKAGES = (
    "data",
    "metrics",
    "training",
    "export",
    "viz",
    "cli",
    "commands",
    "runs",
)
# What the full import binds; in the command's process, on first use.
_LIBRARY_NAMES = (
    "initializers",
    "layers",
    "optimizers",
    "quantizers",
    "SparseVectorQuantizer",
)


def _is_command_process():
    """True when this process runs the `keras-svq` command itself."""
    argv0 = sys.argv[0] if sys.argv else ""
    # Console scripts are `keras-svq`, or `keras-svq.exe`/`-script.py` on Windows.
    if re.sub(r"(\.exe|-script\.pyw?)$", "", os.path.basename(argv0)) == "keras-svq":
        return True
    if argv0 != "-m":
        return False
    for i, arg in enumerate(getattr(sys, "orig_argv", ())):
        if arg.startswith("-m"):  # the interpreter's -m comes before the module's args
            module = arg[2:] or (sys.orig_argv[i + 1 : i + 2] or [""])[0]
            return module == "keras_svq"
    return False


def complete_import():
    """Imports Keras, the layers and quantizers, and registers the zoo.

    What `import keras_svq` does outside the `keras-svq` command's process;
    idempotent. Keras looks registered classes up by name
    (`keras_svq>SimVPBackbone`) and imports only its own modules, so the zoo
    is imported here for `.keras` files of backbones to load.
    """
    # import_module, not `from keras_svq import ...`: that would look the
    # names up through this module's `__getattr__` first.
    # TensorFlow's oneDNN kernels, unless the user chose (see keras_svq.runtime).
    importlib.import_module("keras_svq.runtime").configure_onednn()
    modules = {
        name: importlib.import_module(f"keras_svq.{name}")
        for name in ("initializers", "layers", "optimizers", "quantizers")
    }
    globals().update(
        modules, SparseVectorQuantizer=modules["quantizers"].SparseVectorQuantizer
    )
    importlib.import_module("zoo")


if not _is_command_process():
    complete_import()


def __getattr__(name):
    if name in _LIBRARY_NAMES:
        complete_import()
        return globals()[name]
    if name in _LAZY_SUBPACKAGES:
        module = importlib.import_module(f"keras_svq.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'keras_svq' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBPACKAGES) | set(_LIBRARY_NAMES))
