"""keras-svq: spatio-temporal forecasting with Sparse Vector Quantization in Keras 3.

Reference: Chen et al., "Does Vector Quantization Fail in Spatio-Temporal
Forecasting? Exploring a Differentiable Sparse Soft-Vector Quantization
Approach", arXiv:2312.03406.
"""

import importlib

from keras_svq import initializers
from keras_svq import layers
from keras_svq import quantizers
from keras_svq.quantizers import SparseVectorQuantizer
from keras_svq.version import __version__

# Subpackages that import TensorFlow (tf.data pipelines, SavedModel export) or
# matplotlib load on first use, so `import keras_svq` stays light and works on
# the JAX and torch backends without TensorFlow.
_LAZY_SUBPACKAGES = ("data", "metrics", "training", "export", "viz", "cli")


def _register_zoo():
    """Imports the model zoo, which registers its classes for deserialisation.

    Keras looks registered classes up by name (`keras_svq>SimVPBackbone`) and
    imports only its own modules, so a `.keras` file of a backbone loads
    after `import keras_svq` alone. `zoo` holds no TensorFlow-only code and
    adds about 0.2 s.
    """
    importlib.import_module("zoo")


_register_zoo()


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        module = importlib.import_module(f"keras_svq.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'keras_svq' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBPACKAGES))
