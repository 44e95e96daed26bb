"""Which rounds a training run measures: at most `max_points`, evenly spaced, last = K."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class CheckpointSchedule(NamedTuple):
    """Measure at round 0 (the start x_0), then after every `segment_length` rounds, and after
    round K.

    rounds: int64[P] = 0, L, 2L, …, ⌊K/L⌋·L, and K if L does not divide K (P ≤ max_points).
    full_segments: ⌊K/L⌋. remainder: K − ⌊K/L⌋·L, the length of a last, shorter segment.
    """

    rounds: np.ndarray
    segment_length: int
    full_segments: int
    remainder: int


def checkpoint_schedule(num_rounds: int, max_points: int) -> CheckpointSchedule:
    """The schedule with the shortest segment length L that keeps P ≤ max_points.

    L = ⌈K/(max_points − 1)⌉, so the ⌈K/L⌉ ≤ max_points − 1 segment ends plus round 0 fit.
    """
    if num_rounds < 1:
        raise ValueError(f"num_rounds must be >= 1, got {num_rounds}")
    if max_points < 2:
        raise ValueError(f"max_points must be >= 2 (the start and round K), got {max_points}")
    length = -(-num_rounds // (max_points - 1))
    full, remainder = divmod(num_rounds, length)
    rounds = np.arange(full + 1, dtype=np.int64) * length
    if remainder:
        rounds = np.append(rounds, np.int64(num_rounds))
    return CheckpointSchedule(rounds, length, full, remainder)
