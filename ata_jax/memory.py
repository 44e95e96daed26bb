"""Planning memory: how many bytes one run holds, and how many runs fit in a chunk.

`simulate` and `sweep` both cut their batch of runs (seeds, or (configuration, seed) pairs,
or (grid point, seed) pairs) into equal chunks that fit a memory budget; the estimate errs
high, not low, since XLA may fuse some of it away.
"""

from __future__ import annotations

import math
import os

import jax
import jax.numpy as jnp
import numpy as np

from ata_jax.allocators import Hyperparameters, make_policy
from ata_jax.metrics import CURVE_NAMES, METRIC_NAMES
from ata_jax.timemodels import TimeModel

DEFAULT_SHARE = 0.25
"""The share of the machine's memory a run may plan for when no budget is given."""


def default_memory_mb() -> float:
    """A safe share of this machine's physical memory (MB), or 1024 where it is unknown."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1024.0
    return DEFAULT_SHARE * total / 2**20


def bytes_per_run(policy_name: str, model: TimeModel, *, budget: int, num_rounds: int,
                  counting: str = "task", window_capacity: int = 0, curve_points: int = 0,
                  record_rounds: bool = False, per_run_model: bool = False) -> int:
    """An estimate of the device memory one run holds while its chunk computes (bytes).

    The policy's state (from `jax.eval_shape`, twice: the scan carry and its update), one
    round's temporaries (≈ 8n + 2B² + 16B four-byte values: scores, the solver's grid, task
    draws), the per-round record (one K-long row of four-byte values per curve) when rounds
    are recorded or curves kept, its own copy of the model with `per_run_model`, and the
    outputs.
    """
    policy = make_policy(policy_name, budget, counting, window_capacity)
    scalar = Hyperparameters(jnp.float32(1), jnp.float32(1), jnp.float32(1), jnp.int32(1),
                             expected_optimum=jax.ShapeDtypeStruct((model.size,), jnp.int32))
    state = jax.eval_shape(policy.init, model, scalar)
    leaf_bytes = lambda tree: sum(math.prod(np.shape(leaf)) * np.dtype(leaf.dtype).itemsize
                                  for leaf in jax.tree.leaves(tree))
    workspace = 4 * (8 * model.size + 2 * budget * budget + 16 * budget)
    record = len(CURVE_NAMES) * 4 * num_rounds if (curve_points or record_rounds) else 0
    outputs = 4 * len(METRIC_NAMES) + 4 * len(CURVE_NAMES) * curve_points + 16
    own_model = leaf_bytes(model) if per_run_model else 0
    return 2 * leaf_bytes(state) + workspace + record + outputs + own_model


def check_run_fits(what: str, run_bytes: int, memory_bytes: float, devices: int,
                   advice: str) -> None:
    """ValueError (one line) when one run of `what` on each of `devices` does not fit
    `memory_bytes`: before any compile, since a chunk holds at least one run per device."""
    if run_bytes * devices > memory_bytes:
        raise ValueError(f"one run of {what} needs about {run_bytes * devices / 2**20:.3g} MB "
                         f"on {devices} device(s), more than the memory budget of "
                         f"{memory_bytes / 2**20:.3g} MB: raise --memory-mb, or {advice}")


def plan_chunk_runs(total_runs: int, run_bytes: int, memory_bytes: float,
                    devices: int = 1) -> int:
    """Runs per chunk: the most that fit `memory_bytes` at `run_bytes` each, a multiple of
    `devices` (at least one per device), and no more than the batch needs."""
    fit = int(memory_bytes // run_bytes) // devices * devices
    needed = -(-total_runs // devices) * devices
    return max(devices, min(fit, needed))
