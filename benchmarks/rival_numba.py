"""The rival: what a performance-minded researcher would write instead of ata-jax, in numba.

One compiled loop per seed, `prange` over seeds (every core), float64 state, no batching
tricks: ATA-Empirical with the greedy water-fill (B times, give the next task to the worker
whose next cell (a_i + 1)·s_i is smallest: O(nB), ties to the lowest index; the zero rule
spreads B over the zero-score workers, the remainder to distinct random ones), and GTA as a
race over all n workers on a binary heap of next completion times (n + B pushes and pops).
Task times are the `cifar` model's, X_i = shift_i + Exp(mean scale_i), from numba's own
generator (its own random numbers: this is a timing rival, its figures agree with ata-jax's
in distribution, checked by the test). Needs the optional `bench` extra (`pip install
'.[bench]'`).

    from benchmarks.rival_numba import simulate
    runtime, worker_time = simulate("ata-empirical", shift, scale, budget=23, rounds=1000,
                                    seeds=1024, eta=eta)
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numba import njit, prange


@njit(inline="always")
def _task(shift, scale):
    return shift + np.random.exponential(scale)


@njit
def _ata_empirical_seed(shift, scale, budget, rounds, eta):
    n = shift.shape[0]
    count = np.zeros(n)
    mean = np.zeros(n)
    score = np.zeros(n)
    tasks = np.zeros(n, np.int64)
    runtime = 0.0
    worker_time = 0.0
    for k in range(1, rounds + 1):
        log_term = math.log(2.0 * k * k)
        zeros = 0
        for i in range(n):
            if count[i] > 0:
                ratio = log_term / count[i]
                score[i] = mean[i] * max(1.0 - 2.0 * eta * (math.sqrt(ratio) + ratio), 0.0)
            else:
                score[i] = 0.0
            if score[i] == 0.0:
                zeros += 1
            tasks[i] = 0
        if zeros > 0:  # the zero rule: B spread evenly, the remainder to random members
            share, remainder = budget // zeros, budget % zeros
            for i in range(n):
                if score[i] == 0.0:
                    tasks[i] = share
            members = np.empty(zeros, np.int64)
            m = 0
            for i in range(n):
                if score[i] == 0.0:
                    members[m] = i
                    m += 1
            for t in range(remainder):  # a partial Fisher-Yates draw of distinct members
                j = t + np.random.randint(zeros - t)
                members[t], members[j] = members[j], members[t]
                tasks[members[t]] += 1
        else:  # greedy water-fill: each task to the smallest next cell
            for _ in range(budget):
                best, best_cell = 0, (tasks[0] + 1) * score[0]
                for i in range(1, n):
                    cell = (tasks[i] + 1) * score[i]
                    if cell < best_cell:
                        best, best_cell = i, cell
                tasks[best] += 1
        longest = 0.0
        for i in range(n):
            if tasks[i] > 0:
                busy = 0.0
                for _ in range(tasks[i]):
                    busy += _task(shift[i], scale[i])
                longest = max(longest, busy)
                worker_time += busy
                count[i] += tasks[i]
                mean[i] += (busy - tasks[i] * mean[i]) / count[i]
        runtime += longest
    return runtime, worker_time


@njit
def _gta_seed(shift, scale, budget, rounds):
    n = shift.shape[0]
    heap_time = np.empty(n)
    heap_worker = np.empty(n, np.int64)
    runtime = 0.0
    for _ in range(rounds):
        for i in range(n):  # every worker's first completion, then heapify
            heap_time[i] = _task(shift[i], scale[i])
            heap_worker[i] = i
        for start in range(n // 2 - 1, -1, -1):
            _sift_down(heap_time, heap_worker, start, n)
        finish = 0.0
        for _ in range(budget):  # pop the earliest, push that worker's next completion
            finish = heap_time[0]
            worker = heap_worker[0]
            heap_time[0] = finish + _task(shift[worker], scale[worker])
            _sift_down(heap_time, heap_worker, 0, n)
        runtime += finish
    return runtime, n * runtime


@njit(inline="always")
def _sift_down(heap_time, heap_worker, position, size):
    while True:
        left = 2 * position + 1
        if left >= size:
            return
        child = left
        if left + 1 < size and heap_time[left + 1] < heap_time[left]:
            child = left + 1
        if heap_time[child] >= heap_time[position]:
            return
        heap_time[position], heap_time[child] = heap_time[child], heap_time[position]
        heap_worker[position], heap_worker[child] = heap_worker[child], heap_worker[position]
        position = child


@njit(parallel=True)
def _ata_empirical_seeds(shift, scale, budget, rounds, seeds, eta, seed):
    runtime = np.empty(seeds)
    worker_time = np.empty(seeds)
    for s in prange(seeds):
        np.random.seed(seed * 1_000_003 + s)  # per seed: independent of the thread
        runtime[s], worker_time[s] = _ata_empirical_seed(shift, scale, budget, rounds, eta)
    return runtime, worker_time


@njit(parallel=True)
def _gta_seeds(shift, scale, budget, rounds, seeds, seed):
    runtime = np.empty(seeds)
    worker_time = np.empty(seeds)
    for s in prange(seeds):
        np.random.seed(seed * 1_000_003 + s)
        runtime[s], worker_time[s] = _gta_seed(shift, scale, budget, rounds)
    return runtime, worker_time


def simulate(policy: str, shift: np.ndarray, scale: np.ndarray, *, budget: int, rounds: int,
             seeds: int, eta: float = 1.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(runtime float64[S], worker time float64[S]): each seed's totals over K rounds."""
    shift, scale = np.asarray(shift, np.float64), np.asarray(scale, np.float64)
    if policy == "ata-empirical":
        return _ata_empirical_seeds(shift, scale, budget, rounds, seeds, eta, seed)
    if policy == "gta":
        return _gta_seeds(shift, scale, budget, rounds, seeds, seed)
    raise ValueError(f"the numba rival implements ata-empirical and gta, not {policy!r}")


def threads() -> int:
    """The threads numba's prange uses."""
    return numba.get_num_threads()
