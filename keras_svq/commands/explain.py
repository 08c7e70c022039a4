"""`keras-svq explain`: attribution maps for a forecast region (`keras_svq.viz.attribution`)."""

import argparse

from keras_svq.commands import common
from keras_svq.commands.plot import SPLITS
from keras_svq.commands.plot import viz_commands

HELP = "attribution maps for a forecast region"

# The names of `keras_svq.viz.attribution.ATTRIBUTION_METHODS` (a test checks
# they agree; importing it here would import matplotlib for `--help`).
METHODS = ("gradcam", "saliency", "smoothgrad")


def add_arguments(parser):
    parser.add_argument("--run", required=True, metavar="DIR", help="run folder")
    parser.add_argument(
        "--region",
        required=True,
        metavar="R0:R1,C0:C1",
        help="output pixels scored (half-open rows, columns), e.g. 8:16,8:16",
    )
    parser.add_argument(
        "--lead", required=True, type=int, help="1-based lead time scored"
    )
    parser.add_argument(
        "--method", choices=METHODS, default=argparse.SUPPRESS, help="default: saliency"
    )
    parser.add_argument("--example", type=int, default=argparse.SUPPRESS)
    parser.add_argument("--split", choices=SPLITS, default=argparse.SUPPRESS)
    parser.add_argument(
        "--layer",
        default=argparse.SUPPRESS,
        help="Grad-CAM layer (default: quantizer, else encoder)",
    )
    parser.add_argument("--smooth-samples", type=int, default=argparse.SUPPRESS)
    parser.add_argument(
        "--output", help="PNG path (default: RUN/explain/METHOD_leadN.png)"
    )
    common.add_weights(parser)
    common.add_data_dir(parser)
    parser.add_argument("--seed", type=int, default=argparse.SUPPRESS)


def run(args):
    commands = viz_commands("explain")
    path = commands.explain_run(
        args.run,
        region=args.region,
        lead=args.lead,
        output=args.output,
        weights=args.weights,
        data_dir=args.data_dir,
        **common.given(
            args, "method", "example", "split", "layer", "smooth_samples", "seed"
        ),
    )
    print(path)
