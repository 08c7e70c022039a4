"""The `keras-svq` subcommands: one module per command, registered in `COMMANDS`.

Every module has `HELP` (one line), `add_arguments(parser)` and `run(args)`.
Modules import only the standard library and light `keras_svq` modules at
import time, so that `keras-svq --help` builds every subparser without
importing Keras or TensorFlow; `run` imports what the command needs.
`LIGHT = True` marks the commands that need no Keras at all (`presets`):
for the others `keras_svq.cli` completes the package import (the zoo
registered for deserialisation) before calling `run`.

To add a command, write `keras_svq/commands/<name>.py` with those three
names and add a line to `COMMANDS`.
"""

import importlib

# name -> module; the order of `keras-svq --help`.
COMMANDS = {
    "demo": "keras_svq.commands.demo",
    "train": "keras_svq.commands.train",
    "evaluate": "keras_svq.commands.evaluate",
    "compare": "keras_svq.commands.compare",
    "predict": "keras_svq.commands.predict",
    "export": "keras_svq.commands.export",
    "presets": "keras_svq.commands.presets",
    "plot": "keras_svq.commands.plot",
    "explain": "keras_svq.commands.explain",
    "summary": "keras_svq.commands.summary",
}


def load(name):
    """The module of command `name` (imported on first use)."""
    return importlib.import_module(COMMANDS[name])
