"""Where a result came from: the package version, device and command, recorded beside
figures, sweeps and labelled results."""

from __future__ import annotations

import pathlib
import shlex
import sys
from importlib import metadata


def package_version() -> str:
    """The installed ata-jax version, or 'unknown' when run from a source tree."""
    try:
        return metadata.version("ata-jax")
    except metadata.PackageNotFoundError:
        return "unknown"


def provenance() -> dict:
    """Where a result comes from: ata_jax and jax versions, device kind and count, and the
    command as typed (`command_line`)."""
    import jax

    return {"ata_jax": package_version(), "jax": jax.__version__,
            "device": jax.devices()[0].device_kind, "device_count": jax.local_device_count(),
            "command": command_line()}


def command_line(argv: list[str] | None = None) -> str:
    """The command as a user types it: `ata-jax ARGS` for the command line (run as the
    installed script or as `python -m ata_jax.cli`), else the program's file name and its
    arguments; no path of the machine that ran it."""
    argv = list(sys.argv if argv is None else argv)
    program = pathlib.PurePath(argv[0]) if argv else pathlib.PurePath("")
    if program.name == "ata-jax" or program.parts[-3:] == ("ata_jax", "cli", "__main__.py"):
        return shlex.join(["ata-jax", *argv[1:]])
    return shlex.join([program.name, *argv[1:]])
