"""The README's code runs as written."""

import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.S)


def test_python_example_runs(capsys):
    (example,) = _blocks("python")
    exec(compile(example, str(README), "exec"), {})
    assert capsys.readouterr().out.strip().endswith("(2, 16, 16, 32)")


def test_ci_runs_the_readme_commands():
    ci = (README.parent / ".ci" / "run").read_text()
    setup, _main_job, tests = _blocks("bash")[:3]
    for command in setup.strip().splitlines() + tests.strip().splitlines():
        assert command in ci, f"README command missing from .ci/run: {command}"
