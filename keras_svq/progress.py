"""Progress bars with an ETA on stderr, for the commands that take a while.

On a terminal, `Progress` redraws one line (`evaluate  12/40 [=====>   ] 30%
ETA 0:14`); elsewhere (a log file, CI, a pipe) it logs one line when a stage
starts and one when it ends, so logs stay short. stdout stays for results.
Keras' own `Progbar` prints to stdout and draws every step, so commands use
this instead (training keeps Keras' bar).

Example:

```python
from keras_svq.progress import Progress

for batch in Progress.track(dataset, "evaluate", total=40, unit="batch"):
    ...
```
"""

import logging
import sys
import time

logger = logging.getLogger("keras_svq")

_MIN_REDRAW_SECONDS = 0.1


def _duration(seconds):
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return (
        f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"
    )


class Progress:
    """One stage's progress: a bar with ETA on a terminal, else start/end log lines.

    Args:
        label: str. The stage, e.g. "evaluate".
        total: int or None. Number of steps; None when unknown (no ETA).
        unit: str. What a step is, for the log lines. Defaults to "step".
        enabled: bool. False draws and logs nothing. Defaults to True.
        stream: file or None. Defaults to `sys.stderr`.

    Example:

    ```python
    with Progress("export", total=3) as bar:
        bar.update(note="loading the model")
        ...
    ```
    """

    def __init__(self, label, total=None, *, unit="step", enabled=True, stream=None):
        self.label = label
        self.total = None if total is None or total < 0 else int(total)
        self.unit = unit
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self.note = ""
        self._start = time.monotonic()
        self._drawn = 0.0
        self._closed = False
        self._last = None
        isatty = getattr(self.stream, "isatty", None)
        self._tty = bool(isatty and isatty())
        if enabled and not self._tty:
            size = "" if self.total is None else f" ({self.total} {self.unit}s)"
            logger.info("%s: started%s", label, size)

    @classmethod
    def track(cls, iterable, label, total=None, **kwargs):
        """Yields the items of `iterable`, advancing a `Progress` per item."""
        if total is None and hasattr(iterable, "__len__"):
            total = len(iterable)
        with cls(label, total, **kwargs) as bar:
            for item in iterable:
                yield item
                bar.update()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(failed=exc_type is not None)

    def update(self, steps=1, note=None):
        """Advances by `steps` (0 just changes the note) and redraws."""
        self.done += steps
        if note is not None:
            self.note = note
        if not (self.enabled and self._tty):
            return
        now = time.monotonic()
        if now - self._drawn >= _MIN_REDRAW_SECONDS or self.done == self.total:
            self._drawn = now
            self._draw(now)

    def _draw(self, now):
        elapsed = now - self._start
        if self.total:
            fraction = min(self.done / self.total, 1.0)
            width = 20
            filled = int(width * fraction)
            bar = "=" * filled + (">" if filled < width else "")
            text = (
                f"{self.label} {self.done}/{self.total} [{bar:<{width}}] "
                f"{100 * fraction:3.0f}%"
            )
            if 0 < self.done < self.total:
                text += (
                    f" ETA {_duration(elapsed * (self.total - self.done) / self.done)}"
                )
            else:
                text += f" {_duration(elapsed)}"
        else:
            text = f"{self.label} {self.done} {self.unit}s {_duration(elapsed)}"
        if self.note:
            text += f" {self.note}"
        if text == self._last:
            return
        self._last = text
        self.stream.write("\r" + text + "\033[K")
        self.stream.flush()

    def close(self, failed=False):
        """Ends the line (terminal) or logs the stage's end (elsewhere)."""
        if self._closed or not self.enabled:
            return
        self._closed = True
        elapsed = time.monotonic() - self._start
        if self._tty:
            self._draw(time.monotonic())
            self.stream.write("\n")
            self.stream.flush()
        elif not failed:
            logger.info(
                "%s: done, %d %ss in %s",
                self.label,
                self.done,
                self.unit,
                _duration(elapsed),
            )
