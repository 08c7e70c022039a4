"""SavedModel export for TF Serving: physical units in, physical units out.

The exported graph contains what training did to the data (a
`ForecastTransform`: missing-value codes and NaN filled with the training
mean, the static mask, crop / coarsen / pad, the normalisation), so a client
sends raw values on the original grid (kelvin with NaN over land, a radar's
65535 codes, trip counts) and gets a forecast on the same grid in the same
units, NaN where no forecast can be valid (masked or padded pixels, pixels
outside the crop). A window without any valid pixel fails with an error.
Signatures:

- `serving_default`: input `inputs`, float32 `(N, T_in, H, W, C)` in physical
  units on the raw grid (N free, the rest fixed); output `output_0`, float32
  `(N, T_out, H, W, C)` in physical units. TensorFlow does not check a
  signature's shape when it is called (a swapped H/W or a wrong C would be
  reshaped into a wrong forecast), so the graph checks rank, T_in, H, W and C
  itself and fails with an `InvalidArgumentError` naming the expected and the
  received shape. N = 0 returns an empty batch. NaN/Inf inputs are filled as
  in training when the run's data were filled (`nan_policy: fill`), and
  refused with their count and first location otherwise.
- `encode` (models with an SVQ): same input; output `output_0`, float32
  `(N, T_in, H', W', K)`: the SVQ code weights of the quantized latent
  (`H' = H / 2**(num_spatial_layers/2)`, likewise `W'`, `K` the codebook size).

`compute_dtype="bfloat16"` (`keras-svq export --compute-dtype bfloat16`)
exports a graph that computes in bfloat16 behind the same float32 signatures.

The folder also gets `signature.json` describing both, so clients need not
inspect the graph. Loading needs TensorFlow only (no Keras, no keras-svq).

Serving with TF Serving (the model folder must sit in a numbered version
folder, e.g. `models/era5/1/`):

```
keras-svq export --run runs/era5_uk/simvp_gsta_svq_frozen --output models/era5/1
docker run -p 8501:8501 -v "$PWD/models/era5:/models/era5" -e MODEL_NAME=era5 tensorflow/serving
curl -X POST localhost:8501/v1/models/era5:predict -d @request.json
```

with `request.json` holding one or more raw input windows (here 12 frames of
32 x 48 x 1 temperatures in kelvin):

```
{"signature_name": "serving_default",
 "instances": [[[[[281.2], [281.4], ...], ...], ...]]}
```

The response is `{"predictions": [...]}` with one `(T_out, H, W, C)` forecast
per instance, in kelvin. Use `"signature_name": "encode"` for the SVQ code
weights.
"""

import json
import pathlib

import keras
import numpy as np
import tensorflow as tf

from keras_svq.io_utils import atomic_directory

SIGNATURE_FILE = "signature.json"


def _quantizer_input_fn(model):
    """`normalised frames -> the tensor the quantizer sees`, or None."""
    quantizer = getattr(model, "quantizer", None)
    encoder = getattr(model, "encoder", None)
    if quantizer is None or encoder is None or not hasattr(quantizer, "encode"):
        return None
    position = getattr(model, "quantizer_position", "pre")

    def latent(frames):
        hidden, _ = encoder(frames, training=False)
        if position == "post":
            hidden = model.translator(hidden, training=False)
        return hidden

    return latent


def _guarded(inputs, shape, endpoint, compute, output_shape):
    """`compute(inputs)` once `inputs` has passed a run-time check of its shape.

    TensorFlow does not enforce a signature's static shape when a SavedModel
    is called, so `tf.shape` is read at run time: a wrong rank or a wrong
    `(T_in, H, W, C)` fails with an `InvalidArgumentError` naming both
    shapes. The model only ever sees a tensor rebuilt to `(n, *shape)`, with
    n = 0 unless the check passed, so a wrong shape can never be reshaped
    into a forecast. N = 0 gives an empty `(0, *output_shape)` batch.
    """
    received = tf.shape(inputs)
    padded = tf.concat([received, tf.zeros([5], tf.int32)], axis=0)[:5]
    ok = tf.logical_and(
        tf.equal(tf.size(received), 5),
        tf.reduce_all(tf.equal(padded[1:], list(shape))),
    )
    expected = ", ".join(str(s) for s in shape)
    check = tf.debugging.Assert(
        ok,
        [
            f"{endpoint} expects float32 inputs of shape (N, T_in, H, W, C) = "
            f"(N, {expected}); received shape",
            received,
        ],
        summarize=8,
    )
    n = tf.where(ok, padded[0], 0)
    size = int(np.prod(shape))
    with tf.control_dependencies([check]):
        safe = tf.reshape(tf.reshape(inputs, [-1])[: n * size], [n, *shape])
    return tf.cond(
        tf.equal(n, 0),
        lambda: tf.zeros((0, *output_shape), tf.float32),
        lambda: compute(safe),
    )


def export_saved_model(
    model,
    path,
    *,
    normalizer=None,
    transform=None,
    description=None,
    compute_dtype="float32",
):
    """Writes `model` as a SavedModel with the data transform inside the graph.

    Args:
        model: a forecasting backbone `(B, T_in, h, w, C) -> (B, T_out, h, w, C)`.
        path: output folder (replaced atomically if it exists).
        normalizer: the run's `Normalizer` (per-channel `mean`, `std`); used
            when `transform` is None.
        transform: a `ForecastTransform` (raw grid, missing values, masks,
            preprocessing and normaliser), or None for the normaliser alone.
        description: dict or None. Extra facts stored in `signature.json`.
        compute_dtype: `"float32"` (default) or `"bfloat16"`: the graph
            computes in this dtype (`keras_svq.export.precision`; about 1.5x
            faster on CPUs with AVX-512 BF16, forecasts rounded accordingly),
            inputs and outputs stay float32. Recorded in `signature.json`.

    Returns:
        dict: the signature description written to `signature.json`.
    """
    from keras_svq.data.forecast_transform import ForecastTransform
    from keras_svq.export.precision import with_compute_dtype

    model = with_compute_dtype(model, compute_dtype)
    if transform is None:
        if normalizer is None:
            raise ValueError("export_saved_model needs `normalizer` or `transform`.")
        transform = ForecastTransform(normalizer)
    model_input = tuple(int(s) for s in model.inputs[0].shape[1:])
    model_output = tuple(int(s) for s in model.outputs[0].shape[1:])
    raw = transform.raw_shape or model_input[1:3]
    input_shape = (model_input[0], *raw, model_input[3])
    output_shape = (model_output[0], *raw, model_output[3])
    # Any shape: TensorFlow would not enforce a static one at call time,
    # and a known rank lets the graph optimiser fold the rank check away;
    # `_guarded` checks the shape and gives the model a statically shaped tensor.
    spec = tf.TensorSpec(None, tf.float32, name="inputs")

    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(inputs):
        return _guarded(
            inputs,
            input_shape,
            "serving_default",
            lambda x: transform.tf_finish(
                model(transform.tf_prepare(x), training=False)
            ),
            output_shape,
        )

    archive.add_endpoint("serving_default", serve, input_signature=[spec])
    signatures = {
        "serving_default": {
            "inputs": {
                "name": "inputs",
                "dtype": "float32",
                "shape": [None, *input_shape],
                "units": "physical (as the training data)",
                "missing": "NaN"
                + (
                    f" or {list(transform.missing_value)}"
                    if transform.missing_value
                    else ""
                )
                + ": filled as in training",
            },
            "outputs": {
                "name": "output_0",
                "dtype": "float32",
                "shape": [None, *output_shape],
                "units": "physical (as the training data)",
            },
        }
    }
    latent_fn = _quantizer_input_fn(model)
    if latent_fn is not None:
        quantizer = model.quantizer

        def codes(inputs):
            frames = transform.tf_prepare(inputs)
            return tf.cast(quantizer.encode(latent_fn(frames)), tf.float32)

        probe = np.zeros((1,) + input_shape, "float32")
        code_shape = tuple(codes(tf.constant(probe)).shape[1:])

        def encode(inputs):
            return _guarded(inputs, input_shape, "encode", codes, code_shape)

        archive.add_endpoint("encode", encode, input_signature=[spec])
        signatures["encode"] = {
            "inputs": signatures["serving_default"]["inputs"],
            "outputs": {
                "name": "output_0",
                "dtype": "float32",
                "shape": [None, *code_shape],
                "units": "SVQ code weights (one weight per codebook entry)",
            },
        }
    document = {
        "signatures": signatures,
        "normalizer": transform.normalizer.get_config(),
        "transform": transform.get_config(),
        "compute_dtype": compute_dtype,
        **({"description": description} if description else {}),
    }
    path = pathlib.Path(path)
    with atomic_directory(path) as tmp:
        archive.write_out(str(tmp), verbose=False)
        (tmp / SIGNATURE_FILE).write_text(json.dumps(document, indent=2) + "\n")
    return document
