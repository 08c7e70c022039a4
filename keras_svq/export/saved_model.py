"""SavedModel export for TF Serving: physical units in, physical units out.

The exported graph contains the normalisation, so a client sends raw values
(kelvin, trip counts, pixel intensities) and gets a forecast in the same
units. Signatures:

- `serving_default`: input `inputs`, float32 `(N, T_in, H, W, C)` in physical
  units (N free, the rest fixed); output `output_0`, float32
  `(N, T_out, H, W, C)` in physical units.
- `encode` (models with an SVQ): same input; output `output_0`, float32
  `(N, T_in, H', W', K)`: the SVQ code weights of the quantized latent
  (`H' = H / 2**(num_spatial_layers/2)`, likewise `W'`, `K` the codebook size).

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


def export_saved_model(model, path, *, normalizer, description=None):
    """Writes `model` as a SavedModel with normalisation inside the graph.

    Args:
        model: a forecasting backbone `(B, T_in, H, W, C) -> (B, T_out, H, W, C)`.
        path: output folder (replaced atomically if it exists).
        normalizer: the run's `Normalizer` (per-channel `mean`, `std`).
        description: dict or None. Extra facts stored in `signature.json`.

    Returns:
        dict: the signature description written to `signature.json`.
    """
    input_shape = tuple(int(s) for s in model.inputs[0].shape[1:])
    output_shape = tuple(int(s) for s in model.outputs[0].shape[1:])
    mean = tf.constant(np.asarray(normalizer.mean, "float32"))
    std = tf.constant(np.asarray(normalizer.std, "float32"))
    spec = tf.TensorSpec((None,) + input_shape, tf.float32, name="inputs")

    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(inputs):
        frames = (inputs - mean) / std
        outputs = tf.cast(model(frames, training=False), tf.float32)
        return outputs * std + mean

    archive.add_endpoint("serving_default", serve, input_signature=[spec])
    signatures = {
        "serving_default": {
            "inputs": {
                "name": "inputs",
                "dtype": "float32",
                "shape": [None, *input_shape],
                "units": "physical (as the training data)",
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

        def encode(inputs):
            frames = (inputs - mean) / std
            return tf.cast(quantizer.encode(latent_fn(frames)), tf.float32)

        archive.add_endpoint("encode", encode, input_signature=[spec])
        probe = np.zeros((1,) + input_shape, "float32")
        code_shape = tuple(encode(tf.constant(probe)).shape[1:])
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
        "normalizer": normalizer.get_config(),
        **({"description": description} if description else {}),
    }
    path = pathlib.Path(path)
    with atomic_directory(path) as tmp:
        archive.write_out(str(tmp), verbose=False)
        (tmp / SIGNATURE_FILE).write_text(json.dumps(document, indent=2) + "\n")
    return document
