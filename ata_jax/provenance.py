"""Where a result came from: the package version, recorded beside figures and sweeps."""

from __future__ import annotations

from importlib import metadata


def package_version() -> str:
    """The installed ata-jax version, or 'unknown' when run from a source tree."""
    try:
        return metadata.version("ata-jax")
    except metadata.PackageNotFoundError:
        return "unknown"
