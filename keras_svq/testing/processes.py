"""Run Python code in a fresh interpreter, as tests that need one do."""

import subprocess
import sys


def run_python(code, *, env=None, cwd=None, timeout=600):
    """Runs `python -c code`; returns its stdout, or fails with its stderr's tail."""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout
