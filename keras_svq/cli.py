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
keras-svq presets [--with-weights]
keras-svq plot --run DIR [--run OTHER ...] [--example N] [--split test] [--gif]
keras-svq explain --run DIR --region R0:R1,C0:C1 --lead N [--method saliency|smoothgrad|gradcam]
keras-svq summary (--preset NAME | --config FILE)
keras-svq [-v] [--backend tensorflow|jax|torch] COMMAND ...
```

Each command is a module of `keras_svq.commands` (`HELP`, `add_arguments`,
`run`), listed in `keras_svq.commands.COMMANDS`; this module builds the
parser, configures logging and dispatches. Building the parser imports no
Keras: `keras-svq --help`, `keras-svq COMMAND --help` and `keras-svq
presets` answer at once (see `keras_svq/__init__.py` for how the console
process imports the package). TensorFlow's C++ and absl logging are silenced
before TensorFlow is imported, unless `-v`.

User mistakes (a missing or corrupt file, an unknown preset or config key, a
wrongly typed value, an output folder holding another run or in use by
another process, an unwritable folder, a full disk) end with one line on
stderr and exit status 2; a run that fails (NaN loss or weights) exits with 1.
SIGTERM ends a command like Ctrl-C (exit 143; Ctrl-C: 130): temporary files
are removed and a run resumes from its last epoch.
"""

import argparse
import contextlib
import logging
import os
import re
import signal
import sys
import tempfile

from keras_svq import commands
from keras_svq.io_utils import DiskFull
from keras_svq.io_utils import UserError

logger = logging.getLogger("keras_svq")

EXIT_USER_ERROR = 2
EXIT_RUN_FAILED = 1
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143

BACKENDS = ("tensorflow", "jax", "torch")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is a one-line `UserError` (exit 2)."""

    def error(self, message):
        raise UserError(f"{self.prog}: {message}")


def build_parser():
    """The `keras-svq` parser, with one subparser per entry of `COMMANDS`."""
    parser = _Parser(
        prog="keras-svq", description="Spatio-temporal forecasting with SVQ (Keras 3)."
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="debug logging, TensorFlow's logging included",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="Keras backend to run on (default: $KERAS_BACKEND, else tensorflow); "
        "export and tf.distribute strategies need tensorflow",
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name in commands.COMMANDS:
        module = commands.load(name)
        # argparse %-formats `help` (not `description`): "95%" needs escaping.
        help_text = module.HELP.replace("%", "%%")
        module.add_arguments(
            sub.add_parser(name, help=help_text, description=module.HELP)
        )
    return parser


def _configure_logging(verbose):
    """One handler on the root logger, set up before TensorFlow is imported.

    TensorFlow's C++ logging (oneDNN, CUDA, cuInit and absl's "All log
    messages before absl::InitializeLog()" line) obeys
    `TF_CPP_MIN_LOG_LEVEL` only when it is set before TensorFlow loads; a
    value the user set is kept. TensorFlow's Python logger adds its own
    handler only when the root logger has none, so configuring the root
    first prints each of its messages once.
    """
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Imported before the root logger had a handler (an in-process caller
    # imported TensorFlow first): its own handler prints, the root's not.
    tf_logger = logging.getLogger("tensorflow")
    if tf_logger.handlers:
        tf_logger.propagate = False


# TensorFlow's C++ start-up lines: absl's "before InitializeLog" notice, glog
# style `I0000 00:00:... file.cc:31] ...` lines and the CPU-feature advice.
_STARTUP_NOISE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\)"
    r"|[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\]"
    r"|To enable the following instructions: .* rebuild TensorFlow"
)


@contextlib.contextmanager
def _startup_lines_dropped(verbose):
    """Drops TensorFlow's C++ start-up lines written to stderr while importing.

    Some of them (the CUDA stub's, absl's notice) come from libraries that
    log before TensorFlow reads `TF_CPP_MIN_LOG_LEVEL` set in this process,
    so the file descriptor is caught for the import and every other line
    written meanwhile (Python warnings, tracebacks) is written back.
    """
    if verbose:
        yield
        return
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2
        yield
        return
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            text = caught.read().decode(errors="replace")
            kept = [
                line
                for line in text.splitlines(keepends=True)
                if not _STARTUP_NOISE.match(line)
            ]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


def _quiet_absl(verbose):
    """absl's Python logging (Keras warns through it) at ERROR unless -v."""
    if verbose:
        return
    try:
        from absl import logging as absl_logging
    except ImportError:  # absl comes with TensorFlow only
        return
    absl_logging.set_verbosity(absl_logging.ERROR)


def _select_backend(name, argv):
    """Runs the command on Keras backend `name`.

    Keras fixes its backend when it is first imported. Before that (the
    console process) setting `KERAS_BACKEND` is enough; after it, a
    different backend restarts the command in a fresh interpreter.
    """
    if not name:
        return
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = name
        return
    import keras

    if keras.backend.backend() == name:
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


def _run(argv):
    args = build_parser().parse_args(argv)
    if args.command is None:
        raise UserError("keras-svq: choose a command: " + ", ".join(commands.COMMANDS))
    _configure_logging(args.verbose)
    module = commands.load(args.command)
    if getattr(args, "preset", None):
        # A mistyped preset name is answered before TensorFlow loads.
        from keras_svq import preset_catalog

        names = args.preset if isinstance(args.preset, list) else [args.preset]
        for name in names:
            if not preset_catalog.is_preset_dir(name):
                preset_catalog.preset_path(name)
    if not getattr(module, "LIGHT", False):
        import keras_svq
        from keras_svq import runtime

        _select_backend(args.backend, argv)
        with _startup_lines_dropped(args.verbose):
            runtime.configure()  # malloc settings, before TensorFlow loads
            keras_svq.complete_import()
        _quiet_absl(args.verbose)
    module.run(args)


def _is_run_failed(error):
    # RunFailed lives in the trainer; a run that never imported it cannot fail so.
    trainer = sys.modules.get("keras_svq.training.trainer")
    return trainer is not None and isinstance(error, trainer.RunFailed)


def main(argv=None):
    """Entry point; returns the exit status (0 ok, 1 run failed, 2 user error).

    With `argv=None` (the console script) the process is the command's: it
    handles SIGTERM, and after a full disk exits at once (`os._exit`), since
    libraries that failed mid-write (HDF5) can crash in their finalisers.
    """
    if argv is None:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        _run(argv)
        return 0
    except UserError as e:
        message = " ".join(str(e).split())
        print(f"keras-svq: error: {message}", file=sys.stderr)
        if isinstance(e, DiskFull) and argv is None:
            _hard_exit(EXIT_USER_ERROR)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("keras-svq: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Terminated:
        print("keras-svq: terminated (SIGTERM)", file=sys.stderr)
        return EXIT_TERMINATED
    except Exception as e:  # noqa: BLE001
        if _is_run_failed(e):
            print(f"keras-svq: {' '.join(str(e).split())}", file=sys.stderr)
            return EXIT_RUN_FAILED
        raise


def _hard_exit(code):
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def console_main():
    """The console script: `sys.exit(main())`."""
    sys.exit(main())


if __name__ == "__main__":
    console_main()
