"""The `ata-jax` command: argument parsing, validation and output only; the library computes.

Each subcommand is a module here with `add_parser(commands)`; its handler returns the exit
status. A user mistake ends with one line on stderr naming the problem and exit status 2,
never a traceback; an interrupted run keeps what it finished.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from ata_jax.cli.common import USAGE_ERROR, OneLineParser, UsageError

SUBCOMMANDS = ("simulate", "train", "sweep", "reproduce")
"""The modules of `ata_jax.cli` that register a subcommand, in `--help` order."""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="ata-jax", description="Vectorised simulator of adaptive task "
                           "allocation (ATA) for distributed machine learning.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    commands.required = True
    for name in SUBCOMMANDS:
        importlib.import_module(f"ata_jax.cli.{name}").add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from ata_jax.devices import _backends_initialized, use_all_cpu_cores

    if not _backends_initialized():
        use_all_cpu_cores()  # seeds run on every core (results do not depend on it)
    parser = build_parser()
    try:
        arguments = parser.parse_args(argv)
        return arguments.handler(arguments)
    except UsageError as error:
        print(str(error), file=sys.stderr)
        return USAGE_ERROR
    except OSError as error:  # a path that cannot be read or written: one line, not a trace
        where = f": {error.filename}" if getattr(error, "filename", None) else ""
        print(f"ata-jax: {error.strerror or error}{where}", file=sys.stderr)
        return USAGE_ERROR

