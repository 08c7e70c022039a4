"""Quantizers by name, so configs and backbones never branch per class."""

import keras

from keras_svq.quantizers.base_quantizer import Quantizer
from keras_svq.quantizers.sparse_vector_quantizer import SparseVectorQuantizer

QUANTIZERS = {
    "svq": SparseVectorQuantizer,
    "sparse_vector_quantizer": SparseVectorQuantizer,
}


def register_quantizer(name, cls):
    """Makes `cls` available to `get_quantizer(name)` and to configs."""
    if not (isinstance(cls, type) and issubclass(cls, Quantizer)):
        raise ValueError(
            f"Only Quantizer subclasses can be registered. Received: cls={cls!r}"
        )
    QUANTIZERS[name] = cls
    return cls


def get_quantizer(identifier, **overrides):
    """Resolves a quantizer from None, a name, a config dict or a layer.

    Args:
        identifier: None (no quantizer), a registered name such as `"svq"`, a
            dict `{"name": "svq", ...kwargs}` or `{"class_name": ..., "config":
            ...}` (a serialized layer), or a `Quantizer` instance (returned
            unchanged).
        **overrides: constructor arguments applied on top of the identifier's
            (ignored for an instance).

    Returns:
        A `Quantizer` layer, or None.
    """
    if identifier is None:
        return None
    if isinstance(identifier, keras.layers.Layer):
        return identifier
    if isinstance(identifier, str):
        return _lookup(identifier)(**overrides)
    if isinstance(identifier, dict):
        if "class_name" in identifier:
            layer = keras.saving.deserialize_keras_object(identifier)
            if overrides:
                layer = layer.__class__.from_config({**layer.get_config(), **overrides})
            return layer
        kwargs = dict(identifier)
        name = kwargs.pop("name", None) or kwargs.pop("type", None)
        if name is None:
            raise ValueError(
                "A quantizer config dict needs a 'name' key naming one of "
                f"{sorted(QUANTIZERS)}. Received: {identifier!r}"
            )
        return _lookup(name)(**{**kwargs, **overrides})
    raise ValueError(
        "`quantizer` must be None, a name, a config dict or a Quantizer layer. "
        f"Received: quantizer={identifier!r}"
    )


def _lookup(name):
    key = name.lower()
    if key not in QUANTIZERS:
        raise ValueError(
            f"Unknown quantizer name. Valid names: {sorted(QUANTIZERS)}. "
            f"Received: quantizer={name!r}"
        )
    return QUANTIZERS[key]
