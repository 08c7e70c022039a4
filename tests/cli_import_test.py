"""`keras-svq --help` and `keras-svq presets` import no Keras and no TensorFlow;
a usage mistake is one line on stderr.

Asserts on `sys.modules` (and Python's import log), not on time: the command
answers at once when nothing heavy is imported.
"""

import os
import pathlib
import subprocess
import sys

import pytest

HEAVY = ("tensorflow", "keras", "jax", "torch", "zoo", "matplotlib")

# The console process, emulated: `sys.argv[0]` is the console script's.
_EMULATED = """
import sys
sys.argv = ["/usr/bin/keras-svq", *sys.argv[1:]]
from keras_svq.cli import main
try:
    code = main()
except SystemExit as e:  # --help
    code = e.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
print("HEAVY", heavy, "CODE", code)
"""


def _run(command, **kwargs):
    return subprocess.run(
        command, capture_output=True, text=True, timeout=300, **kwargs
    )


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["presets"], ["presets", "--with-weights"], ["train", "--help"]]
    + [[name, "--help"] for name in ("evaluate", "plot", "explain", "summary")],
)
def test_console_process_imports_no_keras(argv):
    code = f"HEAVY = {HEAVY!r}\n{_EMULATED}"
    proc = _run([sys.executable, "-c", code, *argv])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY [] CODE 0", proc.stdout


def _imported(stderr):
    """Top-level packages named in Python's import log (`-X importtime`)."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def _console_script():
    path = pathlib.Path(sys.executable).with_name("keras-svq")
    if not path.exists():
        pytest.skip("the keras-svq console script is not installed")
    return str(path)


@pytest.mark.parametrize("argv", [["--help"], ["presets"]])
def test_real_console_script_and_module_import_no_keras(argv):
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    for command in ([_console_script()], [sys.executable, "-m", "keras_svq"]):
        proc = _run([*command, *argv], env=env)
        assert proc.returncode == 0, proc.stderr[-2000:]
        imported = _imported(proc.stderr)
        assert "keras_svq" in imported  # the log is there
        assert not imported & set(HEAVY), (command, imported & set(HEAVY))
    listing = proc.stdout.splitlines()
    if argv == ["presets"]:
        assert "weather_t2m/simvp_gsta" in listing
        assert any("[weights] test MSE" in line for line in listing)


def test_unknown_preset_is_one_line_on_stderr_exit_2():
    proc = _run([sys.executable, "-m", "keras_svq", "train", "--preset", "nope"])
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "keras-svq: error: Unknown preset 'nope'; run `keras-svq presets` to list them"
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--preset", "era5_uk/simvp_gst"],
        ["summary", "--preset", "nope"],
        [
            "compare",
            "--preset",
            "nope",
            "--preset",
            "era5_uk/simvp_gsta",
            "--output-dir",
            "c",
        ],
    ],
)
def test_unknown_preset_is_answered_before_tensorflow_loads(argv):
    code = f"HEAVY = {HEAVY!r}\n{_EMULATED}"
    proc = _run([sys.executable, "-c", code, *argv])
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY [] CODE 2", proc.stdout
    [line] = proc.stderr.splitlines()
    assert line.startswith("keras-svq: error: Unknown preset"), line


def test_library_import_registers_the_zoo():
    # Outside the command's process `import keras_svq` is the full import.
    code = (
        "import sys, keras_svq\n"
        "print('zoo' in sys.modules, 'keras' in sys.modules, "
        "keras_svq.SparseVectorQuantizer.__name__)"
    )
    proc = _run([sys.executable, "-c", code])
    assert proc.stdout.split() == ["True", "True", "SparseVectorQuantizer"], proc.stderr


@pytest.mark.parametrize(
    "argv, orig_argv, expected",
    [
        (["/venv/bin/keras-svq", "presets"], None, True),
        (["/venv/Scripts/keras-svq.exe"], None, True),
        (["-m"], ["python", "-m", "keras_svq", "presets"], True),
        (["-m"], ["python", "-X", "importtime", "-mkeras_svq"], True),
        (["-m"], ["python", "-m", "keras_svq.cli"], False),
        (["-m"], ["python", "-m", "pytest", "-m", "keras_svq"], False),
        (["-c"], ["python", "-c", "import keras_svq"], False),
        (["/venv/bin/pytest"], None, False),
    ],
)
def test_command_process_detection(monkeypatch, argv, orig_argv, expected):
    import keras_svq

    monkeypatch.setattr(sys, "argv", argv)
    if orig_argv is not None:
        monkeypatch.setattr(sys, "orig_argv", orig_argv, raising=False)
    assert keras_svq._is_command_process() is expected


def test_every_command_module_has_the_contract():
    from keras_svq import commands

    for name in commands.COMMANDS:
        module = commands.load(name)
        assert isinstance(module.HELP, str) and "\n" not in module.HELP
        assert callable(module.add_arguments) and callable(module.run)


def test_export_formats_match_the_library():
    from keras_svq.commands import export as export_command
    from keras_svq.training import run_commands

    assert export_command.FORMATS == run_commands.EXPORT_FORMATS


def test_export_compute_dtypes_match_the_library():
    from keras_svq.commands import export as export_command
    from keras_svq.export import precision

    assert export_command.COMPUTE_DTYPES == precision.COMPUTE_DTYPES
