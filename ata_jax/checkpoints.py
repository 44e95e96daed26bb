"""Checkpoint directories shared by `sweep` and `simulate`: a manifest that pins the run's
configuration and chunk plan, and one atomically written `.npz` per finished chunk, so a
killed run keeps whole chunks and `--resume` computes only the rest (docs/formats.md)."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from ata_jax.files import remove_temporary_files, write_json_atomically, write_npz_atomically

MANIFEST = "manifest.json"


def open_checkpoint_directory(directory: str, checkpoint_format: str, config: dict,
                              plan: dict[str, int], resume: bool, command: str,
                              memory_mb: float | None, kind: str = "sweep",
                              error: type[Exception] = ValueError,
                              check_stored=None) -> dict[str, int]:
    """Start or reopen a checkpoint directory of a `kind` run; returns the chunk plan
    (runs per chunk of each group) to follow.

    New run (resume False): `directory` must be absent or empty; writes the manifest.
    Resume: the manifest's format and configuration (compared as JSON) must equal these;
    its chunk plan is kept (a different --memory-mb does not move the boundaries of a
    started run) and the temporary files a killed run left are deleted. check_stored(stored
    config), when given, is called first, to name a difference more precisely than the
    comparison can. Mistakes raise `error` with one line.
    """
    manifest_path = os.path.join(directory, MANIFEST)
    if resume:
        if not os.path.exists(manifest_path):
            raise error(f"--resume: {directory} holds no {kind} (no {MANIFEST})")
        try:
            with open(manifest_path) as stream:
                manifest = json.load(stream)
            written = manifest.get("format")
            stored = manifest["config"]
            kept = {name: int(size) for name, size in manifest["chunk_runs"].items()}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as failure:
            raise error(f"--resume: cannot read {manifest_path}: {failure}") from None
        if written != checkpoint_format:
            raise error(f"--resume: {directory} was written in checkpoint format "
                        f"{written!r}, this version reads {checkpoint_format!r}: start the "
                        f"{kind} in a new directory")
        if check_stored is not None and isinstance(stored, dict):
            check_stored(stored)
        expected = json.loads(json.dumps(config))
        if stored != expected:
            differ = [key for key in sorted(set(expected) | set(stored or {}))
                      if not isinstance(stored, dict) or stored.get(key) != expected.get(key)]
            raise error(f"--resume: {directory} holds a {kind} with a different "
                        f"configuration ({', '.join(differ) or 'format'} differ)")
        remove_temporary_files(directory)
        return kept
    if os.path.exists(manifest_path):
        raise error(f"--checkpoint {directory} already holds a {kind}: pass --resume to "
                    "continue it, or choose another directory")
    if os.path.exists(directory):
        if not os.path.isdir(directory):
            raise error(f"--checkpoint {directory} is not a directory")
        if os.listdir(directory):
            raise error(f"--checkpoint {directory} is not empty and holds no {kind}")
    else:
        parent = os.path.dirname(os.path.abspath(directory))
        if not os.path.isdir(parent):
            raise error(f"--checkpoint {directory}: directory {parent} does not exist")
        os.mkdir(directory)
    write_manifest(directory, checkpoint_format, config, plan, command, memory_mb)
    return dict(plan)


def write_manifest(directory: str, checkpoint_format: str, config: dict, plan: dict[str, int],
                   command: str, memory_mb: float | None) -> None:
    """The manifest: format, config, chunk_runs, memory_mb, the package version, command."""
    from ata_jax.provenance import package_version

    write_json_atomically(os.path.join(directory, MANIFEST), {
        "format": checkpoint_format, "config": config, "chunk_runs": plan,
        "memory_mb": memory_mb, "ata_jax": package_version(), "command": command})


def chunk_path(directory: str, group: str, index: int) -> str:
    return os.path.join(directory, f"{group}.chunk{index:05d}.npz")


class ChunkStore:
    """A checkpoint directory whose chunk plan grows group by group as a run reaches them
    (`simulate`): `chunk_runs` fixes a group's chunk size the first time and keeps it on
    resume, `load` and `save` read and write one chunk's arrays."""

    def __init__(self, directory: str, checkpoint_format: str, config: dict, resume: bool,
                 command: str, memory_mb: float | None, kind: str,
                 error: type[Exception] = ValueError):
        self.directory, self.format, self.config = directory, checkpoint_format, config
        self.command, self.memory_mb, self.error = command, memory_mb, error
        self.plan = open_checkpoint_directory(directory, checkpoint_format, config, {},
                                              resume, command, memory_mb, kind, error)

    def chunk_runs(self, group: str, planned: int) -> int:
        """Runs per chunk of `group`: the stored plan's, or `planned`, recorded now."""
        if group not in self.plan:
            self.plan[group] = planned
            write_manifest(self.directory, self.format, self.config, self.plan, self.command,
                           self.memory_mb)
        return self.plan[group]

    def load(self, group: str, index: int) -> dict[str, np.ndarray] | None:
        """The arrays of a finished chunk, or None if it was not finished."""
        return read_chunk(self.directory, group, index, self.error)

    def save(self, group: str, index: int, arrays: dict[str, np.ndarray]) -> None:
        write_chunk(self.directory, group, index, arrays)


def read_chunk(directory: str, group: str, index: int,
               error: type[Exception] = ValueError) -> dict[str, np.ndarray] | None:
    """The arrays of finished chunk `index` of `group`, or None if it was not finished; an
    unreadable file raises `error` with one line."""
    path = chunk_path(directory, group, index)
    if not os.path.exists(path):
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as failure:  # EOF: empty file
        raise error(f"checkpoint chunk {path} cannot be read: {type(failure).__name__}: "
                    f"{failure}") from None


def write_chunk(directory: str, group: str, index: int, arrays: dict[str, np.ndarray]) -> None:
    """Write a finished chunk atomically (temporary file, then rename)."""
    write_npz_atomically(chunk_path(directory, group, index), **arrays)
