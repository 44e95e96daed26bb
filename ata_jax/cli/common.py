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


def format_number(value: float | None) -> str:
    """4 significant digits, scientific from 10^5 on; '-' for a missing value."""
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.4e}"


def load_time_model(command: str, name: str, workers: int | None, rounds: int,
                    budgets: tuple[int, ...] | list[int], **options):
    """The time model `name` (preset, model file or trace) for n = workers, checked against
    the budgets: a UsageError for a bad model, a budget above MAX_BUDGET, or task counters
    that would not fit in 32 bits."""
    from ata_jax.modelfile import resolve_time_model
    from ata_jax.timemodels import ModelError

    for budget in budgets:
        if budget > MAX_BUDGET:
            raise UsageError(f"{command}: --budget {budget} is above {MAX_BUDGET} (a round's "
                             "solver and GTA race unroll B steps at compile time)")
    try:
        model = resolve_time_model(name, workers, rounds, **options)
    except ModelError as error:
        raise UsageError(f"{command}: {error}") from None
    if (model.size + 1) * max(budgets) >= 2**31:
        raise UsageError(f"{command}: workers x budget must stay below 2^31 (task counters "
                         "are 32-bit)")
    return model


def learner_parameters(command: str, model, policies, alpha: float | None,
                       eta: float | None) -> tuple[float, float]:
    """(α, η): the given values or the model's true ones; a UsageError when a policy that
    reads one would get an infinite true value (a heavy-tailed, untruncated lognormal)."""
    alpha = model.alpha if alpha is None else alpha
    eta = model.eta if eta is None else eta
    for name, flag, value in (("ata", "--alpha", alpha), ("ata-empirical", "--eta", eta)):
        if ({name, f"{name}-discounted", f"{name}-window"} & set(policies)
                and not math.isfinite(value)):
            raise UsageError(f"{command}: the model's true {flag[2:]} is infinite (a "
                             f"heavy-tailed, untruncated lognormal worker): pass {flag}")
    return alpha, eta
