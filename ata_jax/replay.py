"""Replayed task times: a padded table of recorded times per worker, read by (round, worker, slot).

A `ReplayTable` holds worker i's m_i recorded task times (in recorded order) in row i of a
float32 [n, M] table, M = max_i m_i (the padding is never read). Two statically chosen
orders turn a task (round k ≥ 1, worker i, slot j ≥ 0) into an entry of row i:

* `bootstrap`: a uniformly random entry, index = bits mod m_i, where `bits` are the task's
  own 32 random bits (the modulo bias is below m_i/2³²). Tasks are i.i.d. draws from worker
  i's empirical distribution, which is what the allocators' theory assumes.
* `recorded`: the recorded sequence, stateless so that a task's time stays a function of
  (k, i, j) only (common random numbers across allocators):
  - with a round column (R distinct recorded rounds, in increasing order), round k replays
    recorded round r = (k − 1) mod R: slot j takes entry (start_{i,r} + j) mod m_i, where
    start_{i,r} is the position of worker i's first entry of round r or later. Slots
    0..c−1 of a worker that recorded c tasks in round r give exactly those c times in order;
    further slots go on into the following recorded rounds, wrapping to the trace's start.
  - without a round column, round k reads B consecutive entries per worker:
    slot j takes entry ((k − 1)·B + j) mod m_i (B = the round's number of slots).

Nothing here touches the host: the table is an ordinary pytree of arrays inside `jit`, and
the order is static metadata.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any

import jax
import jax.numpy as jnp

REPLAY_ORDERS: tuple[str, ...] = ("bootstrap", "recorded")
INT32_LIMIT = 2**31


@functools.partial(jax.tree_util.register_dataclass,
                   data_fields=["times", "count", "round_start"], meta_fields=["order"])
@dataclasses.dataclass(frozen=True)
class ReplayTable:
    """Recorded task times per worker.

    Attributes:
      times: float32[n, M], worker i's recorded times in row i, entries 0..m_i−1 (time units).
      count: int32[n], m_i ≥ 1, the number of recorded times of worker i.
      round_start: int32[n, R] (entry start_{i,r}, see the module docstring), or None when
        the trace has no round column.
      order: static, "bootstrap" or "recorded".
    """

    times: Any
    count: Any
    round_start: Any
    order: str

    @property
    def width(self) -> int:
        """M, the padded number of entries per worker (static)."""
        return int(self.times.shape[-1])


def replay_times(table: ReplayTable, worker: jax.Array, slot: jax.Array, bits: jax.Array,
                 round_number: jax.Array | None, num_slots: int) -> jax.Array:
    """Replayed times of tasks (worker, slot) in round `round_number`.

    Args:
      table: the replay table (n workers).
      worker: int32[t], worker indices in [0, n).
      slot: int32[t], task slots in [0, num_slots).
      bits: uint32[t], each task's own random bits (used by `bootstrap` only).
      round_number: int32 scalar, the round k ≥ 1 (needed by `recorded` only).
      num_slots: static B, the slots per worker and round.
    Returns:
      float32[t] task times (the trace's time units).
    """
    count = jnp.asarray(table.count)[worker]
    if table.order == "bootstrap":
        index = (bits % count.astype(jnp.uint32)).astype(jnp.int32)
    elif table.order == "recorded":
        if round_number is None:
            raise ValueError("replay_times: recorded order needs round_number")
        k = jnp.asarray(round_number, jnp.int32) - 1
        slot = jnp.asarray(slot, jnp.int32)
        if table.round_start is None:
            if (table.width + 1) * num_slots >= INT32_LIMIT:
                raise ValueError(f"replay_times: {table.width} entries per worker x "
                                 f"{num_slots} slots overflows int32 task positions")
            index = (jnp.mod(k, count) * num_slots + slot) % count
        else:
            round_start = jnp.asarray(table.round_start)
            recorded_round = jnp.mod(k, round_start.shape[-1])
            index = (round_start[worker, recorded_round] + slot) % count
    else:
        raise ValueError(f"unknown replay order {table.order!r}; valid: {', '.join(REPLAY_ORDERS)}")
    times = jnp.asarray(table.times)
    # one gather from the flat table: XLA's CPU backend runs it faster than a 2-D gather
    return times.reshape(-1)[worker * table.width + index]
