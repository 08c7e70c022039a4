"""The `keras-svq` command (also `python -m keras_svq`).

```
keras-svq demo [--output-dir demo_output] [--epochs N] [--seeds 0 1 ...]
keras-svq train (--config FILE | --preset NAME) [--set key=value ...] [--output-dir DIR]
                [--data-dir DIR] [--strategy default|mirrored|multi-worker]
                [--mixed-precision] [--xla] [--seed N]
keras-svq evaluate (--run DIR | --config FILE --weights FILE) [--data-dir DIR] [--output-dir DIR]
keras-svq compare --preset A --preset B [--config C.yaml] --seeds 0 1 2 3 4
                  --output-dir DIR [--set key=value ...] [--jobs N] [--baselines ...]
keras-svq predict --run DIR --input FILE --output FILE
keras-svq export --run DIR --output DIR [--format saved_model|onnx]
keras-svq presets
keras-svq summary (--preset NAME | --config FILE)
```

User mistakes (a missing or corrupt file, an unknown preset or config key, a
wrongly typed value, an output folder holding another run or in use by
another process, an unwritable folder, a full disk) end with one line on
stderr and exit status 2; a run that fails (NaN loss or weights) exits with 1.
SIGTERM ends a command like Ctrl-C (exit 143): temporary files are removed
and a run resumes from its last epoch.
"""

import argparse
import logging
import os
import pathlib
import signal
import sys

from keras_svq.io_utils import DiskFull
from keras_svq.io_utils import UserError

logger = logging.getLogger("keras_svq")

EXIT_USER_ERROR = 2
EXIT_RUN_FAILED = 1


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is a one-line `UserError` (exit 2)."""

    def error(self, message):
        raise UserError(f"{self.prog}: {message}")


# ------------------------------------------------------------ shared bits


def _experiment(args):
    """(config dict, default run name) from --config or --preset, with --set and flags."""
    from keras_svq.training import config as config_lib

    if bool(getattr(args, "config", None)) == bool(getattr(args, "preset", None)):
        raise UserError("pass exactly one of --config FILE or --preset NAME")
    if args.preset:
        from zoo.presets import load_preset

        config, name = load_preset(args.preset), args.preset
    else:
        config, name = config_lib.load_yaml(args.config), pathlib.Path(args.config).stem
    overrides = config_lib.parse_set(getattr(args, "set", None))
    flags = []
    if getattr(args, "mixed_precision", False):
        flags.append((("training", "mixed_precision"), True))
    if getattr(args, "xla", False):
        flags.append((("training", "jit_compile"), True))
    if getattr(args, "seed", None) is not None:
        flags.append((("training", "seed"), args.seed))
    if getattr(args, "epochs", None) is not None:
        flags.append((("training", "epochs"), args.epochs))
    return config_lib.resolve(config, overrides + flags), name


def _add_experiment_args(p, *, flags=True):
    source = p.add_mutually_exclusive_group()
    source.add_argument("--config", help="YAML experiment file")
    source.add_argument(
        "--preset",
        help="preset name, e.g. era5_uk/simvp_gsta (see `keras-svq presets`)",
    )
    _add_set_and_data_dir(
        p, "override a config value, e.g. --set training.epochs=5 (repeatable)"
    )
    if flags:
        p.add_argument("--seed", type=int, help="= --set training.seed=N")
        p.add_argument(
            "--mixed-precision",
            action="store_true",
            help="= --set training.mixed_precision=true",
        )
        p.add_argument(
            "--xla", action="store_true", help="= --set training.jit_compile=true"
        )
        p.add_argument("--epochs", type=int, help="= --set training.epochs=N")


def _add_set_and_data_dir(p, set_help):
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help=set_help
    )
    p.add_argument("--data-dir", help="folder holding a full dataset's files")


# --------------------------------------------------------------- commands


def _train_args(p):
    _add_experiment_args(p)
    p.add_argument(
        "--output-dir", help="run folder (default: runs/<preset or config name>)"
    )
    p.add_argument(
        "--strategy",
        choices=["default", "mirrored", "multi-worker"],
        help="tf.distribute strategy (default: mirrored when several GPUs are visible)",
    )
    p.add_argument(
        "--cpu-devices",
        type=int,
        default=0,
        help="split the CPU into N logical devices (to try --strategy mirrored without GPUs)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--allow-data-change",
        action="store_true",
        help="resume even though the data files or the normaliser differ from those "
        "the run started with",
    )


def _train(args):
    from keras_svq.training import trainer
    from keras_svq.training.strategy import get_strategy
    from keras_svq.training.strategy import split_cpu

    split_cpu(args.cpu_devices)
    config, name = _experiment(args)
    output_dir = pathlib.Path(args.output_dir or pathlib.Path("runs") / name)
    strategy = get_strategy(args.strategy)
    summary = trainer.train(
        config,
        output_dir,
        data_dir=args.data_dir,
        strategy=strategy,
        verbose=0 if args.quiet else 1,
        allow_data_change=args.allow_data_change,
    )
    best = summary["best_val_loss"]
    print(
        f"finished {summary['epochs_completed']} epochs; best val_loss "
        f"{best if best is None else f'{best:.6g}'}; run folder {summary['run_dir']}"
    )


def _evaluate_args(p):
    p.add_argument("--run", help="run folder written by `keras-svq train`")
    p.add_argument("--config", help="YAML experiment file (with --weights)")
    p.add_argument(
        "--weights", help="a .weights.h5 checkpoint (default: the run's best)"
    )
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--data-dir", help="folder holding a full dataset's files")
    p.add_argument(
        "--output-dir",
        help="where to write metrics.json and plots (default: RUN/evaluation)",
    )
    p.add_argument("--num-plots", type=int, default=3)
    _add_baselines(p)


def _add_baselines(p):
    p.add_argument(
        "--baselines",
        nargs="+",
        default=None,
        help="baselines scored beside the model (default: persistence climatology; "
        "optical_flow needs pysteps)",
    )


def _baselines(args):
    from keras_svq.metrics.baselines import DEFAULT_BASELINES

    return tuple(args.baselines or DEFAULT_BASELINES)


def _evaluate(args):
    from keras_svq.training import run_commands
    from keras_svq.training import trainer

    if args.run:
        if args.config:
            raise UserError("pass either --run DIR or --config FILE --weights FILE")
        layout, config, _ = trainer.load_run(args.run)
        weights = args.weights or trainer.default_weights(layout)
        output_dir = args.output_dir or layout.evaluation
    elif args.config:
        if not args.weights or not args.output_dir:
            raise UserError("--config needs --weights FILE and --output-dir DIR")
        config = run_commands.resolve_config_file(args.config, _parse_set(args.set))
        weights, output_dir = args.weights, args.output_dir
    else:
        raise UserError("pass --run DIR (or --config FILE --weights FILE)")
    results = run_commands.evaluate(
        config,
        weights,
        output_dir,
        data_dir=args.data_dir,
        num_plots=args.num_plots,
        baselines=_baselines(args),
    )
    print(run_commands.evaluation_table(results))
    print(f"\nwrote {pathlib.Path(output_dir) / 'metrics.json'}")
    if args.run and args.num_plots:
        # Skill per lead time, training curves and the SVQ views of the run.
        from keras_svq.viz import commands as viz_commands

        plots = pathlib.Path(output_dir) / "plots"
        viz_commands.write_run_plots(
            args.run, plots, weights=weights, data_dir=args.data_dir
        )
        print(f"wrote the run's figures to {plots}")


def _parse_set(items):
    from keras_svq.training import config as config_lib

    return config_lib.parse_set(items)


def _compare_args(p):
    p.add_argument(
        "--preset",
        action="append",
        default=[],
        help="a model to compare (repeatable; the first is the reference)",
    )
    p.add_argument(
        "--config",
        action="append",
        default=[],
        help="a YAML experiment to compare (repeatable; after the presets)",
    )
    p.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0, 1, 2, 3, 4],
        help="training seeds, shared by every model (default: 0 1 2 3 4)",
    )
    p.add_argument("--output-dir", required=True, help="folder of the runs and tables")
    _add_set_and_data_dir(p, "override a config value of every model (repeatable)")
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="runs trained at once, one process each, sharing the CPU cores",
    )
    _add_baselines(p)
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _compare(args):
    from keras_svq.training import compare

    specs = compare.model_specs(args.preset, args.config, _parse_set(args.set))
    comparison = compare.run_compare(
        specs,
        args.seeds,
        args.output_dir,
        data_dir=args.data_dir,
        jobs=args.jobs,
        baselines=_baselines(args),
        verbose=0 if args.quiet else 2,
    )
    compare.print_summary(comparison)
    print(
        f"\nwrote {pathlib.Path(args.output_dir) / 'comparison.json'} (and .md, .png)"
    )


def _predict_args(p):
    p.add_argument("--run", required=True, help="run folder")
    p.add_argument(
        "--input",
        required=True,
        help=".npy/.npz with inputs (N, T_in, H, W, C) in physical units",
    )
    p.add_argument(
        "--output", required=True, help=".npz (or .nc) to write the forecast to"
    )
    p.add_argument("--weights", help="checkpoint (default: the run's best)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--overwrite", action="store_true")
    p.add_argument(
        "--processed-grid",
        action="store_true",
        help="return the forecast on the model's grid (after crop/coarsen/pad) "
        "instead of the input's grid",
    )
    _add_fill_value(p)


def _add_fill_value(p):
    p.add_argument(
        "--fill-value",
        type=float,
        help="write this value (e.g. the data's missing code) instead of NaN where "
        "no forecast can be valid (masked, padded or outside the crop)",
    )


def _predict(args):
    from keras_svq.training import run_commands

    forecast = run_commands.predict(
        args.run,
        args.input,
        args.output,
        weights=args.weights,
        batch_size=args.batch_size,
        overwrite=args.overwrite,
        processed_grid=args.processed_grid,
        fill_value=args.fill_value,
    )
    print(f"wrote forecast {tuple(forecast.shape)} to {args.output}")


def _export_args(p):
    p.add_argument("--run", required=True, help="run folder")
    p.add_argument(
        "--output",
        "--output-dir",
        dest="output",
        required=True,
        help="output folder (the SavedModel, or model.onnx + signature.json)",
    )
    p.add_argument(
        "--format",
        choices=("saved_model", "onnx"),
        default="saved_model",
        help='saved_model (TF Serving, default) or onnx (onnxruntime; needs pip install "keras-svq[onnx]")',
    )
    p.add_argument("--weights", help="checkpoint (default: the run's best)")
    p.add_argument("--overwrite", action="store_true")
    _add_fill_value(p)


def _export(args):
    from keras_svq.training import run_commands

    document = run_commands.export(
        args.run,
        args.output,
        weights=args.weights,
        overwrite=args.overwrite,
        fill_value=args.fill_value,
        format=args.format,
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


def _presets_args(p):
    p.add_argument(
        "--with-weights",
        action="store_true",
        help="only the presets that ship trained weights",
    )


def _presets(args):
    from zoo import presets

    # Only file reads: no model is built.
    names = presets.list_presets(with_weights=args.with_weights)
    shipped = set(presets.list_presets(with_weights=True))
    width = max(len(name) for name in names) if names else 0
    for name in names:
        if name not in shipped:
            print(name)
            continue
        test = (presets.load_metadata(name) or {}).get("metrics", {}).get("test", {})
        units = ", ".join(dict.fromkeys(test.get("units", [])))
        scores = " ".join(
            f"{key.upper()} {test[key]:.4g}" for key in ("mse", "mae") if key in test
        )
        print(
            f"{name:<{width}}  [weights] test {scores}"
            + (f" ({units})" if units else "")
        )
    print(
        f"\n{len(shipped)} of {len(presets.list_presets())} presets ship trained "
        "weights ([weights]; `from_preset` loads them). Test metrics are in "
        "physical units, from `keras-svq evaluate`."
    )


def _summary_args(p):
    _add_experiment_args(p, flags=False)


def _summary(args):
    from keras_svq.training import trainer
    from zoo.param_count import count_torch_params

    config, _ = _experiment(args)
    model = trainer.build_model(config)
    model.summary(print_fn=lambda line, **kwargs: print(line))
    print(f"total params: {count_torch_params(model)}")
    print(f"trainable params: {count_torch_params(model, trainable_only=True)}")


def _demo_args(p):
    p.add_argument(
        "--output-dir",
        default="demo_output",
        help="where runs and plots go (default: demo_output)",
    )
    p.add_argument(
        "--epochs", type=int, help="epochs per model (default: the era5_uk presets')"
    )
    p.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[0],
        help="seeds per model (default: 0); two or more give a 95%% interval and a "
        "paired test of SVQ against no quantizer",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _demo(args):
    from keras_svq.training.demo import run_demo

    run_demo(
        args.output_dir,
        epochs=args.epochs,
        seeds=args.seeds,
        verbose=0 if args.quiet else 2,
    )


def _viz_commands():
    """`keras_svq.viz.commands` (the `plot` and `explain` subcommands), or None."""
    try:
        from keras_svq.viz import commands
    except ImportError as e:  # an optional dependency is missing
        logger.debug("plot/explain unavailable: %s", e)
        return None
    return commands


def _plot_args(p):
    commands = _viz_commands()
    if commands is not None:
        commands.add_plot_arguments(p)


def _plot(args):
    commands = _viz_commands()
    if commands is None:
        raise UserError(
            "`keras-svq plot` needs matplotlib (pip install keras-svq[viz])"
        )
    commands.plot_command(args)


def _explain_args(p):
    commands = _viz_commands()
    if commands is not None:
        commands.add_explain_arguments(p)


def _explain(args):
    commands = _viz_commands()
    if commands is None:
        raise UserError(
            "`keras-svq explain` needs tf-keras-vis (pip install keras-svq[viz])"
        )
    commands.explain_command(args)


# name -> (help, add_arguments, run)
COMMANDS = {
    "demo": (
        "train SimVP with and without SVQ on the embedded ERA5 sample and compare",
        _demo_args,
        _demo,
    ),
    "train": ("train a model from a YAML experiment or a preset", _train_args, _train),
    "evaluate": (
        "test-split metrics and plots of a trained run",
        _evaluate_args,
        _evaluate,
    ),
    "compare": (
        "train models over seeds on the same data; mean and 95% intervals, paired tests",
        _compare_args,
        _compare,
    ),
    "predict": (
        "forecast new input windows in physical units",
        _predict_args,
        _predict,
    ),
    "export": (
        "export a run as a TF Serving SavedModel or an ONNX model",
        _export_args,
        _export,
    ),
    "presets": ("list the preset names", _presets_args, _presets),
    "plot": ("write the figures of run folders", _plot_args, _plot),
    "explain": ("attribution maps for a forecast region", _explain_args, _explain),
    "summary": ("print a model's layers and parameter counts", _summary_args, _summary),
}


def build_parser():
    parser = _Parser(
        prog="keras-svq", description="Spatio-temporal forecasting with SVQ (Keras 3)."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend to run on (default: $KERAS_BACKEND, else tensorflow); "
        "export and tf.distribute strategies need tensorflow",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name, (help_text, add_arguments, _) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def _configure_logging(verbose):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("keras_svq").setLevel(logging.DEBUG if verbose else logging.INFO)


BACKENDS = ("tensorflow", "jax", "torch")


def _select_backend(name, argv):
    """Runs the command on Keras backend `name`.

    Keras fixes its backend when it is first imported (here, by importing
    keras_svq), so a different backend restarts the command in a fresh
    interpreter with `KERAS_BACKEND` set.
    """
    import keras

    if not name or keras.backend.backend() == name:
        return
    if argv is not None:  # called from Python: the caller owns the process
        raise UserError(
            f"--backend {name}: Keras already runs on {keras.backend.backend()}; "
            f"set KERAS_BACKEND={name} before importing keras_svq"
        )
    os.environ["KERAS_BACKEND"] = name
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "keras_svq", *sys.argv[1:]])


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread so that `finally` blocks clean up."""


def _on_sigterm(signum, frame):
    raise _Terminated()


def main(argv=None):
    """Entry point; returns the exit status (0 ok, 1 run failed, 2 user error)."""
    if argv is None:  # the console script owns the process and its signals
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            raise UserError("keras-svq: choose a command: " + ", ".join(COMMANDS))
        _configure_logging(args.verbose)
        _select_backend(args.backend, argv)
        COMMANDS[args.command][2](args)
        return 0
    except UserError as e:
        message = " ".join(str(e).split())
        print(f"keras-svq: error: {message}", file=sys.stderr)
        if isinstance(e, DiskFull):
            _exit_state["hard"] = True
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("keras-svq: interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("keras-svq: terminated (SIGTERM)", file=sys.stderr)
        return 143
    except Exception as e:  # noqa: BLE001
        from keras_svq.training.trainer import RunFailed

        if isinstance(e, RunFailed):
            print(f"keras-svq: {' '.join(str(e).split())}", file=sys.stderr)
            return EXIT_RUN_FAILED
        raise


# Set after a full disk: libraries that failed mid-write (HDF5) can crash in
# their finalisers, so the console script then exits without running them.
_exit_state = {"hard": False}


def console_main():
    code = main()
    if _exit_state["hard"]:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    console_main()
