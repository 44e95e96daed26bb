"""The largest sizes a run accepts, each following from the implementation, and the checks
that refuse a larger one before any work (docs/formats.md#limits lists them with reasons).

Every check raises `LimitError` (a ValueError) with one line that names the limit and what
to do instead; the command line reports it as a usage error (exit 2).
"""

from __future__ import annotations

from typing import Sequence

MAX_BUDGET = 1024
"""B: a round's task list compares every task with every loaded worker (B² per seed)."""
MAX_WORKERS = 2**13
"""n: the compiled round is accelerator-shaped (no gathers, sorts or while loops over
workers), so its bit-set steps are unrolled once per 32 workers and compile time and memory
grow faster than n; here every policy still compiles in bounded time (docs/performance.md,
compile time in n). Task counters worker·B + slot are int32, so (n + 1)·B < 2³¹ too, far
above this bound."""
MAX_ROUNDS = 2**28
"""K: the totals' compensated float32 sums are tested within 1e-6 of the exact sum up to here
(tests/test_summation.py; a test at int32's own bound, 2³¹ − 2, takes five minutes)."""
MAX_SEEDS = 2**31 - 1
"""first seed + S: seed indices j of fold_in(master, j) are int32."""
MAX_CONFIGURATIONS = 100_000
"""Configurations of one run: each model is built in host memory before the run."""
MAX_GRID_POINTS = 1_000_000
"""Grid points of one sweep: each is labelled and stored on the host."""
MAX_TRACE_ROWS = 2**24
"""Rows of a trace: each is parsed in Python on the host, so parsing time grows with them
(about 30 s at this size, docs/formats.md#limits); a CSV's lines are counted before any is
parsed."""
MAX_TABLE_ENTRIES = 2**31 - 1
"""n × (most rows of one worker) of a trace's padded replay table: its flat index is int32."""
MAX_SEARCH_TABLE_BYTES = 256 * 2**20
"""ofta-expected's search table at its fewest Monte Carlo rounds (`expected.MIN_SAMPLES` ×
min(n, 4B) candidate workers × (B + 1) float32 running sums): held whole while the local
search, whose every step scores all (from, to) moves on every round, runs; its time grows
with it too."""


MIN_SETTING, MAX_SETTING = 1e-20, 1e20
"""α, η and a learning rate: float32 in the run, and α and η scale times, so they take the
range of a model's times (`timemodels.MIN_TIME`, `MAX_TIME`); beyond it a float32 cast
overflows to inf or flushes to 0."""
MAX_SPREAD = 100.0
"""Thompson's ν: the draw exp(ν·Z/√K_i) is 0 or inf in float32 for most Z beyond it."""
MAX_MEMORY_MB = 2.0**30
"""--memory-mb: a petabyte; chunk sizes are counted in int64 bytes."""


class LimitError(ValueError):
    """A size beyond what the implementation computes correctly or in bounded memory."""


def check_run_sizes(*, budget: int, num_rounds: int, num_seeds: int, first_seed: int = 0,
                    workers: Sequence[int] = (), window: int = 1) -> None:
    """A LimitError for B, K, S, an n or the window W beyond its limit. (The learners' float32
    sample counts need none: they are compensated sums, exact integers far past 2²⁴;
    `allocators.confidence.SampleStatistics`.)"""
    if window > MAX_ROUNDS:
        raise LimitError(f"--window {window} is above {MAX_ROUNDS}, the most rounds a run "
                         "has; a window of K rounds already remembers the whole run")
    if budget > MAX_BUDGET:
        raise LimitError(f"--budget {budget} is above {MAX_BUDGET} (a round's task list "
                         "compares every task with every loaded worker: time and memory per "
                         "seed grow as B^2)")
    if num_rounds > MAX_ROUNDS:
        raise LimitError(f"--rounds {num_rounds} is above {MAX_ROUNDS} (the totals' float32 "
                         "sums are tested to 1e-6 that far): run fewer rounds")
    if first_seed + num_seeds > MAX_SEEDS:
        raise LimitError(f"--seeds {num_seeds} from seed {first_seed} passes seed index "
                         f"{MAX_SEEDS} (seed indices are 32-bit): use fewer seeds")
    for n in workers:
        check_workers(n, budget)


def check_workers(n: int, budget: int = 1) -> None:
    """A LimitError unless n ≤ MAX_WORKERS and (n + 1)·B < 2³¹ (int32 task counters)."""
    if n > MAX_WORKERS:
        raise LimitError(f"{n} workers is above {MAX_WORKERS} (the compiled round unrolls a "
                         "step per 32 workers: compile time and memory grow faster than n): "
                         "use fewer workers")
    if (n + 1) * budget >= 2**31:
        raise LimitError(f"workers x budget must stay below 2^31 (task counters are 32-bit): "
                         f"{n} workers allow a budget of at most {(2**31 - 1) // (n + 1)}")


def check_host_results(num_runs: int, num_policies: int, num_metrics: int,
                       curve_points: int, curve_advice: str = "fewer curve points") -> None:
    """A LimitError when the float64 results every policy keeps on the host (each run's
    `num_metrics` totals and `curve_points` points of each curve: K with per-round records)
    would not fit `memory.default_memory_mb` (a safe share of this machine's memory)."""
    from ata_jax.memory import default_memory_mb
    from ata_jax.metrics import CURVE_NAMES

    needed = num_runs * num_policies * 8 * (num_metrics + len(CURVE_NAMES) * curve_points)
    available = default_memory_mb() * 2**20
    if needed > available:
        raise LimitError(f"the results of {num_runs} runs x {num_policies} policies would hold "
                         f"{needed / 2**20:.0f} MB on the host, more than its share of "
                         f"{available / 2**20:.0f} MB: use fewer seeds or configurations"
                         + (f", {curve_advice}" if curve_points else "") + ", or split the "
                         "study into several runs")


def check_count(count: int, limit: int, what: str, advice: str) -> None:
    """A LimitError when `count` of `what` is above `limit`."""
    if count > limit:
        raise LimitError(f"{count} {what} is above {limit}: {advice}")


def check_expected_search(num_workers: int, budget: int) -> None:
    """A LimitError when the search for a*_E (`ata_jax.expected`) of n workers and budget B
    would need a table above MAX_SEARCH_TABLE_BYTES even at its fewest rounds."""
    from ata_jax.expected import search_table_bytes

    needed = search_table_bytes(num_workers, budget)
    if needed <= MAX_SEARCH_TABLE_BYTES:
        return
    largest = next((b for b in range(budget - 1, 0, -1)
                    if search_table_bytes(num_workers, b) <= MAX_SEARCH_TABLE_BYTES), 1)
    raise LimitError(f"ofta-expected and the expected-time regret search a*_E on a table of "
                     f"{needed / 2**20:.0f} MB at n = {num_workers}, B = {budget}, above "
                     f"{MAX_SEARCH_TABLE_BYTES // 2**20} MB: use a budget of at most {largest} "
                     "for them, or leave them out")
