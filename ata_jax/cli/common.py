"""Shared pieces of the `ata-jax` subcommands: one-line usage errors, argument types,
atomic JSON output."""

from __future__ import annotations

import argparse
import json
import math
import os
import tempfile

USAGE_ERROR = 2
MAX_BUDGET = 1024
INTERRUPTED = 130


class UsageError(Exception):
    """A mistake in the command line or its inputs, reported as one line."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line on stderr (no usage dump) and exit status 2."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text}")
    return value


def seed_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer seed, got {text!r}") from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"expected a seed in [0, 2^32), got {value}")
    return value


def discount_value(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text}")
    return value


def policy_list(text: str) -> list[str]:
    from ata_jax.allocators import ALL_POLICY_NAMES

    names = [name.strip() for name in text.split(",")]
    if not text.strip() or any(not name for name in names):
        raise argparse.ArgumentTypeError(f"expected a comma list of policies from "
                                         f"{', '.join(ALL_POLICY_NAMES)}, got {text!r}")
    for name in names:
        if name not in ALL_POLICY_NAMES:
            raise argparse.ArgumentTypeError(f"unknown policy {name!r}; valid policies: "
                                             f"{', '.join(ALL_POLICY_NAMES)}")
    if len(set(names)) != len(names):
        raise argparse.ArgumentTypeError(f"a policy is listed twice in {text!r}")
    return names


def write_json_atomically(path: str, document: dict) -> None:
    """Write to a temporary file beside `path`, then rename: never a half-written file."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".ata-jax-", suffix=".json")
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(document, stream, indent=1, allow_nan=False)
            stream.write("\n")
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def check_output_path(path: str | None, command: str = "ata-jax") -> None:
    """A usage error unless `path` can be written (its directory exists and is writable)."""
    if path is None:
        return
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise UsageError(f"{command}: --out {path}: directory {directory} does not exist")
    if os.path.isdir(path):
        raise UsageError(f"{command}: --out {path} is a directory")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"{command}: --out {path}: directory is not writable")
