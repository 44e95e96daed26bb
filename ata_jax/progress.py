"""Progress of long commands on stderr: a tqdm bar on a terminal, plain lines otherwise.

The library (`simulate`, `run_sweep`, `train`) reports progress between compiled calls, never
inside jitted code, through `notify(progress, line, done=, total=)`. `progress` is either a
plain callable that takes one line (it hears only the lines) or a `Progress`, which draws a
bar from the counts on a terminal and writes the lines when stderr is a file or a pipe (CI
logs get no carriage returns). A command that calls library code several layers down (e.g.
`ata-jax reproduce`) installs its `Progress` with `reporting(progress)`, and a library call
given no `progress` of its own reports to it (`current()`).
"""

from __future__ import annotations

import contextlib
import contextvars
import sys
from typing import Callable, TextIO, Union

_CURRENT: contextvars.ContextVar["Progress | None"] = contextvars.ContextVar(
    "ata_jax_progress", default=None)


class Progress:
    """Progress of one command on `stream` (default: sys.stderr, looked up when created).

    Called as progress(line, done=None, total=None): `done` of `total` units (runs) of the
    current task are finished. On a terminal (stream.isatty()) that moves a tqdm bar (a
    new total, or a count that goes back, starts a new task: the bar is reset) and a
    `line` without counts is printed above the bar; otherwise each line is written as it
    is, and a call with counts but no line writes nothing.
    """

    def __init__(self, description: str, *, stream: TextIO | None = None, unit: str = "run"):
        self.stream = sys.stderr if stream is None else stream
        self.description = description
        self.unit = unit
        isatty = getattr(self.stream, "isatty", None)
        self.on_terminal = bool(isatty and isatty())
        self.bar = None

    def __call__(self, line: str | None, done: int | None = None,
                 total: int | None = None) -> None:
        if not self.on_terminal:
            if line:
                self._write(line)
            return
        if done is None:
            if line:
                self._write_above(line)
            return
        self._move_bar(done, total)

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def _write_above(self, line: str) -> None:
        from tqdm import tqdm

        if self.bar is None:
            self._write(line)
        else:
            tqdm.write(line, file=self.stream)

    def _move_bar(self, done: int, total: int | None) -> None:
        from tqdm import tqdm

        if self.bar is None:
            # no monitor thread: our bars are moved between compiled calls only, and a
            # thread left running beside XLA's compiles is one more thing to rule out
            tqdm.monitor_interval = 0
            self.bar = tqdm(total=total, desc=self.description, unit=self.unit,
                            file=self.stream, dynamic_ncols=True, leave=True)
        elif (total is not None and total != self.bar.total) or done < self.bar.n:
            self.bar.reset(total=total)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        """End the bar (a terminal keeps its last state); lines need no ending."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


ProgressLike = Union[Progress, Callable[[str], None], None]
"""What a library call takes as `progress`: a Progress, a callable of one line, or None."""


def notify(progress: ProgressLike, line: str | None, *, done: int | None = None,
           total: int | None = None) -> None:
    """Report to `progress` (or, when it is None, to the command's `current()` Progress):
    a Progress gets the line and the counts, a plain callable only a line that is given."""
    if progress is None:
        progress = current()
    if progress is None:
        return
    if isinstance(progress, Progress):
        progress(line, done=done, total=total)
    elif line:
        progress(line)


def current() -> Progress | None:
    """The Progress installed by `reporting`, if any."""
    return _CURRENT.get()


@contextlib.contextmanager
def reporting(progress: Progress | None):
    """Within the block, library calls given no progress of their own report to `progress`
    (None: to nothing, e.g. for --quiet); the bar is closed at the end."""
    token = _CURRENT.set(progress)
    try:
        yield progress
    finally:
        _CURRENT.reset(token)
        if progress is not None:
            progress.close()
