"""Plain-NumPy Monte Carlo reference of the ATA simulation: all seeds as one array axis.

This module is the independent reference that the JAX engine is tested against, and the
"what a user would otherwise write" baseline of the throughput benchmark. It imports no JAX.
It follows the project spec `ata.md` §§1-5 (the algorithm) with the worker-time model layout
of the JAX side:

- ``family``: int array [n], one family id per worker;
- ``params``: float64 array [n, 4], that family's parameters (unused columns are 0).

| id | family      | task time X                                   | params columns      |
|----|-------------|-----------------------------------------------|---------------------|
| 0  | constant    | value                                         | value               |
| 1  | exponential | shift + Exponential(mean)                     | shift, mean         |
| 2  | uniform     | Uniform(low, high)                            | low, high           |
| 3  | half-normal | shift + scale·|Z|                             | shift, scale        |
| 4  | lognormal   | shift + Y, Y = exp(log_mean + log_std·Z)      | shift, log_mean,    |
|    |             | conditioned on Y ≤ upper (inf: no truncation) | log_std, upper      |
| 5  | gamma       | shift + Gamma(shape, scale)                   | shift, shape, scale |

Vectorisation: every per-round quantity is an array with the seeds on axis 0; the only Python
loops are over rounds and over the (at most six) families present. Selections are linear-time
(``np.argpartition`` / ``np.partition``), never a full sort of n values. A round draws only the
task times it needs: B per seed for allocation-based policies; for GTA n first tasks plus
B(B − 1)/2 follow-ups per seed (when n ≥ B).

Times are in the model's units (seconds in the presets); everything is float64. All random
numbers come from one ``numpy.random.Generator`` per call, so results are reproducible from
``seed`` but not paired across policies (the JAX engine's common random numbers are not
reproduced here).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as np
from scipy import special

CONSTANT, EXPONENTIAL, UNIFORM, HALF_NORMAL, LOGNORMAL, GAMMA = range(6)
FAMILY_NAMES = ("constant", "exponential", "uniform", "half-normal", "lognormal", "gamma")
POLICIES = ("ata", "ata-empirical", "ofta", "uta", "gta", "thompson", "explore-commit",
            "msync", "ofta-expected")
LEARNERS = ("ata", "ata-empirical", "thompson", "explore-commit")
"""The policies that keep sample counts and sums of the task times they see."""
COUNTINGS = ("task", "round")


# ----------------------------------------------------------------------------------------
# Worker-time models
# ----------------------------------------------------------------------------------------

def cifar_model(num_workers: int) -> tuple[np.ndarray, np.ndarray]:
    """The `cifar` preset: worker i = 1..n takes 29·i + Exponential(mean 29·i), so μ_i = 58·i.

    Returns (family int64[n], params float64[n, 4]).
    """
    index = np.arange(1, num_workers + 1, dtype=np.float64)
    family = np.full(num_workers, EXPONENTIAL, dtype=np.int64)
    params = np.zeros((num_workers, 4))
    params[:, 0] = 29.0 * index
    params[:, 1] = 29.0 * index
    return family, params


def _check_model(family, params) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert a model to (int64[n], float64[n, 4])."""
    family = np.asarray(family, dtype=np.int64)
    params = np.asarray(params, dtype=np.float64)
    if family.ndim != 1 or params.shape != (family.shape[0], 4):
        raise ValueError(f"need family [n] and params [n, 4]; got {family.shape} and "
                         f"{params.shape}")
    if family.size == 0:
        raise ValueError("the model has no workers")
    unknown = np.setdiff1d(family, np.arange(len(FAMILY_NAMES)))
    if unknown.size:
        raise ValueError(f"unknown family id(s) {unknown.tolist()}")
    return family, params


def _truncated_lognormal_mean(log_mean, log_std, upper):
    """E[Y | Y ≤ upper], Y = exp(log_mean + log_std·Z), elementwise; upper = inf: no truncation.

    Closed form exp(m + s²/2)·Φ(b − s)/Φ(b) with b = (ln upper − m)/s, evaluated in log space
    (scipy.special.log_ndtr) so that a far lower truncation does not divide 0 by 0.
    """
    log_mean, log_std, upper = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64)
                                                     for v in (log_mean, log_std, upper)))
    with np.errstate(divide="ignore"):
        bound = (np.log(upper) - log_mean) / log_std
    log_ratio = np.where(np.isinf(upper), 0.0,
                         special.log_ndtr(bound - log_std) - special.log_ndtr(bound))
    return np.exp(log_mean + 0.5 * log_std**2 + log_ratio)


def worker_means(family, params) -> np.ndarray:
    """Exact mean task time μ_i of every worker: float64[n] (model time units)."""
    family, params = _check_model(family, params)
    first, second, third, fourth = params.T
    means = np.full(family.shape, np.nan)
    means = np.where(family == CONSTANT, first, means)
    means = np.where(family == EXPONENTIAL, first + second, means)
    means = np.where(family == UNIFORM, 0.5 * (first + second), means)
    means = np.where(family == HALF_NORMAL, first + second * math.sqrt(2.0 / math.pi), means)
    is_lognormal = family == LOGNORMAL
    if is_lognormal.any():
        lognormal = first[is_lognormal] + _truncated_lognormal_mean(
            second[is_lognormal], third[is_lognormal], fourth[is_lognormal])
        means[is_lognormal] = lognormal
    means = np.where(family == GAMMA, first + second * third, means)
    return means


class _Model(NamedTuple):
    """A validated model laid out for sampling: family int64[n], columns float64[4, n]
    (params transposed, so one parameter of many workers is a contiguous gather) and the
    family ids present (sorted)."""
    family: np.ndarray
    columns: np.ndarray
    present: np.ndarray


def _prepare(family, params) -> _Model:
    """Validate a model and lay it out for sampling."""
    family, params = _check_model(family, params)
    return _Model(family, np.ascontiguousarray(params.T), np.unique(family))


def _draw_family(rng: np.random.Generator, family_id: int,
                 column: Callable[[int], np.ndarray], shape: tuple) -> np.ndarray:
    """Fresh task times of one family: float64[shape].

    column(j) returns parameter column j for the tasks, broadcastable against `shape` (so one
    per-worker value can serve many tasks); only the columns the family uses are asked for.
    """
    if family_id == CONSTANT:
        return np.broadcast_to(column(0), shape).astype(np.float64, copy=True)
    if family_id == EXPONENTIAL:
        return column(0) + column(1) * rng.standard_exponential(shape)
    if family_id == UNIFORM:
        low = column(0)
        return low + (column(1) - low) * rng.random(shape)
    if family_id == HALF_NORMAL:
        return column(0) + column(1) * np.abs(rng.standard_normal(shape))
    if family_id == LOGNORMAL:
        log_mean, log_std = column(1), column(2)
        # Inverse CDF of Z given Z ≤ b: Φ⁻¹(U·Φ(b)); exact, and Φ(+inf) = 1 needs no branch.
        with np.errstate(divide="ignore"):
            upper_cdf = special.ndtr((np.log(column(3)) - log_mean) / log_std)
        normal = special.ndtri(rng.random(shape) * upper_cdf)
        return column(0) + np.exp(log_mean + log_std * normal)
    if family_id == GAMMA:
        return column(0) + rng.gamma(column(1), column(2), size=shape)
    raise ValueError(f"unknown family id {family_id}")


def _draw(rng: np.random.Generator, model: _Model, worker_index: np.ndarray,
          shape: tuple) -> np.ndarray:
    """Fresh task times float64[shape] of workers worker_index (int, broadcastable to shape).

    One family in the model: no masks. Several: drawn family by family, never worker by
    worker.
    """
    if model.present.size == 1:
        return _draw_family(rng, int(model.present[0]),
                            lambda j: np.take(model.columns[j], worker_index), shape)
    worker_index = np.broadcast_to(worker_index, shape)
    task_family = np.take(model.family, worker_index)
    times = np.empty(shape)
    for family_id in model.present:
        mask = task_family == family_id
        workers = worker_index[mask]
        if workers.size:
            times[mask] = _draw_family(rng, int(family_id),
                                       lambda j: np.take(model.columns[j], workers),
                                       workers.shape)
    return times


def draw_times_for_workers(rng: np.random.Generator, family, params,
                           worker_index) -> np.ndarray:
    """One fresh, independent task time for every entry of `worker_index` (any int shape).

    Returns float64 of the shape of `worker_index`: entry [...] is a draw from worker
    worker_index[...]'s distribution (model time units).
    """
    worker_index = np.asarray(worker_index, dtype=np.int64)
    return _draw(rng, _prepare(family, params), worker_index, worker_index.shape)


def draw_task_times(rng: np.random.Generator, family, params, shape_prefix) -> np.ndarray:
    """I.i.d. task times of every worker: float64[*shape_prefix, n] (model time units).

    shape_prefix: an int or a tuple of ints (() gives one draw per worker, shape [n]).
    """
    model = _prepare(family, params)
    shape_prefix = tuple(int(size) for size in np.atleast_1d(np.asarray(shape_prefix,
                                                                        dtype=np.int64)))
    num_workers = model.family.shape[0]
    return _draw(rng, model, np.arange(num_workers), (*shape_prefix, num_workers))


# ----------------------------------------------------------------------------------------
# Allocation (spec §4)
# ----------------------------------------------------------------------------------------

def proxy_loss(allocation: np.ndarray, means: np.ndarray) -> np.ndarray:
    """ℓ(a, μ) = max_i a_i·μ_i over the last axis: allocation [..., n], means [..., n] -> [...]."""
    return np.max(allocation * means, axis=-1)


def _smallest_indices(values: np.ndarray, count: int) -> np.ndarray:
    """Indices [S, count] of the `count` smallest entries of each row of values [S, N] (any
    order among them; ties broken arbitrarily). Linear time via argpartition."""
    if count >= values.shape[1]:
        return np.broadcast_to(np.arange(values.shape[1]), values.shape)
    return np.argpartition(values, count - 1, axis=1)[:, :count]


def _kth_smallest(values: np.ndarray, kth: int) -> np.ndarray:
    """The kth smallest (0-based) entry of each row of values [S, N], as a column [S, 1].

    Partitions `values` IN PLACE (callers pass a temporary): linear time, no copy, and
    faster than np.argpartition on these shapes."""
    values.partition(kth, axis=1)
    return values[:, kth:kth + 1].copy()


def _multiples_below(scores: np.ndarray, level: np.ndarray, budget: int) -> np.ndarray:
    """#{j ∈ 1..B : fl(j·s) < level} per entry of scores [S, m] > 0, level [S, 1]: int64[S, m].

    ⌈level/s⌉ − 1 can be off by one from rounding; one correction each way against the same
    floating-point products the grid holds makes the count exact.
    """
    count = np.clip(np.ceil(level / scores) - 1.0, 0.0, budget)
    count = np.where((count > 0) & (count * scores >= level), count - 1.0, count)
    count = np.where((count < budget) & ((count + 1.0) * scores < level), count + 1.0, count)
    return count.astype(np.int64)


def _water_filling(scores: np.ndarray, budget: int) -> np.ndarray:
    """argmin_a max_i a_i·s_i, Σa = B, for strictly positive scores [S, n]: int64[S, n].

    The allocation counts, per worker, how many of the B smallest values of {j·s_i : j = 1..B}
    it owns. Only the m = min(B, n) smallest scores can own any, so the grid is [S, m·B]; its
    B-th smallest value is the optimal loss ℓ*. Each candidate gets its multiples below ℓ*,
    and the tasks still missing go to candidates with a multiple exactly at ℓ* (a tie: any
    choice is optimal), lowest candidate position first.
    """
    num_seeds, num_workers = scores.shape
    candidates = _smallest_indices(scores, min(budget, num_workers))             # [S, m]
    candidate_scores = np.take_along_axis(scores, candidates, axis=1)            # [S, m]
    multiples = np.arange(1, budget + 1, dtype=np.float64)
    grid = (candidate_scores[:, :, None] * multiples).reshape(num_seeds, -1)     # [S, m·B]
    optimal_loss = _kth_smallest(grid, budget - 1)                               # [S, 1]
    below = _multiples_below(candidate_scores, optimal_loss, budget)             # [S, m]
    at_loss = (below < budget) & ((below + 1.0) * candidate_scores == optimal_loss)
    missing = budget - below.sum(axis=1, keepdims=True)                          # [S, 1] ≥ 1
    tie_winners = at_loss & (np.cumsum(at_loss, axis=1) <= missing)
    allocation = np.zeros((num_seeds, num_workers), dtype=np.int64)
    np.put_along_axis(allocation, candidates, below + tie_winners, axis=1)
    return allocation


def _spread_over_zeros(is_zero: np.ndarray, budget: int,
                       rng: np.random.Generator | None) -> np.ndarray:
    """Spread B evenly over each row's zero-score workers is_zero bool[S, n]: int64[S, n].

    Each zero worker gets ⌊B/|Z|⌋; the remainder r = B mod |Z| (< min(B, n)) goes one each to
    r workers of Z chosen uniformly at random (rng), or to the lowest-indexed ones (rng=None).
    """
    num_seeds, num_workers = is_zero.shape
    zero_count = is_zero.sum(axis=1, keepdims=True)                              # [S, 1]
    base, remainder = np.divmod(budget, zero_count)
    # Distinct integer priorities, zero-score workers first: random order (ties of the 40
    # random bits, probability ~ n²·2⁻⁴¹, fall back to index order) or index order.
    keys = np.broadcast_to(np.arange(num_workers, dtype=np.int64), is_zero.shape)
    if rng is not None:
        keys = rng.integers(0, 2**40, size=is_zero.shape, dtype=np.int64) * num_workers + keys
    keys = np.where(is_zero, keys, keys + np.int64(2**62))
    head = min(budget, num_workers)                 # the r extras lie in the m smallest keys
    smallest_keys = np.sort(np.partition(keys, head - 1, axis=1)[:, :head], axis=1)
    last_extra_key = np.take_along_axis(smallest_keys, np.maximum(remainder - 1, 0), axis=1)
    gets_extra = is_zero & (keys <= last_extra_key) & (remainder > 0)
    return np.where(is_zero, base, 0) + gets_extra


def allocate(scores, budget: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Optimal allocations argmin_a max_i a_i·s_i with Σ_i a_i = budget, one per seed.

    scores: float64[S, n], finite and ≥ 0 (a 1-D [n] input is one seed: returns [1, n]).
    Seeds with a zero score spread the budget evenly over their zero-score workers (remainder
    at random with `rng`, lowest indices with rng=None); the others are water-filled.
    Returns int64[S, n].
    """
    scores = np.atleast_2d(np.asarray(scores, dtype=np.float64))
    budget = int(budget)
    if budget < 1:
        raise ValueError(f"budget must be ≥ 1, got {budget}")
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ValueError(f"scores must be [S, n] with n ≥ 1, got shape {scores.shape}")
    if not np.all((scores >= 0) & np.isfinite(scores)):
        raise ValueError("scores must be finite and non-negative")
    return _allocate(scores, budget, rng)


def _allocate(scores: np.ndarray, budget: int, rng: np.random.Generator | None) -> np.ndarray:
    """`allocate` on validated scores float64[S, n] ≥ 0: int64[S, n]."""
    is_zero = scores == 0.0
    has_zero = is_zero.any(axis=1)
    if has_zero.all():
        return _spread_over_zeros(is_zero, budget, rng)
    if not has_zero.any():
        return _water_filling(scores, budget)
    allocation = np.empty(scores.shape, dtype=np.int64)
    allocation[has_zero] = _spread_over_zeros(is_zero[has_zero], budget, rng)
    allocation[~has_zero] = _water_filling(scores[~has_zero], budget)
    return allocation


# ----------------------------------------------------------------------------------------
# Allocators' scores (spec §§2-3)
# ----------------------------------------------------------------------------------------

def _confidence_width(sample_count: np.ndarray, round_index: int) -> np.ndarray:
    """√(L/K_i) + L/K_i with L = ln(2k²), k the 1-based round; +inf where K_i = 0."""
    log_term = math.log(2.0 * round_index**2)
    with np.errstate(divide="ignore"):
        ratio = log_term / sample_count
    return np.sqrt(ratio) + ratio


def ata_lcb(mean_estimate, sample_count, round_index: int, alpha: float) -> np.ndarray:
    """ATA's scores s_i = max(μ̂_i − 2α(√(L/K_i) + L/K_i), 0), and 0 where K_i = 0.

    mean_estimate μ̂ and sample_count K: float64[S, n] (time units, samples); alpha in time
    units; round_index k ≥ 1. Returns float64[S, n].
    """
    width = _confidence_width(sample_count, round_index)
    with np.errstate(invalid="ignore"):                      # α = 0 times an infinite width
        lcb = np.maximum(mean_estimate - 2.0 * alpha * width, 0.0)
    return np.where(sample_count > 0, lcb, 0.0)


def ata_empirical_lcb(mean_estimate, sample_count, round_index: int, eta: float) -> np.ndarray:
    """ATA-Empirical's scores s_i = μ̂_i·max(1 − 2η(√(L/K_i) + L/K_i), 0), and 0 where K_i = 0.

    Shapes as `ata_lcb`; eta is dimensionless. Returns float64[S, n].
    """
    width = _confidence_width(sample_count, round_index)
    with np.errstate(invalid="ignore"):                      # η = 0 times an infinite width
        lcb = mean_estimate * np.maximum(1.0 - 2.0 * eta * width, 0.0)
    return np.where(sample_count > 0, lcb, 0.0)


# ----------------------------------------------------------------------------------------
# Rounds
# ----------------------------------------------------------------------------------------

def _play_allocation(rng: np.random.Generator, model: _Model,
                     allocation: np.ndarray) -> np.ndarray:
    """Run one round of `allocation` int[S, n] (rows sum to B): busy times T float64[S, n].

    Draws exactly S·B task times: each (seed, worker) cell is repeated a_i times to list the
    round's tasks, and T sums a cell's task times (0 for idle workers).
    """
    num_seeds, num_workers = allocation.shape
    task_cells = np.repeat(np.arange(num_seeds * num_workers), allocation.ravel())  # [S·B]
    task_times = _draw(rng, model, task_cells % num_workers, task_cells.shape)
    busy = np.bincount(task_cells, weights=task_times, minlength=num_seeds * num_workers)
    return busy.reshape(num_seeds, num_workers)


def _greedy_task_mask(budget: int, num_candidates: int) -> np.ndarray:
    """bool[m, B]: can task u (column, 0-based) of the worker whose first completion is the
    r-th earliest (row r, 0-based) be among the B earliest completions of the round?

    Its completion follows the r earlier first completions and its own u earlier tasks, so
    only if r + u ≤ B − 1.
    """
    return np.arange(num_candidates)[:, None] + np.arange(budget)[None, :] <= budget - 1


def _greedy_round_time(rng: np.random.Generator, model: _Model, num_seeds: int,
                       budget: int) -> np.ndarray:
    """`greedy_round_time` on a prepared model."""
    num_workers = model.family.shape[0]
    first_times = _draw(rng, model, np.arange(num_workers), (num_seeds, num_workers))
    if budget == 1:
        return first_times.min(axis=1)
    num_candidates = min(budget, num_workers)
    fastest = _smallest_indices(first_times, num_candidates)                     # [S, m]
    fastest_times = np.take_along_axis(first_times, fastest, axis=1)
    by_rank = np.argsort(fastest_times, axis=1)
    ranked_workers = np.take_along_axis(fastest, by_rank, axis=1)                # [S, m]
    follow_up = _greedy_task_mask(budget, num_candidates)                        # [m, B]
    follow_up[:, 0] = False                                  # first tasks are drawn already
    follow_up_workers = ranked_workers[:, np.nonzero(follow_up)[0]]              # [S, c]
    task_times = np.full((num_seeds, num_candidates, budget), np.inf)            # [S, m, B]
    task_times[:, :, 0] = np.take_along_axis(fastest_times, by_rank, axis=1)
    task_times[:, follow_up] = _draw(rng, model, follow_up_workers, follow_up_workers.shape)
    completions = np.cumsum(task_times, axis=2).reshape(num_seeds, -1)           # [S, m·B]
    return _kth_smallest(completions, budget - 1)[:, 0]


def greedy_round_time(rng: np.random.Generator, family, params, num_seeds: int,
                      budget: int) -> np.ndarray:
    """GTA: all n workers run tasks back to back; time of the B-th completion: float64[S].

    Every worker draws its first task. Only the m = min(B, n) workers with the earliest first
    completions can finish one of the B earliest tasks (any other's first completion already
    follows B others), and the one ranked r-th (from 0) at most its first B − r tasks; only
    those follow-up tasks are drawn: n + B(B − 1)/2 draws per seed when n ≥ B. Cells that
    cannot count hold +inf.
    """
    return _greedy_round_time(rng, _prepare(family, params), int(num_seeds), int(budget))


# ----------------------------------------------------------------------------------------
# Simulation
# ----------------------------------------------------------------------------------------

def _check_policy(policy: str, counting: str, alpha, eta, expected_optimum=None,
                  num_workers: int = 0, budget: int = 0) -> None:
    """Raise ValueError for an unknown policy or counting, a missing alpha / eta, or
    ofta-expected without its allocation."""
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; choose from {', '.join(POLICIES)}")
    if counting not in COUNTINGS:
        raise ValueError(f"unknown counting {counting!r}; choose from {', '.join(COUNTINGS)}")
    if policy == "ata" and alpha is None:
        raise ValueError("policy 'ata' needs alpha (≥ max_i ‖X_i − μ_i‖_ψ1)")
    if policy == "ata-empirical" and eta is None:
        raise ValueError("policy 'ata-empirical' needs eta (≥ max_i ‖X_i − μ_i‖_ψ1 / μ_i)")
    if policy == "ofta-expected":
        counts = None if expected_optimum is None else np.asarray(expected_optimum)
        if counts is None or counts.shape != (num_workers,) or counts.sum() != budget:
            raise ValueError("policy 'ofta-expected' needs expected_optimum: n counts that sum "
                             "to B (a*_E, e.g. from ata_jax.expected.expected_optimum)")


def _msync_round_time(rng: np.random.Generator, model: _Model, num_seeds: int,
                      budget: int) -> np.ndarray:
    """m-synchronous: each of the n workers runs ⌈B/n⌉ tasks back to back; the round ends at
    the B-th earliest completion: float64[S]."""
    num_workers = model.family.shape[0]
    per_worker = -(-budget // num_workers)
    worker = np.broadcast_to(np.arange(num_workers)[:, None], (num_workers, per_worker))
    times = _draw(rng, model, worker, (num_seeds, num_workers, per_worker))
    completions = np.cumsum(times, axis=2).reshape(num_seeds, -1)
    return _kth_smallest(completions, budget - 1)[:, 0]


def _round_robin(num_workers: int, budget: int, round_index: int, num_seeds: int) -> np.ndarray:
    """Explore-then-commit's exploring round k: task t goes to worker ((k−1)B + t) mod n:
    int[S, n]."""
    workers = ((round_index - 1) * budget + np.arange(budget)) % num_workers
    counts = np.bincount(workers, minlength=num_workers)
    return np.broadcast_to(counts, (num_seeds, num_workers))


def _simulate_racing(rng, model: _Model, budget, num_rounds, num_seeds, round_time) -> dict:
    """The metrics (see `simulate`) of GTA or msync, whose every worker is held for the
    round: worker time n × runtime, proxy regret undefined (NaN)."""
    num_workers = model.family.shape[0]
    round_times = np.empty((num_rounds, num_seeds))
    for round_number in range(num_rounds):
        round_times[round_number] = round_time(rng, model, num_seeds, budget)
    runtime = round_times.sum(axis=0)
    return {"runtime": runtime, "worker_time": num_workers * runtime,
            "regret": np.full(num_seeds, np.nan), "round_time_mean": round_times.mean(axis=1)}


def simulate(family, params, policy: str, budget: int, num_rounds: int, num_seeds: int,
             seed: int = 0, alpha: float | None = None, eta: float | None = None,
             counting: str = "task", spread: float = 1.0, explore_samples: int = 10,
             expected_optimum=None) -> dict:
    """Run `policy` for `num_rounds` rounds on `num_seeds` independent seeds at once.

    policy: "ata" (needs alpha), "ata-empirical" (needs eta), "ofta", "uta", "gta", or the
    spec's §9 allocators: "thompson" (scores μ̂_i·exp(spread·Z/√K_i), 0 for an untried
    worker), "explore-commit" (round-robin until every worker has explore_samples samples,
    then allocate(μ̂) on the means frozen then), "msync" (every worker starts ⌈B/n⌉ tasks,
    the B-th completion ends the round, worker time n × round time) and "ofta-expected"
    (plays `expected_optimum`, int[n] summing to B, every round).
    counting: "task" (each task is one sample: K_i += a_i, sum += T_i) or "round" (one sample
    T_i/a_i per loaded round: K_i += 1).

    Returns a dict of float64 arrays (model time units):
      "runtime"         [S]: Σ_k round time, round time = max_i T_ik over loaded workers;
      "worker_time"     [S]: Σ_k Σ_i T_ik (GTA: n × runtime, unfinished work included);
      "regret"          [S]: Σ_k ℓ(a_k, μ) − ℓ(a*, μ), a* = allocate(μ); NaN for "gta" and
                             "msync";
      "round_time_mean" [K]: each round's time averaged over seeds.
    """
    model = _prepare(family, params)
    budget, num_rounds, num_seeds = int(budget), int(num_rounds), int(num_seeds)
    _check_policy(policy, counting, alpha, eta, expected_optimum, model.family.shape[0],
                  budget)
    if budget < 1 or num_rounds < 1 or num_seeds < 1:
        raise ValueError("budget, num_rounds and num_seeds must all be ≥ 1")
    rng = np.random.default_rng(seed)
    if policy in ("gta", "msync"):
        round_time = _greedy_round_time if policy == "gta" else _msync_round_time
        return _simulate_racing(rng, model, budget, num_rounds, num_seeds, round_time)

    num_workers = model.family.shape[0]
    means = worker_means(family, params)
    oracle = allocate(means[None, :], budget)                                    # [1, n]
    oracle_loss = float(proxy_loss(oracle, means)[0])

    sample_count = np.zeros((num_seeds, num_workers))        # K_i: samples seen
    sample_sum = np.zeros((num_seeds, num_workers))          # their sum: μ̂_i = sum / K_i
    runtime = np.zeros(num_seeds)
    worker_time = np.zeros(num_seeds)
    regret = np.zeros(num_seeds)
    round_time_mean = np.empty(num_rounds)
    everyone_untried = np.ones((num_seeds, num_workers), dtype=bool)   # UTA: all scores 0
    fixed = {"ofta": oracle, "ofta-expected": expected_optimum}.get(policy)
    if fixed is not None:
        fixed = np.broadcast_to(np.asarray(fixed, np.int64).reshape(1, -1),
                                (num_seeds, num_workers))
    exploring = np.ones(num_seeds, dtype=bool)  # explore-commit: still exploring, per seed

    for round_index in range(1, num_rounds + 1):
        mean_estimate = sample_sum / np.maximum(sample_count, 1.0)
        if fixed is not None:
            allocation = fixed
        elif policy == "uta":
            allocation = _spread_over_zeros(everyone_untried, budget, rng)
        elif policy == "explore-commit":
            exploring = (sample_count < explore_samples).any(axis=1)
            commit = _allocate(mean_estimate, budget, rng)
            allocation = np.where(exploring[:, None],
                                  _round_robin(num_workers, budget, round_index, num_seeds),
                                  commit)
        else:
            if policy == "ata":
                scores = ata_lcb(mean_estimate, sample_count, round_index, alpha)
            elif policy == "ata-empirical":
                scores = ata_empirical_lcb(mean_estimate, sample_count, round_index, eta)
            else:  # thompson: a log-normal draw around each tried worker's mean
                normal = rng.standard_normal((num_seeds, num_workers))
                scores = np.where(sample_count > 0, mean_estimate * np.exp(
                    spread * normal / np.sqrt(np.maximum(sample_count, 1.0))), 0.0)
            allocation = _allocate(scores, budget, rng)

        busy = _play_allocation(rng, model, allocation)
        round_time = busy.max(axis=1)
        runtime += round_time
        worker_time += busy.sum(axis=1)
        round_time_mean[round_index - 1] = round_time.mean()
        if policy != "ofta":
            regret += proxy_loss(allocation, means) - oracle_loss

        if policy in LEARNERS:
            # explore-commit's estimates freeze once it commits
            learning = exploring[:, None] if policy == "explore-commit" else True
            if counting == "task":
                sample_count += np.where(learning, allocation, 0)
                sample_sum += np.where(learning, busy, 0.0)
            else:
                loaded = (allocation > 0) & learning
                sample_count += loaded
                sample_sum += np.divide(busy, allocation, out=np.zeros_like(busy),
                                        where=loaded)

    return {"runtime": runtime, "worker_time": worker_time, "regret": regret,
            "round_time_mean": round_time_mean}
