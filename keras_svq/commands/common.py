"""Arguments and helpers shared by several commands (light: no Keras at import).

Options whose default belongs to a library function are added with
`default=argparse.SUPPRESS` and passed on with `given(args, ...)` only when
the user set them, so the function's signature is the one place that
defines the default.
"""

import argparse
import pathlib

from keras_svq.io_utils import UserError


def given(args, *names):
    """`{name: value}` of the options among `names` that the user passed."""
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def add_set(parser, help_text):
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help=help_text
    )


def add_data_dir(parser):
    parser.add_argument("--data-dir", help="folder holding a full dataset's files")


def add_weights(parser):
    parser.add_argument("--weights", help="checkpoint (default: the run's best)")


def add_experiment_args(parser, *, flags=True):
    """--config/--preset, --set, --data-dir (and with `flags` the shortcut flags)."""
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--config", help="YAML experiment file")
    source.add_argument(
        "--preset",
        help="preset name, e.g. era5_uk/simvp_gsta (see `keras-svq presets`)",
    )
    add_set(
        parser, "override a config value, e.g. --set training.epochs=5 (repeatable)"
    )
    add_data_dir(parser)
    if flags:
        parser.add_argument("--seed", type=int, help="= --set training.seed=N")
        parser.add_argument(
            "--mixed-precision",
            action="store_true",
            help="= --set training.mixed_precision=true",
        )
        parser.add_argument(
            "--xla", action="store_true", help="= --set training.jit_compile=true"
        )
        parser.add_argument("--epochs", type=int, help="= --set training.epochs=N")


def add_baselines(parser):
    parser.add_argument(
        "--baselines",
        nargs="+",
        default=argparse.SUPPRESS,
        help="baselines scored beside the model (default: persistence climatology; "
        "optical_flow needs pysteps)",
    )


def add_fill_value(parser):
    parser.add_argument(
        "--fill-value",
        type=float,
        help="write this value (e.g. the data's missing code) instead of NaN where "
        "no forecast can be valid (masked, padded or outside the crop)",
    )


def add_quiet(parser, help_text="no progress bars"):
    parser.add_argument("--quiet", action="store_true", help=help_text)


def parse_set(items):
    from keras_svq.training import config as config_lib

    return config_lib.parse_set(items)


def experiment(args):
    """`(config, default run name)` from --config or --preset, with --set and flags."""
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
