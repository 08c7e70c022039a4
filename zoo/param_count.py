"""Parameter counts as PyTorch reports them, for comparison with the reference."""

import math

import keras

# Variables that PyTorch keeps as buffers, not parameters.
_BUFFER_NAMES = ("moving_mean", "moving_variance")


def _torch_buffer_ids(model):
    ids = set()
    for layer in model._flatten_layers(include_self=True, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            ids.update(id(v) for v in (layer.moving_mean, layer.moving_variance))
        # Layers with other buffers (EMA codebooks...) can list them here.
        for variable in getattr(layer, "torch_buffer_variables", ()):
            ids.add(id(variable))
    return ids


def count_torch_params(model, trainable_only=False):
    """`sum(p.numel() for p in torch_model.parameters())` for a Keras model.

    Keras' `count_params()` counts every weight, including BatchNorm moving
    statistics, which PyTorch keeps as buffers and does not count. This
    function counts what PyTorch counts: every weight except BatchNorm's
    `moving_mean`/`moving_variance` (and variables a layer lists in
    `torch_buffer_variables`). Frozen weights, such as a frozen SVQ codebook,
    are parameters in PyTorch (with `requires_grad=False`) and are counted.

    Args:
        model: a built Keras layer or model.
        trainable_only: bool. Count only trainable weights (PyTorch's
            `requires_grad` parameters). Defaults to False.

    Returns:
        int.

    Example:

    ```python
    model = SimVPBackbone(12, 12, 32, 64, 1, 32, 256, 2, 8)
    count_torch_params(model)  # 12,758,305, as the official code
    ```
    """
    buffers = _torch_buffer_ids(model)
    weights = model.trainable_weights if trainable_only else model.weights
    return sum(math.prod(w.shape) for w in weights if id(w) not in buffers)
