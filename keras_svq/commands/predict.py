"""`keras-svq predict`: forecasts of new input windows, in physical units."""

import argparse

from keras_svq.commands import common

HELP = "forecast new input windows in physical units"


def add_arguments(parser):
    parser.add_argument("--run", required=True, help="run folder")
    parser.add_argument(
        "--input",
        required=True,
        help=".npy/.npz with inputs (N, T_in, H, W, C) in physical units",
    )
    parser.add_argument(
        "--output", required=True, help=".npz (or .nc) to write the forecast to"
    )
    common.add_weights(parser)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=argparse.SUPPRESS,
        help="windows per model call",
    )
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument(
        "--processed-grid",
        action="store_true",
        help="return the forecast on the model's grid (after crop/coarsen/pad) "
        "instead of the input's grid",
    )
    common.add_fill_value(parser)


def run(args):
    from keras_svq.training import run_commands

    forecast = run_commands.predict(
        args.run,
        args.input,
        args.output,
        weights=args.weights,
        overwrite=args.overwrite,
        processed_grid=args.processed_grid,
        fill_value=args.fill_value,
        **common.given(args, "batch_size"),
    )
    print(f"wrote forecast {tuple(forecast.shape)} to {args.output}")
