"""`keras-svq evaluate`: test-split metrics and figures of a trained model."""

import argparse
import pathlib

from keras_svq.commands import common
from keras_svq.io_utils import UserError

HELP = "test-split metrics and plots of a trained run"


def add_arguments(parser):
    parser.add_argument("--run", help="run folder written by `keras-svq train`")
    parser.add_argument("--config", help="YAML experiment file (with --weights)")
    parser.add_argument(
        "--weights", help="a .weights.h5 checkpoint (default: the run's best)"
    )
    common.add_set(parser, "override a config value of --config (repeatable)")
    common.add_data_dir(parser)
    parser.add_argument(
        "--output-dir",
        help="where to write metrics.json and plots (default: RUN/evaluation)",
    )
    parser.add_argument(
        "--num-plots",
        type=int,
        default=argparse.SUPPRESS,
        help="example figures written (0: none, and no run figures)",
    )
    common.add_baselines(parser)


def run(args):
    from keras_svq.runs import Run
    from keras_svq.training import run_commands

    if args.run:
        if args.config:
            raise UserError("pass either --run DIR or --config FILE --weights FILE")
        run = Run(args.run, weights=args.weights, data_dir=args.data_dir)
        output_dir = args.output_dir or run.layout.evaluation
    elif args.config:
        if not args.weights or not args.output_dir:
            raise UserError("--config needs --weights FILE and --output-dir DIR")
        config = run_commands.resolve_config_file(
            args.config, common.parse_set(args.set)
        )
        run = Run.from_config(config, args.weights, data_dir=args.data_dir)
        output_dir = args.output_dir
    else:
        raise UserError("pass --run DIR (or --config FILE --weights FILE)")
    options = common.given(args, "num_plots", "baselines")
    results = run_commands.evaluate(run, output_dir, **options)
    print(run_commands.evaluation_table(results))
    print(f"\nwrote {pathlib.Path(output_dir) / 'metrics.json'}")
    if args.run and options.get("num_plots") != 0:
        # Skill per lead time, training curves and the SVQ views of the run,
        # from the data and model `evaluate` loaded.
        from keras_svq.viz import commands as viz_commands

        plots = pathlib.Path(output_dir) / "plots"
        viz_commands.write_run_plots(run, plots)
        print(f"wrote the run's figures to {plots}")
