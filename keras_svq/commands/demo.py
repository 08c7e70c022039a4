"""`keras-svq demo`: SimVP with and without SVQ on the embedded ERA5 sample."""

import argparse

from keras_svq.commands import common

HELP = "train SimVP with and without SVQ on the embedded ERA5 sample and compare"


def add_arguments(parser):
    parser.add_argument(
        "--output-dir",
        default=argparse.SUPPRESS,
        help="where runs and plots go (default: demo_output)",
    )
    parser.add_argument(
        "--epochs", type=int, help="epochs per model (default: the era5_uk presets')"
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=argparse.SUPPRESS,
        help="seeds per model (default: 0); two or more give a 95%% interval and a "
        "paired test of SVQ against no quantizer",
    )
    common.add_quiet(parser)


def run(args):
    from keras_svq.training.demo import run_demo

    options = common.given(args, "seeds")
    if hasattr(args, "output_dir"):
        options["output_dir"] = args.output_dir
    run_demo(epochs=args.epochs, verbose=0 if args.quiet else 2, **options)
