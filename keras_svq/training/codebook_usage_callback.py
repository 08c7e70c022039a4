"""Logs SVQ codebook usage at the end of each epoch."""

import contextlib

import keras
import numpy as np

from keras_svq.quantizers.codebook_usage import codebook_usage
from keras_svq.quantizers.sparse_vector_quantizer import SparseVectorQuantizer


def find_sparse_vector_quantizers(model):
    """All `SparseVectorQuantizer` layers of a model, nested models included."""
    found = []

    def visit(layer):
        if isinstance(layer, SparseVectorQuantizer):
            found.append(layer)
        for child in getattr(layer, "_layers", None) or []:
            visit(child)

    visit(model)
    # A layer reused twice is reported once.
    unique = []
    for layer in found:
        if all(layer is not other for other in unique):
            unique.append(layer)
    return unique


@contextlib.contextmanager
def _capturing(layers):
    for layer in layers:
        layer._captured_inputs = []
    try:
        yield
    finally:
        for layer in layers:
            layer._captured_inputs = None


def quantizer_code_weights(model, inputs):
    """Code weights of every SVQ layer of `model` for a batch of model inputs.

    Runs the model once, eagerly and in inference mode, recording what each
    quantizer receives, then encodes it. The training step is untouched.

    Returns:
        dict mapping the quantizer's name to a numpy array `(N, K)`.
    """
    layers = find_sparse_vector_quantizers(model)
    with _capturing(layers):
        model(inputs, training=False)
        captured = {layer.name: list(layer._captured_inputs) for layer in layers}
    result = {}
    for layer in layers:
        weights = [
            keras.ops.convert_to_numpy(layer.encode(x)) for x in captured[layer.name]
        ]
        if weights:
            k = weights[0].shape[-1]
            result[layer.name] = np.concatenate([w.reshape(-1, k) for w in weights])
    return result


class CodebookUsageCallback(keras.callbacks.Callback):
    """Adds SVQ codebook-usage figures to the epoch logs, on a fixed batch.

    At the end of every `frequency`-th epoch the model is run once on `inputs`
    in inference mode; for each `SparseVectorQuantizer` inside it the
    callback logs `codebook_usage` figures as `<prefix><name>_<figure>` (for
    a single quantizer: `svq_perplexity_2`, `svq_perplexity_3`,
    `svq_near_zero_fraction`). Place it before `CSVLogger` and friends so
    they record these entries.

    Args:
        inputs: a batch of model inputs (numpy array or tensor).
        frequency: int. Log every `frequency` epochs. Defaults to 1.
        prefix: str. Prefix of the log keys. Defaults to "svq_".
        verbose: bool. Also print the figures. Defaults to False.

    Example:

    ```python
    model.fit(x, y, callbacks=[CodebookUsageCallback(x[:8])])
    ```
    """

    def __init__(self, inputs, frequency=1, prefix="svq_", verbose=False):
        super().__init__()
        if frequency < 1:
            raise ValueError(
                f"`frequency` must be >= 1. Received: frequency={frequency}"
            )
        self.inputs = inputs
        self.frequency = frequency
        self.prefix = prefix
        self.verbose = verbose
        self.history = []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.frequency:
            return
        per_layer = quantizer_code_weights(self.model, self.inputs)
        entry = {}
        for name, weights in per_layer.items():
            tag = "" if len(per_layer) == 1 else f"{name}_"
            for key, value in codebook_usage(weights).items():
                if key != "codebook_size":
                    entry[f"{self.prefix}{tag}{key}"] = value
        self.history.append({"epoch": epoch, **entry})
        if logs is not None:
            logs.update(entry)
        if self.verbose and entry:
            print(" - ".join(f"{k}: {v:.4g}" for k, v in entry.items()))
