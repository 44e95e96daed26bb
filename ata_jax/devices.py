"""Use every CPU core: one XLA host device per core, so seeds split over cores.

XLA runs a CPU computation on one core; `simulate` shards seeds over all local devices, so
splitting the host into one device per core runs the seeds on every core, with identical
results. This only works before JAX creates its backends, hence a function to call first
thing (the `ata-jax` command does).
"""

from __future__ import annotations

import os
import warnings

FLAG = "--xla_force_host_platform_device_count"


def cpu_core_count() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _backends_initialized() -> bool:
    try:
        from jax._src import xla_bridge
        return bool(xla_bridge.backends_are_initialized())
    except (ImportError, AttributeError):  # private API moved: assume the worst
        return True


def use_all_cpu_cores(count: int | None = None) -> int | None:
    """Ask XLA for `count` (default: one per core) host devices; returns the count set.

    Does nothing (returns None) when XLA_FLAGS already sets a host device count, or when JAX
    has already initialised its backends (then it warns: call this before any JAX work).
    Accelerators are unaffected; on a machine with a GPU the default device stays the GPU.
    """
    flags = os.environ.get("XLA_FLAGS", "")
    if FLAG in flags:
        return None
    if _backends_initialized():
        warnings.warn("use_all_cpu_cores: JAX is already initialised; call it before any "
                      "JAX computation", stacklevel=2)
        return None
    count = cpu_core_count() if count is None else count
    os.environ["XLA_FLAGS"] = f"{flags} {FLAG}={count}".strip()
    return count
