"""`keras_svq.runtime.configure()` for the benchmarks, before anything imports Keras.

`import keras_svq` in a library user's process imports Keras, and with it
TensorFlow (and JAX, when installed); the runtime settings must come first.
This loads `keras_svq/runtime.py` by its path, without the package, applies
`configure()` and returns what it applied. (The `keras-svq` command's own
process imports the package lazily and can call `keras_svq.runtime` directly.)
"""

import importlib.util
import pathlib

RUNTIME = pathlib.Path(__file__).resolve().parents[1] / "keras_svq" / "runtime.py"


def configure(**kwargs):
    spec = importlib.util.spec_from_file_location("_keras_svq_runtime_early", RUNTIME)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.configure(**kwargs)


def keep_mix_mlp_hidden(model):
    """Turns `MixMLP.recompute_hidden` off in `model`: the layer as before it
    recomputed its hidden tensors (for side-by-side timings and memory)."""
    from keras_svq.layers.mix_mlp import MixMLP

    for layer in model._flatten_layers():
        if isinstance(layer, MixMLP):
            layer.recompute_hidden = False
