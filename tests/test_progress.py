"""Progress on stderr: a bar on a terminal, plain lines in a log, stdout untouched."""

import io
import sys

from ata_jax.cli import main
from ata_jax.progress import Progress, current, notify, reporting

BAR_MARKS = ("\r", "█", "%|", "\x1b[")


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_log_gets_the_lines_and_no_bar():
    stream = io.StringIO()
    progress = Progress("job", stream=stream)
    progress("compiling", None)
    progress(None, done=2, total=4)  # counts alone: nothing in a log
    progress("chunk 2/2", done=4, total=4)
    progress.close()
    text = stream.getvalue()
    assert text == "compiling\nchunk 2/2\n"
    assert not any(mark in text for mark in BAR_MARKS)


def test_a_terminal_gets_a_bar_that_resets_for_a_new_task():
    stream = Terminal()
    progress = Progress("job", stream=stream)
    progress(None, done=3, total=4)
    assert progress.bar is not None and progress.bar.n == 3
    progress("a message", None)
    progress(None, done=1, total=10)  # another task: the bar starts again
    assert progress.bar.n == 1 and progress.bar.total == 10
    progress.close()
    text = stream.getvalue()
    assert "\r" in text and "job" in text and "a message\n" in text and "1/10" in text


def test_notify_gives_a_plain_callable_only_lines_and_defaults_to_the_command_s():
    lines = []
    notify(lines.append, None, done=1, total=2)
    notify(lines.append, "a line", done=2, total=2)
    assert lines == ["a line"]
    stream = io.StringIO()
    assert current() is None
    with reporting(Progress("job", stream=stream)) as installed:
        assert current() is installed
        notify(None, "from below")
        with reporting(None):  # --quiet
            notify(None, "silenced")
    assert current() is None and stream.getvalue() == "from below\n"


SIMULATE = ["simulate", "--workers", "3", "--budget", "2", "--rounds", "4", "--seeds", "8",
            "--policies", "uta", "--memory-mb", "0.00065"]


def test_simulate_draws_a_bar_only_on_a_terminal_and_keeps_stdout_clean(capsys, monkeypatch):
    assert main(SIMULATE) == 0
    logged = capsys.readouterr()
    assert "chunk 1/" in logged.err  # the memory budget cuts the seeds into chunks
    assert not any(mark in logged.err for mark in BAR_MARKS)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert main(SIMULATE) == 0
    drawn = capsys.readouterr()
    assert "\r" in drawn.err and "simulate" in drawn.err and "8/8" in drawn.err
    assert not any(mark in drawn.out for mark in BAR_MARKS)
    assert drawn.out.splitlines()[:-1] == logged.out.splitlines()[:-1]  # the same table


def test_a_log_hears_each_policy_that_ends_in_one_chunk(capsys):
    """Without a memory cut each policy is one chunk; a log still gets a line as each ends."""
    assert main(SIMULATE[:-2] + ["--policies", "uta,gta"]) == 0
    logged = capsys.readouterr()
    assert "uta: 8 runs done" in logged.err and "gta: 8 runs done" in logged.err
    assert "chunk" not in logged.err and "runs done" not in logged.out
