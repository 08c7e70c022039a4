"""Quantizers by name, so configs and backbones never branch per class."""

import keras

from keras_svq.quantizers.base_quantizer import Quantizer
from keras_svq.quantizers.finite_scalar_quantizer import FiniteScalarQuantizer
from keras_svq.quantizers.grouped_residual_vector_quantizer import (
    GroupedResidualVectorQuantizer,
)
from keras_svq.quantizers.lookup_free_quantizer import LookupFreeQuantizer
from keras_svq.quantizers.multi_head_vector_quantizer import MultiHeadVectorQuantizer
from keras_svq.quantizers.residual_finite_scalar_quantizer import (
    ResidualFiniteScalarQuantizer,
)
from keras_svq.quantizers.residual_lookup_free_quantizer import (
    ResidualLookupFreeQuantizer,
)
from keras_svq.quantizers.residual_vector_quantizer import ResidualVectorQuantizer
from keras_svq.quantizers.sparse_vector_quantizer import SparseVectorQuantizer
from keras_svq.quantizers.vector_quantizer import VectorQuantizer

QUANTIZERS = {
    "svq": SparseVectorQuantizer,
    "sparse_vector_quantizer": SparseVectorQuantizer,
    # The VQ family the paper compares SVQ with (short names as the
    # reference's `vq_type`).
    "vq": VectorQuantizer,
    "vector_quantizer": VectorQuantizer,
    "rvq": ResidualVectorQuantizer,
    "residual_vector_quantizer": ResidualVectorQuantizer,
    "grvq": GroupedResidualVectorQuantizer,
    "grouped_residual_vector_quantizer": GroupedResidualVectorQuantizer,
    "mhvq": MultiHeadVectorQuantizer,
    "multi_head_vector_quantizer": MultiHeadVectorQuantizer,
    "fsq": FiniteScalarQuantizer,
    "finite_scalar_quantizer": FiniteScalarQuantizer,
    "rfsq": ResidualFiniteScalarQuantizer,
    "residual_finite_scalar_quantizer": ResidualFiniteScalarQuantizer,
    "lfq": LookupFreeQuantizer,
    "lookup_free_quantizer": LookupFreeQuantizer,
    "rlfq": ResidualLookupFreeQuantizer,
    "residual_lookup_free_quantizer": ResidualLookupFreeQuantizer,
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


# vector-quantize-pytorch 1.12.5 argument names (the reference's `vq_kwargs`)
# -> ours, per `vq_type`. `dim` is the input's D, known at build time.
_REFERENCE_RENAMES = {
    "vq": {
        "codebook_size": "codebook_size",
        "codebook_dim": "codebook_dim",
        "decay": "decay",
        "eps": "epsilon",
        "commitment_weight": "commitment_weight",
        "kmeans_init": "kmeans_init",
        "kmeans_iters": "kmeans_iters",
        "threshold_ema_dead_code": "dead_code_threshold",
        "use_cosine_sim": "use_cosine_similarity",
        "sample_codebook_temp": "sample_temperature",
        "stochastic_sample_codes": "stochastic_sample_codes",  # folded below
    },
    "rvq": {
        "num_quantizers": "num_quantizers",
        "codebook_size": "codebook_size",
        "codebook_dim": "codebook_dim",
        "shared_codebook": "shared_codebook",
    },
    "grvq": {
        "groups": "groups",
        "num_quantizers": "num_quantizers",
        "codebook_size": "codebook_size",
        "codebook_dim": "codebook_dim",
        "shared_codebook": "shared_codebook",
    },
    "mhvq": {
        "heads": "num_heads",
        "codebook_size": "codebook_size",
        "codebook_dim": "codebook_dim",
        "separate_codebook_per_head": "shared_codebook",  # negated below
    },
    "fsq": {"levels": "levels"},
    "rfsq": {"levels": "levels", "num_quantizers": "num_quantizers"},
    "lfq": {
        "codebook_size": "codebook_size",
        "entropy_loss_weight": "entropy_loss_weight",
        "commitment_loss_weight": "commitment_weight",
        "diversity_gamma": "diversity_gamma",
    },
    "rlfq": {"codebook_size": "codebook_size", "num_quantizers": "num_quantizers"},
}
_STAGE_ARGUMENTS = {"rvq": "vq", "grvq": "vq", "mhvq": "vq", "rlfq": "lfq"}


def quantizer_config_from_reference(vq_type, vq_kwargs):
    """Translates an official config's `vq_type`/`vq_kwargs` to a quantizer config.

    The result is a `{"name": ..., **kwargs}` dict for `get_quantizer`, e.g.
    `("vq", {"dim": 32, "codebook_size": 1024, "decay": 0.8,
    "commitment_weight": 1.0})` -> `{"name": "vq", "codebook_size": 1024,
    "decay": 0.8, "commitment_weight": 1.0}`. Arguments of the stages of a
    residual / multi-head quantizer go to its `quantizer_kwargs`. An argument
    keras-svq does not implement raises a `ValueError` naming it.
    """
    if vq_type not in _REFERENCE_RENAMES:
        raise ValueError(
            f"Unknown reference vq_type. Valid: {sorted(_REFERENCE_RENAMES)}. "
            f"Received: vq_type={vq_type!r}"
        )
    renames = _REFERENCE_RENAMES[vq_type]
    stage_renames = _REFERENCE_RENAMES.get(_STAGE_ARGUMENTS.get(vq_type), {})
    config, stage = {"name": vq_type}, {}
    for key, value in vq_kwargs.items():
        if key == "dim":
            continue
        if key in renames:
            new_key = renames[key]
            if key == "separate_codebook_per_head":
                value = not value
            config[new_key] = list(value) if key == "levels" else value
        elif key in stage_renames and stage_renames[key] not in config:
            stage[stage_renames[key]] = value
        else:
            raise ValueError(
                f"The reference argument {key!r} of vq_type={vq_type!r} is not "
                "supported by keras-svq. Supported: "
                f"{sorted(set(renames) | set(stage_renames) | {'dim'})}"
            )
    for target in (config, stage):
        # vector-quantize-pytorch samples only when `stochastic_sample_codes`
        # is set, at `sample_codebook_temp` (default 1).
        stochastic = target.pop("stochastic_sample_codes", False)
        temperature = target.pop("sample_temperature", 1.0)
        if stochastic:
            target["sample_temperature"] = float(temperature)
    if stage:
        config["quantizer_kwargs"] = stage
    return config
