"""`keras-svq compare`: models over seeds on the same data, with intervals."""

import argparse
import pathlib

from keras_svq.commands import common

HELP = "train models over seeds on the same data; mean and 95% intervals, paired tests"


def add_arguments(parser):
    parser.add_argument(
        "--preset",
        action="append",
        default=[],
        help="a model to compare (repeatable; the first is the reference)",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        help="a YAML experiment to compare (repeatable; after the presets)",
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0, 1, 2, 3, 4],
        help="training seeds, shared by every model (default: 0 1 2 3 4)",
    )
    parser.add_argument(
        "--output-dir", required=True, help="folder of the runs and tables"
    )
    common.add_set(parser, "override a config value of every model (repeatable)")
    common.add_data_dir(parser)
    parser.add_argument(
        "--jobs",
        type=int,
        default=argparse.SUPPRESS,
        help="runs trained at once, one process each, sharing the CPU cores "
        "(default: 1, in this process)",
    )
    common.add_baselines(parser)
    common.add_quiet(parser)


def run(args):
    from keras_svq.training import compare

    specs = compare.model_specs(args.preset, args.config, common.parse_set(args.set))
    comparison = compare.run_compare(
        specs,
        args.seeds,
        args.output_dir,
        data_dir=args.data_dir,
        verbose=0 if args.quiet else 2,
        **common.given(args, "jobs", "baselines"),
    )
    compare.print_summary(comparison)
    print(
        f"\nwrote {pathlib.Path(args.output_dir) / 'comparison.json'} (and .md, .png)"
    )
