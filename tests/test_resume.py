"""A `simulate` killed with SIGKILL keeps its finished chunks in --checkpoint, and --resume
computes only the rest: the same JSON as an uninterrupted run, timing aside."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

ARGUMENTS = ["simulate", "--workers", "5", "--budget", "3", "--rounds", "40", "--seeds", "32",
             "--policies", "ata-empirical,gta", "--memory-mb", "0.004"]


def command(*extra):
    return [sys.executable, "-m", "ata_jax.cli", *ARGUMENTS, *extra]


def results(path):
    with open(path) as stream:
        document = json.load(stream)
    document.pop("timing")
    return document


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_uninterrupted_results(tmp_path):
    environment = dict(os.environ, JAX_PLATFORMS="cpu")
    whole = tmp_path / "whole.json"
    subprocess.run(command("--out", str(whole)), check=True, capture_output=True,
                   env=environment, timeout=300)
    checkpoint, out = tmp_path / "checkpoint", tmp_path / "resumed.json"
    process = subprocess.Popen(command("--checkpoint", str(checkpoint), "--out", str(out)),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env=environment)
    deadline = time.monotonic() + 240
    while not (checkpoint.is_dir() and any(name.endswith(".npz")
                                           for name in os.listdir(checkpoint))):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    kept = [name for name in os.listdir(checkpoint) if name.endswith(".npz")]
    again = subprocess.run(command("--checkpoint", str(checkpoint), "--out", str(out),
                                   "--resume"), capture_output=True, text=True,
                           env=environment, timeout=300)
    assert again.returncode == 0, again.stderr
    assert results(out) == results(whole)
    with open(checkpoint / "manifest.json") as stream:
        plan = json.load(stream)["chunk_runs"]
    chunks = sum(-(-32 // size) for size in plan.values())
    assert 1 <= len(kept) < chunks  # the run was cut short
    assert len([name for name in os.listdir(checkpoint) if name.endswith(".npz")]) == chunks


def test_checkpoint_mistakes_are_one_line(tmp_path, fails_with_one_line):
    fails_with_one_line(["simulate", "--resume"], "--resume needs --checkpoint")
    fails_with_one_line(["simulate", "--checkpoint", str(tmp_path), "--resume"],
                        "holds no simulation")
    (tmp_path / "other").write_text("x")
    fails_with_one_line(["simulate", "--checkpoint", str(tmp_path)], "is not empty")


def test_a_resume_with_other_settings_is_refused(tmp_path, fails_with_one_line, capsys):
    from ata_jax.cli import main

    checkpoint = str(tmp_path / "checkpoint")
    small = ["simulate", "--workers", "3", "--budget", "2", "--rounds", "5", "--seeds", "2",
             "--policies", "gta", "--checkpoint", checkpoint]
    assert main(small) == 0
    capsys.readouterr()  # its table and progress line
    fails_with_one_line([*small], "already holds a simulation")
    fails_with_one_line([*small[:-2], "--seed", "1", "--checkpoint", checkpoint, "--resume"],
                        "different configuration")
    assert main([*small, "--resume"]) == 0  # everything loaded, nothing computed


def test_an_unreadable_chunk_on_resume_is_one_line(tmp_path, fails_with_one_line, capsys):
    """A chunk file left empty or cut short (a full disk, a copy that broke off) is named in
    one line on --resume, not numpy's EOFError."""
    from ata_jax.cli import main

    checkpoint = tmp_path / "checkpoint"
    small = ["simulate", "--workers", "3", "--budget", "2", "--rounds", "5", "--seeds", "8",
             "--policies", "gta", "--memory-mb", "0.002", "--checkpoint", str(checkpoint)]
    assert main(small) == 0
    capsys.readouterr()
    chunks = sorted(checkpoint.glob("*.npz"))
    assert len(chunks) >= 2
    chunks[0].write_bytes(b"")
    fails_with_one_line([*small, "--resume"], "ata-jax simulate: checkpoint chunk",
                        chunks[0].name, "EOFError")
    chunks[0].write_bytes(b"PK\x03\x04 cut short")
    fails_with_one_line([*small, "--resume"], chunks[0].name, "cannot be read")
