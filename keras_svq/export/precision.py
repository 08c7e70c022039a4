"""A copy of a trained model that computes in a lower precision, for serving.

On CPUs with bfloat16 instructions (AVX-512 BF16, AMX) and on GPUs, matrix
products and convolutions run about twice as fast in bfloat16 as in float32.
`with_compute_dtype(model, "bfloat16")` rebuilds the model with the
`"bfloat16"` dtype policy and copies its weights (rounded once, so nothing is
cast per call). Normalisation layers and the quantizers still compute in
float32 inside (Keras' BatchNormalization / GroupNormalization upcast; the
quantizers keep float32 weights and math), and callers get float32
forecasts back from `keras_svq.runtime.compiled_predictor` and the exported
SavedModel.

The forecasts differ from float32's by the rounding: measure the skill you
serve (`bench/reduced_precision.py` on a run) before shipping it.
"""

import keras

COMPUTE_DTYPES = ("float32", "bfloat16")


def check_compute_dtype(compute_dtype):
    """`compute_dtype` if supported, else a ValueError naming the choices."""
    if compute_dtype not in COMPUTE_DTYPES:
        raise ValueError(
            f"Unsupported compute dtype {compute_dtype!r}: choose one of "
            f"{', '.join(COMPUTE_DTYPES)}."
        )
    return compute_dtype


def _rebuild(model, compute_dtype):
    """A copy of `model` (fresh weights) whose layers use `compute_dtype`."""
    from zoo.backbone import Backbone

    if isinstance(model, Backbone):
        # The zoo's backbones pass their dtype policy down to every layer.
        return type(model).from_config({**model.get_config(), "dtype": compute_dtype})

    def clone(layer):
        return layer.__class__.from_config(
            {**layer.get_config(), "dtype": compute_dtype}
        )

    try:  # functional and Sequential models, layer by layer
        return keras.models.clone_model(model, clone_function=clone)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"Cannot rebuild {type(model).__name__} {model.name!r} in "
            f"{compute_dtype} ({str(e).split('. Received')[0]}); build it with "
            f"dtype={compute_dtype!r} and load its weights instead."
        ) from e


def with_compute_dtype(model, compute_dtype):
    """`model` itself if it computes in `compute_dtype`, else a copy that does.

    Args:
        model: a built Keras model: a zoo backbone, or a functional or
            Sequential model of layers that accept `dtype`.
        compute_dtype: `"float32"` or `"bfloat16"`.

    Returns:
        A model with the same weights (rounded to `compute_dtype` where the
        layers store them in it) whose layers compute in `compute_dtype`.

    Raises:
        ValueError: an unsupported dtype, or a copy whose weights do not line
            up with the model's.
        TypeError: a model that cannot be rebuilt from its configuration
            (a subclassed model).
    """
    check_compute_dtype(compute_dtype)
    if model.dtype_policy.compute_dtype == compute_dtype:
        return model
    copy = _rebuild(model, compute_dtype)
    source, target = model.weights, copy.weights
    shapes, copy_shapes = ([tuple(w.shape) for w in ws] for ws in (source, target))
    if shapes != copy_shapes:
        raise ValueError(
            f"The {compute_dtype} copy of {model.name!r} has weights of shapes "
            f"{copy_shapes}, the model {shapes}: its configuration does not "
            "rebuild the same layers."
        )
    for src, dst in zip(source, target):
        dst.assign(keras.ops.cast(src, dst.dtype))
    return copy
