"""ONNX export: physical units in, physical units out, as the SavedModel.

`export_onnx` writes one `.onnx` file that holds the model and the run's
`ForecastTransform` (missing-value codes and NaN filled with the training
mean, the static mask, crop / coarsen / pad, the normalisation), converted
with tf2onnx from a `tf.function`, so a client with onnxruntime alone (no
TensorFlow, no Keras) sends raw windows and gets forecasts on the same grid
in the same units:

- input `inputs`: float32 `(N, T_in, H, W, C)` in physical units on the raw
  grid, N free (0 gives an empty batch). The other dimensions are static in
  the file, so onnxruntime itself refuses a wrong rank or shape with an
  `INVALID_ARGUMENT` error naming the index, the received and the expected
  size (the SavedModel checks this in its graph instead).
- output `output_0`: float32 `(N, T_out, H, W, C)` in physical units, NaN
  where no forecast can be valid (masked or padded pixels, pixels outside the
  crop), as the SavedModel's `serving_default`.

Differences from the SavedModel, because ONNX has no operator that fails a
run (tf2onnx drops `tf.debugging.Assert`): where the SavedModel raises an
error for one window, the ONNX model returns an all-NaN forecast for that
window and normal forecasts for the others. That happens for a window that
holds a NaN/Inf or missing-code input when the run's data had none
(`nan_policy` "raise" or "drop"; with `nan_policy: fill` such values are
filled as in training, exactly as in the SavedModel), and for a window
without any valid pixel. There is no `encode` endpoint (the SVQ code weights);
use the SavedModel for those.

The signature description (what `signature.json` holds next to a
SavedModel) is returned and also stored in the file's metadata under
`keras_svq_signature` (onnxruntime: `session.get_modelmeta().custom_metadata_map`).

Running the file:

```python
import numpy as np, onnxruntime as ort

session = ort.InferenceSession("model.onnx", providers=["CPUExecutionProvider"])
forecast = session.run(None, {"inputs": windows.astype("float32")})[0]
```

Needs the `onnx` extra: `pip install "keras-svq[onnx]"` (tf2onnx, onnx,
onnxruntime).
"""

import json
import pathlib

import numpy as np
import tensorflow as tf

from keras_svq.io_utils import UserError
from keras_svq.io_utils import atomic_path

ONNX_FILE = "model.onnx"
DEFAULT_OPSET = 17
METADATA_KEY = "keras_svq_signature"
_INSTALL = 'pip install "keras-svq[onnx]"'


class OnnxNotInstalled(UserError, ImportError):
    """The `onnx` extra is missing (an `ImportError`, and a one-line CLI error)."""


def require_onnx():
    """Imports tf2onnx (and checks onnx); `OnnxNotInstalled` names the extra."""
    try:
        import onnx  # noqa: F401
        import tf2onnx
    except ImportError as error:
        raise OnnxNotInstalled(
            f"ONNX export needs tf2onnx and onnx (missing: {error.name or error}); "
            f"install them with {_INSTALL}"
        ) from error
    return tf2onnx


def _erfc_handler(ctx, node, name, args):
    """tf2onnx handler for TensorFlow's `Erfc` (exact GELU): `1 - Erf(x)`.

    tf2onnx 1.17 has no `Erfc`; ONNX has `Erf`. The absolute error of
    `1 - erf(x)` is float32 rounding (~1e-7), and GELU multiplies it by
    `x / 2`, so the forecasts match TensorFlow to float32 precision.
    """
    from tf2onnx import utils

    node.type = "Erf"
    dtype = utils.map_onnx_to_numpy_type(ctx.get_dtype(node.input[0]))
    one = ctx.make_const(utils.make_name(f"{name}_one"), np.array(1, dtype))
    ctx.insert_new_node_on_output(
        "Sub",
        node.output[0],
        name=utils.make_name(name),
        inputs=[one.output[0], node.output[0]],
    )


def _select_handler(ctx, node, name, args):
    """tf2onnx handler for `tf.where` (Select / SelectV2): always ONNX `Where`.

    tf2onnx turns a select into `cond * a + (1 - cond) * b` unless it sees a
    NaN constant among its inputs, and `0 * NaN` is NaN: a NaN that arrives
    at run time (a missing input, the NaN of a masked forecast pixel) would
    spread to the whole tensor. `Where` picks values without arithmetic.
    """
    from tf2onnx.onnx_opset.controlflow import Select

    node.set_attr("handles_nan", True)
    Select.version_9(ctx, node)


_HANDLERS = {
    "Erfc": (_erfc_handler, []),
    "Select": (_select_handler, []),
    "SelectV2": (_select_handler, []),
}


def _refused_windows(x, transform):
    """bool `(N,)`: the windows the SavedModel would refuse with an error.

    Mirrors the two checks of `ForecastTransform.tf_prepare` (a missing value
    the run cannot fill; no valid pixel after mask and preprocessing).
    """
    missing = tf.logical_not(tf.math.is_finite(x))
    for code in transform.missing_value:
        missing = tf.logical_or(missing, tf.equal(x, code))
    valid = tf.logical_not(missing)
    if transform.input_mask is not None:
        mask = tf.constant(transform.input_mask)
        missing = tf.logical_and(missing, mask)
        valid = tf.logical_and(valid, mask)
    refused = tf.zeros_like(x[:, 0, 0, 0, 0], tf.bool)
    if transform.refuses_missing:
        refused = tf.reduce_any(missing, axis=[1, 2, 3, 4])
    preprocessing = transform.preprocessing
    if preprocessing is not None and not preprocessing.is_identity:
        # Crop / coarsen / pad decide which valid pixels reach the model.
        kept = tf.where(valid, tf.zeros_like(x), tf.fill(tf.shape(x), np.nan))
        valid = tf.math.is_finite(preprocessing.tf_apply(kept))
    empty = tf.logical_not(tf.reduce_any(valid, axis=[1, 2, 3, 4]))
    return tf.logical_or(refused, empty)


def _serving_function(model, transform, input_shape):
    spec = tf.TensorSpec((None, *input_shape), tf.float32, name="inputs")

    @tf.function(input_signature=[spec])
    def serve(inputs):
        # The Asserts inside `tf_prepare` do not survive the conversion; the
        # refused windows are marked with NaN instead (see the module doc).
        refused = _refused_windows(inputs, transform)
        forecast = transform.tf_finish(
            model(transform.tf_prepare(inputs), training=False)
        )
        nan = tf.fill(tf.shape(forecast), np.float32(np.nan))
        return {"output_0": tf.where(refused[:, None, None, None, None], nan, forecast)}

    return serve, spec


def export_onnx(
    model,
    path,
    *,
    normalizer=None,
    transform=None,
    description=None,
    opset=DEFAULT_OPSET,
):
    """Writes `model` and its data transform as one ONNX file.

    Args:
        model: a forecasting backbone `(B, T_in, h, w, C) -> (B, T_out, h, w, C)`.
        path: the `.onnx` file to write (replaced atomically if it exists).
        normalizer: the run's `Normalizer` (per-channel `mean`, `std`); used
            when `transform` is None.
        transform: a `ForecastTransform` (raw grid, missing values, masks,
            preprocessing and normaliser), or None for the normaliser alone.
        description: dict or None. Extra facts stored in the description.
        opset: int. The ONNX opset. Defaults to 17.

    Returns:
        dict: the signature description (also stored in the file's metadata
        under `keras_svq_signature`).

    Raises:
        OnnxNotInstalled: tf2onnx or onnx is missing (an `ImportError`).

    Example:

    ```python
    export_onnx(model, "model.onnx", transform=ForecastTransform(normalizer))
    ```
    """
    from keras_svq.data.forecast_transform import ForecastTransform

    tf2onnx = require_onnx()
    if transform is None:
        if normalizer is None:
            raise ValueError(
                "export_onnx needs `normalizer` or `transform`. Received: "
                "normalizer=None, transform=None"
            )
        transform = ForecastTransform(normalizer)
    model_input = tuple(int(s) for s in model.inputs[0].shape[1:])
    model_output = tuple(int(s) for s in model.outputs[0].shape[1:])
    raw = transform.raw_shape or model_input[1:3]
    input_shape = (model_input[0], *raw, model_input[3])
    output_shape = (model_output[0], *raw, model_output[3])

    serve, spec = _serving_function(model, transform, input_shape)
    proto, _ = tf2onnx.convert.from_function(
        serve,
        input_signature=[spec],
        opset=opset,
        custom_op_handlers=_HANDLERS,
    )
    missing = "NaN" + (
        f" or {list(transform.missing_value)}" if transform.missing_value else ""
    )
    if transform.refuses_missing:
        missing += ": the window's forecast is all NaN (this run's data had none)"
    else:
        missing += ": filled as in training"
    document = {
        "format": "onnx",
        "opset": int(opset),
        "converter": f"tf2onnx {tf2onnx.__version__}",
        "inputs": {
            "name": "inputs",
            "dtype": "float32",
            "shape": [None, *input_shape],
            "units": "physical (as the training data)",
            "missing": missing,
        },
        "outputs": {
            "name": "output_0",
            "dtype": "float32",
            "shape": [None, *output_shape],
            "units": "physical (as the training data)",
            "invalid": "NaN for a window without any valid input pixel",
        },
        "normalizer": transform.normalizer.get_config(),
        "transform": transform.get_config(),
        **({"description": description} if description else {}),
    }
    entry = proto.metadata_props.add()
    entry.key = METADATA_KEY
    entry.value = json.dumps(document)
    data = proto.SerializeToString()
    with atomic_path(pathlib.Path(path), suffix=".onnx", needed=len(data)) as tmp:
        tmp.write_bytes(data)
    return document
