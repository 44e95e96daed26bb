"""Writing result files atomically: a temporary file beside the target, then a rename, so a
killed run leaves either the old file or the new one, never half of one."""

from __future__ import annotations

import json
import math
import os
import tempfile
from typing import Callable, IO

import numpy as np

TEMPORARY_PREFIX, TEMPORARY_SUFFIX = ".ata-jax-", ".tmp"
"""How a temporary file is named (a resumed run deletes those a killed run left behind)."""


def write_atomically(path: str, write: Callable[[IO], None], binary: bool = True) -> None:
    """Call write(stream) on a temporary file in `path`'s directory, then rename it to path."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=TEMPORARY_PREFIX,
                                         suffix=TEMPORARY_SUFFIX)
    try:
        with os.fdopen(handle, "wb" if binary else "w") as stream:
            write(stream)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def json_safe(value):
    """`value` for strict JSON: NaN and ±inf become None, NumPy values Python ones, tuples
    lists, keys strings."""
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if hasattr(value, "tolist"):
        return json_safe(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json_atomically(path: str, document: dict, indent: int | None = 1) -> None:
    """`document` as JSON (no NaN: strict JSON), atomically."""

    def write(stream):
        json.dump(document, stream, indent=indent, allow_nan=False)
        stream.write("\n")

    write_atomically(path, write, binary=False)


def write_npz_atomically(path: str, compressed: bool = False, **arrays) -> None:
    """np.savez (or savez_compressed) of `arrays`, atomically."""
    save = np.savez_compressed if compressed else np.savez
    write_atomically(path, lambda stream: save(stream, **arrays))


def remove_temporary_files(directory: str) -> None:
    """Delete the temporary files a killed run left in `directory`."""
    for name in os.listdir(directory):
        if name.startswith(TEMPORARY_PREFIX) and name.endswith(TEMPORARY_SUFFIX):
            os.unlink(os.path.join(directory, name))
