"""`keras-svq plot`: the figures of run folders (`keras_svq.viz.commands`)."""

import argparse

from keras_svq.commands import common
from keras_svq.io_utils import UserError

HELP = "write the figures of run folders"

SPLITS = ("train", "val", "test")


def add_arguments(parser):
    parser.add_argument(
        "--run",
        required=True,
        action="append",
        metavar="DIR",
        help="run folder; repeat to compare runs on the skill chart (plots go to the first)",
    )
    parser.add_argument("--output-dir", metavar="DIR", help="default: RUN/plots")
    parser.add_argument(
        "--split", choices=SPLITS, default=argparse.SUPPRESS, help="default: test"
    )
    parser.add_argument(
        "--example",
        type=int,
        default=argparse.SUPPRESS,
        help="index of the example drawn (default: chosen by the rule of "
        "keras_svq.viz.example_choice, e.g. the median-error window)",
    )
    parser.add_argument(
        "--gif", action="store_true", help="also write an animated GIF of the forecast"
    )
    common.add_weights(parser)
    common.add_data_dir(parser)
    parser.add_argument(
        "--max-examples",
        type=int,
        default=argparse.SUPPRESS,
        help="examples used for skill and codebook views",
    )


def viz_commands(command):
    """`keras_svq.viz.commands`, or a `UserError` naming the missing extra."""
    try:
        from keras_svq.viz import commands
    except ImportError as e:  # an optional dependency is missing
        raise UserError(
            f"`keras-svq {command}` needs matplotlib (pip install keras-svq[viz]): {e}"
        ) from None
    return commands


def run(args):
    from keras_svq.runs import Run

    commands = viz_commands("plot")
    first, *others = args.run
    written = commands.write_run_plots(
        Run(first, weights=args.weights, data_dir=args.data_dir),
        args.output_dir,
        compare=others,
        gif=args.gif,
        data_dir=args.data_dir,
        **common.given(args, "example", "split", "max_examples"),
    )
    for path in written.values():
        print(path)
