"""Non-stationary task times: a per-(round, worker) multiplier on every task's time.

Worker i's task in round k takes m_i(k)·X_i, where X_i follows the stationary model and

    m_i(k) = c_i(k) · (1 + drift_i·(k − 1)) · (1 + amplitude_i·sin(2π(k − 1)/period + phase_i))
             · (straggle_factor_i with probability straggle_probability_i, else 1)

with c_i(k) = 1 before `change_round` and change_factor_i from it on (a step change). The
straggler draw is one per (round, worker), from the round's task key, so every allocator sees
the same stragglers (common random numbers). Means and ψ1 norms scale with m, so the mean at
round k is E[m_i(k)]·μ_i: what the moving oracle plays. Every field is an array (traced).

Failures: worker i is down in rounds fail_start_i ≤ k < fail_start_i + fail_rounds_i
(fail_start_i = 0: never). A down worker returns nothing; the server gives up on it after
`timeout` (time units from the round's start) and reassigns its tasks (see `ata_jax.rounds`).
Failure times are not part of the means: the oracles do not know them. Whether a schedule
has failures at all is static (its failure fields are None otherwise), so a model without
failures pays nothing for them.
"""

from __future__ import annotations

import math
from typing import Mapping, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

FIELDS = ("change_round", "change_factor", "drift", "period", "amplitude", "phase",
          "straggle_probability", "straggle_factor", "fail_start", "fail_rounds", "timeout")
PER_WORKER = ("change_factor", "drift", "amplitude", "phase", "straggle_probability",
              "straggle_factor")
FAILURE_FIELDS = ("fail_start", "fail_rounds", "timeout")


class Schedule(NamedTuple):
    """change_round: int32 (0: no change); period: float (0: no periodic load); the other
    fields float[n] (see the module docstring). fail_start, fail_rounds: int32[n] and
    timeout: float, or all three None when no worker ever fails."""

    change_round: jax.Array
    change_factor: jax.Array
    drift: jax.Array
    period: jax.Array
    amplitude: jax.Array
    phase: jax.Array
    straggle_probability: jax.Array
    straggle_factor: jax.Array
    fail_start: jax.Array | None = None
    fail_rounds: jax.Array | None = None
    timeout: jax.Array | None = None


MIN_FACTOR, MAX_FACTOR = 1e-6, 1e6
"""The range of a step-change or straggler factor, and of the growth a drift may reach: with
task times within [1e-20, 1e20] (`docs/formats.md#limits`) and K·B ≤ 2⁴¹ tasks (K < 2³¹,
B ≤ 1024), a total stays below 1e20 · 1e6 · 2⁴¹ ≈ 2.2e38, inside float32."""


class ScheduleError(ValueError):
    """A schedule that does not define positive task-time multipliers."""


def make_schedule(num_workers: int, where: str = "schedule", num_rounds: int | None = None,
                  **fields) -> Schedule:
    """A validated `Schedule`; per-worker fields take a number or a list of n numbers."""
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise ScheduleError(f"{where}: unknown field(s) {', '.join(unknown)}; valid fields: "
                            f"{', '.join(FIELDS)}")
    failures = _failures(num_workers, where, num_rounds,
                         {name: fields.pop(name) for name in FAILURE_FIELDS if name in fields})
    defaults = dict(change_round=0, change_factor=1.0, drift=0.0, period=0.0, amplitude=0.0,
                    phase=0.0, straggle_probability=0.0, straggle_factor=1.0)
    values = {}
    for name in defaults:
        value = fields.get(name, defaults[name])
        if name in PER_WORKER:
            array = _numbers(value, where, name)
            if array.ndim == 0:
                array = np.full(num_workers, float(array))
            elif array.shape != (num_workers,):
                raise ScheduleError(f"{where}: {name} must be one number or {num_workers} "
                                    f"numbers (one per worker), got {array.size}")
            values[name] = array
        else:
            values[name] = _numbers(value, where, name)
            if values[name].ndim != 0:
                raise ScheduleError(f"{where}: {name} must be one number")
    _check(values, where, num_rounds)
    return Schedule(change_round=np.int32(values["change_round"]),
                    period=np.float64(values["period"]),
                    **{name: values[name] for name in PER_WORKER}, **failures)


def _failures(num_workers: int, where: str, num_rounds: int | None, fields: dict) -> dict:
    """The validated failure fields (all None when no worker fails)."""
    def fail(message):
        raise ScheduleError(f"{where}: {message}")

    start = _numbers(fields.get("fail_start", 0), where, "fail_start")
    length = _numbers(fields.get("fail_rounds", 0), where, "fail_rounds")
    timeout = _numbers(fields.get("timeout", 0), where, "timeout")
    if timeout.ndim != 0:
        fail("timeout must be one number")
    per_worker = {}
    for name, array in (("fail_start", start), ("fail_rounds", length)):
        if array.ndim == 0:
            array = np.full(num_workers, float(array))
        elif array.shape != (num_workers,):
            fail(f"{name} must be one number or {num_workers} numbers (one per worker), "
                 f"got {array.size}")
        if (array < 0).any() or (array != np.round(array)).any() or (array >= 2**31).any():
            fail(f"{name} must hold integers >= 0")
        per_worker[name] = array.astype(np.int64)
    start, length = per_worker["fail_start"], per_worker["fail_rounds"]
    if ((start + length) >= 2**31).any():
        fail("fail_start + fail_rounds must stay below 2^31")
    if ((start > 0) != (length > 0)).any():
        fail("fail_start and fail_rounds must be both > 0 (a failure) or both 0, worker by "
             "worker")
    if not (start > 0).any():
        if "timeout" in fields:
            fail("timeout is set but no worker fails (set fail_start and fail_rounds)")
        return {}
    if not timeout > 0:
        fail("a schedule with failing workers needs timeout > 0 (time units after which a "
             "down worker's tasks are reassigned)")
    last = int((start + length).max()) - 1
    rounds = np.arange(1, (last if num_rounds is None else min(last, num_rounds)) + 1)
    down = (rounds[:, None] >= start) & (rounds[:, None] < start + length)
    if down.all(axis=1).any():
        fail(f"every worker is down in round {int(rounds[down.all(axis=1)][0])}: "
             "no one could finish the round")
    return {"fail_start": start.astype(np.int32), "fail_rounds": length.astype(np.int32),
            "timeout": np.float32(timeout)}


NEUTRAL = {"change_factor": 1.0, "drift": 0.0, "amplitude": 0.0, "phase": 0.0,
           "straggle_probability": 0.0, "straggle_factor": 1.0, "fail_start": 0,
           "fail_rounds": 0}
"""Per-worker values that leave a worker's times alone and never take it down (padding)."""


def pad_schedule(schedule: Schedule | None, size: int) -> Schedule | None:
    """`schedule` for `size` ≥ n workers: the added workers get the NEUTRAL values (NumPy)."""
    if schedule is None:
        return None
    padded = {}
    for name, value in schedule._asdict().items():
        if name in NEUTRAL and value is not None:
            value = np.asarray(value)
            value = np.concatenate([value, np.full(size - value.shape[-1], NEUTRAL[name],
                                                   value.dtype)])
        padded[name] = value
    return Schedule(**padded)


def changes_speed(schedule: Schedule | None) -> bool:
    """Whether `schedule` ever changes a worker's task-time distribution (a step change,
    drift, periodic load or stragglers), as opposed to only taking workers down. Host only."""
    if schedule is None:
        return False
    return bool(int(schedule.change_round) > 0 or np.any(np.asarray(schedule.drift) != 0)
                or (float(schedule.period) > 0 and np.any(np.asarray(schedule.amplitude) > 0))
                or np.any(np.asarray(schedule.straggle_probability) > 0))


def is_down(schedule: Schedule, round_number: jax.Array, worker: jax.Array) -> jax.Array:
    """bool[...]: whether each of `worker` int[...] is down (failed) in round k."""
    if schedule is None or schedule.fail_start is None:
        return jnp.zeros(jnp.shape(worker), bool)
    start = jnp.asarray(schedule.fail_start)[worker]
    end = start + jnp.asarray(schedule.fail_rounds)[worker]
    return (start > 0) & (round_number >= start) & (round_number < end)


def _numbers(value, where, name) -> np.ndarray:
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (int, float)):
            raise ScheduleError(f"{where}: {name} must hold finite numbers, got {item!r}")
        try:
            finite = math.isfinite(float(item)) and abs(float(item)) < 3.4e38
        except OverflowError:
            finite = False
        if not finite:
            raise ScheduleError(f"{where}: {name} must hold finite float32 numbers, "
                                f"got {item!r}")
    return np.asarray(value, dtype=np.float64)


def _check(values: Mapping[str, np.ndarray], where: str, num_rounds: int | None) -> None:
    def fail(message):
        raise ScheduleError(f"{where}: {message}")

    if values["change_round"] < 0 or values["change_round"] != int(values["change_round"]):
        fail(f"change_round must be an integer >= 0, got {values['change_round']}")
    for name in ("change_factor", "straggle_factor"):
        if ((values[name] < MIN_FACTOR) | (values[name] > MAX_FACTOR)).any():
            fail(f"{name} must lie in [{MIN_FACTOR:g}, {MAX_FACTOR:g}] (a larger factor "
                 "would carry K·B-fold totals out of float32): rescale the time unit")
    if values["period"] < 0:
        fail(f"period must be >= 0 (0: no periodic load), got {values['period']}")
    if ((values["amplitude"] < 0) | (values["amplitude"] >= 1)).any():
        fail("amplitude must be in [0, 1) so that times stay positive")
    if ((values["straggle_probability"] < 0) | (values["straggle_probability"] > 1)).any():
        fail("straggle_probability must be in [0, 1]")
    growth = None if num_rounds is None else 1 + values["drift"] * (num_rounds - 1)
    if growth is not None and (growth <= 0).any():
        fail(f"drift makes a worker's times non-positive before round {num_rounds}")
    if growth is not None and (growth > MAX_FACTOR).any():
        fail(f"drift makes a worker's times grow more than {MAX_FACTOR:g}-fold by round "
             f"{num_rounds} (totals would leave float32): use a smaller drift")


def deterministic_multiplier(schedule: Schedule, round_number: jax.Array,
                             worker: jax.Array) -> jax.Array:
    """m_i(k) without the random straggling, for workers int[...]."""
    k = jnp.asarray(round_number, jnp.float32) - 1.0
    change = jnp.where((schedule.change_round > 0) & (round_number >= schedule.change_round),
                       jnp.asarray(schedule.change_factor, jnp.float32)[worker], 1.0)
    drift = 1.0 + jnp.asarray(schedule.drift, jnp.float32)[worker] * k
    angle = 2.0 * jnp.pi * k / jnp.where(schedule.period > 0, schedule.period, 1.0)
    wave = jnp.where(schedule.period > 0,
                     1.0 + jnp.asarray(schedule.amplitude, jnp.float32)[worker]
                     * jnp.sin(angle + jnp.asarray(schedule.phase, jnp.float32)[worker]), 1.0)
    return change * drift * wave


def mean_multiplier(schedule: Schedule, round_number: jax.Array,
                    worker: jax.Array) -> jax.Array:
    """E[m_i(k)]: the deterministic part times 1 + p_i(f_i − 1)."""
    probability = jnp.asarray(schedule.straggle_probability, jnp.float32)[worker]
    factor = jnp.asarray(schedule.straggle_factor, jnp.float32)[worker]
    return deterministic_multiplier(schedule, round_number, worker) * (
        1.0 + probability * (factor - 1.0))


def multiplier(schedule: Schedule, round_number: jax.Array, worker: jax.Array,
               straggle_uniform: jax.Array) -> jax.Array:
    """m_i(k) with the straggling drawn from uniforms in [0, 1), one per (round, worker)."""
    straggles = straggle_uniform < jnp.asarray(schedule.straggle_probability, jnp.float32)[worker]
    factor = jnp.where(straggles, jnp.asarray(schedule.straggle_factor, jnp.float32)[worker],
                       1.0)
    return deterministic_multiplier(schedule, round_number, worker) * factor
