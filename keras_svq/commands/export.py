"""`keras-svq export`: a run as a TF Serving SavedModel or an ONNX model."""

from keras_svq.commands import common

HELP = "export a run as a TF Serving SavedModel or an ONNX model"

# The choices of --format; `run_commands.EXPORT_FORMATS` is checked against
# them by a test (importing it here would import the training package).
FORMATS = ("saved_model", "onnx")
# `keras_svq.export.precision.COMPUTE_DTYPES`, checked by a test (importing
# it here would import TensorFlow).
COMPUTE_DTYPES = ("float32", "bfloat16")


def add_arguments(parser):
    parser.add_argument("--run", required=True, help="run folder")
    parser.add_argument(
        "--output",
        "--output-dir",
        dest="output",
        required=True,
        help="output folder (the SavedModel, or model.onnx + signature.json)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default=FORMATS[0],
        help="saved_model (TF Serving, default) or onnx (onnxruntime; needs "
        'pip install "keras-svq[onnx]")',
    )
    parser.add_argument(
        "--compute-dtype",
        choices=COMPUTE_DTYPES,
        default=COMPUTE_DTYPES[0],
        help="float32 (default) or bfloat16: the SavedModel computes in bfloat16 "
        "behind float32 inputs and outputs (about 1.5x faster on CPUs with "
        "AVX-512 BF16 or AMX; forecasts rounded accordingly)",
    )
    common.add_weights(parser)
    parser.add_argument("--overwrite", action="store_true")
    common.add_fill_value(parser)


def run(args):
    from keras_svq.training import run_commands

    document = run_commands.export(
        args.run,
        args.output,
        weights=args.weights,
        overwrite=args.overwrite,
        fill_value=args.fill_value,
        format=args.format,
        compute_dtype=args.compute_dtype,
    )
    if args.format == "onnx":
        signatures = {"model.onnx": document}
    else:
        signatures = document["signatures"]
    for name, signature in signatures.items():
        print(
            f"{name}: inputs {signature['inputs']['shape']} float32 -> "
            f"{signature['outputs']['name']} {signature['outputs']['shape']}"
        )
    kind = "ONNX model" if args.format == "onnx" else "SavedModel"
    print(f"wrote {kind} to {args.output}")
