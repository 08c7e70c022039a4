"""`keras-svq train`: one run folder from a YAML experiment or a preset."""

import pathlib

from keras_svq.commands import common

HELP = "train a model from a YAML experiment or a preset"


def add_arguments(parser):
    common.add_experiment_args(parser)
    parser.add_argument(
        "--output-dir", help="run folder (default: runs/<preset or config name>)"
    )
    parser.add_argument(
        "--strategy",
        choices=["default", "mirrored", "multi-worker"],
        help="tf.distribute strategy (default: mirrored when several GPUs are visible)",
    )
    parser.add_argument(
        "--cpu-devices",
        type=int,
        default=0,
        help="split the CPU into N logical devices (to try --strategy mirrored without GPUs)",
    )
    common.add_quiet(parser, "no progress bar")
    parser.add_argument(
        "--allow-data-change",
        action="store_true",
        help="resume even though the data files or the normaliser differ from those "
        "the run started with",
    )


def run(args):
    from keras_svq.training import trainer
    from keras_svq.training.strategy import get_strategy
    from keras_svq.training.strategy import split_cpu

    split_cpu(args.cpu_devices)
    config, name = common.experiment(args)
    output_dir = pathlib.Path(args.output_dir or pathlib.Path("runs") / name)
    summary = trainer.train(
        config,
        output_dir,
        data_dir=args.data_dir,
        strategy=get_strategy(args.strategy),
        verbose=0 if args.quiet else 1,
        allow_data_change=args.allow_data_change,
    )
    best = summary["best_val_loss"]
    print(
        f"finished {summary['epochs_completed']} epochs; best val_loss "
        f"{best if best is None else f'{best:.6g}'}; run folder {summary['run_dir']}"
    )
