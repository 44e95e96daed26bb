"""What a round measures, as data: one record per metric, reduced field by field in the scan.

A round produces a `RoundOutcome` (its time, worker time, proxy loss, ...). Each `Metric`
says how its per-round value derives from that outcome; the simulation sums every metric
over the K rounds of a seed (`Totals`), keeps the per-round values of the `curve` metrics when
asked (`PerRound`), and everything downstream (`PolicyResult`, the JSON summary, the tables,
the sweep store, `load_sweep`) iterates over `METRICS`. Adding a metric is a producer (a field
of `RoundOutcome`, or a formula of the existing ones) plus one entry here.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp


class RoundOutcome(NamedTuple):
    """What one round produced (scalars; times in time units).

    round_time: C_k, when the last task of the round is done.
    worker_time: Σ_i T_ik, the work done (live workers, own and reassigned tasks).
    proxy_loss: ℓ(a_k, μ_k) = max_i a_k,i·μ_k,i; NaN for a policy without an allocation (GTA).
    wasted_time: the time held by failed workers (0 without failures, see `ata_jax.rounds`).
    workers_used: how many workers ran at least one task (all live workers in GTA's race).
    idle_time: Σ over those workers of (C_k − T_ik), the time they waited for the round to
      end (0 in GTA's race, where every live worker works until the end).
    """

    round_time: jax.Array
    worker_time: jax.Array
    proxy_loss: jax.Array
    wasted_time: jax.Array
    workers_used: jax.Array
    idle_time: jax.Array


class RoundContext(NamedTuple):
    """What a metric may read besides the outcome: the round number k (from 1), K, the
    oracle's proxy loss ℓ(a*_k, μ_k) of that round, and, when the expected-time regret is
    measured, the round time C_k(a*_E) that the expected-time optimum would have taken on
    the same task draws (else None)."""

    round_number: jax.Array
    num_rounds: int
    best_proxy_loss: jax.Array
    expected_optimum_time: jax.Array | None = None


class Column(NamedTuple):
    """How `ata-jax simulate`'s table shows a metric: header; `per` is "round" (total / K),
    "late round" (total / (K − ⌊K/2⌋)) or "total"; `when` names a config flag that must be
    true for the column to appear ("scheduled", "failures"), or None for always."""

    header: str
    per: str = "round"
    when: str | None = None
    with_std: bool = False

    @property
    def width(self) -> int:
        """Characters the column's values take in a table (its header plus two, at least 12)."""
        return max(12, len(self.header) + 2)


class Metric(NamedTuple):
    """One measured quantity.

    name: its key everywhere (Totals field, JSON, sweep store member, load_sweep attribute).
    description: a line for the docs and the store.
    of_round: (RoundOutcome, RoundContext) -> the round's value; the total is Σ_k over rounds.
    requires: None, "allocation" (undefined for a policy without one), "failures"
      (identically 0 for a model without failures) or "expected" (measured only when asked
      for: it plays the expected-time optimum's round beside the policy's); when unmet, the
      total is `absent` and nothing is computed in the scan.
    absent: the total when `requires` is unmet (NaN: undefined; 0: nothing happened).
    curve: its per-round values are kept by `record_rounds` (under `round_name`).
    column: how simulate's table shows it, or None.
    """

    name: str
    description: str
    of_round: Callable[[RoundOutcome, RoundContext], jax.Array]
    requires: str | None = None
    absent: float = 0.0
    curve: bool = False
    round_name: str = ""
    column: Column | None = None


def _late_round_time(outcome: RoundOutcome, context: RoundContext) -> jax.Array:
    return jnp.where(context.round_number > context.num_rounds // 2, outcome.round_time, 0.0)


METRICS: tuple[Metric, ...] = (
    Metric("runtime", "Σ_k C_k: total wall-clock time of the K rounds",
           lambda outcome, context: outcome.round_time, curve=True, round_name="round_time",
           column=Column("round time", with_std=True)),
    Metric("worker_time", "Σ_k Σ_i T_ik: total busy time of the workers",
           lambda outcome, context: outcome.worker_time, curve=True, round_name="worker_time",
           column=Column("worker time", with_std=True)),
    Metric("regret", "Σ_k ℓ(a_k, μ_k) − ℓ(a*_k, μ_k): cumulative proxy regret",
           lambda outcome, context: outcome.proxy_loss - context.best_proxy_loss,
           requires="allocation", absent=math.nan, curve=True, round_name="regret",
           column=Column("regret (total)", per="total", with_std=True)),
    Metric("expected_regret", "Σ_k C_k − C_k(a*_E) on the same draws: an unbiased estimate "
           "of the expected-time regret Σ_k E[C(a_k)] − E[C(a*_E)] (for GTA and msync, which "
           "play no allocation, their runtime's excess over the expected-time optimum's)",
           lambda outcome, context: outcome.round_time - context.expected_optimum_time,
           requires="expected", absent=math.nan, column=Column("E-time regret", per="total", when="expected_regret",
                         with_std=True)),
    Metric("runtime_second_half", "Σ_{k > K/2} C_k: the round times after a mid-run change",
           _late_round_time, column=Column("2nd-half round time", per="late round",
                                           when="scheduled")),
    Metric("wasted_time", "Σ_k of the time held by failed workers",
           lambda outcome, context: outcome.wasted_time, requires="failures",
           column=Column("wasted (per round)", when="failures")),
    Metric("idle_time", "Σ_k Σ_i (C_k − T_ik) over the workers that ran a task: time they "
           "waited for the round to end", lambda outcome, context: outcome.idle_time,
           column=Column("idle time")),
    Metric("workers_used", "Σ_k of the number of workers that ran a task",
           lambda outcome, context: outcome.workers_used.astype(jnp.float32),
           column=Column("workers")),
)
"""Every metric, in the order of the stores' columns."""

METRIC_NAMES: tuple[str, ...] = tuple(metric.name for metric in METRICS)
CURVE_METRICS: tuple[Metric, ...] = tuple(metric for metric in METRICS if metric.curve)
CURVE_NAMES: tuple[str, ...] = tuple(metric.round_name for metric in CURVE_METRICS)

Totals = NamedTuple("Totals", [(name, jax.Array) for name in METRIC_NAMES])
Totals.__doc__ = "Every metric's total over the K rounds of a seed (fields: `METRIC_NAMES`)."
PerRound = NamedTuple("PerRound", [(name, jax.Array) for name in CURVE_NAMES])
PerRound.__doc__ = "The curve metrics' value in each round, [K] (fields: `CURVE_NAMES`)."


def measured(metric: Metric, *, allocates: bool, failures: bool, expected: bool = False) -> bool:
    """Whether `metric` is computed in the scan (its requirement holds; static)."""
    return {None: True, "allocation": allocates, "failures": failures,
            "expected": expected}[metric.requires]


def metric(name: str) -> Metric:
    """The metric called `name` (KeyError naming the valid ones otherwise)."""
    for candidate in METRICS:
        if candidate.name == name:
            return candidate
    raise KeyError(f"unknown metric {name!r}; metrics: {', '.join(METRIC_NAMES)}")
