"""Worker-time models: how long one task takes on each worker, drawn by (round, worker, slot).

A `TimeModel` holds, per worker i, a distribution family and its parameters, with the exact
mean μ_i and ψ1 norm α_i = ‖X_i − μ_i‖_ψ1 computed on the host (float64) when the model is
built. Inside `jit` it is an ordinary pytree of arrays; the set of families present is static
metadata, so a model that uses one family pays for one family's sampler.

Families and their parameters (unused columns are 0); every X ≥ 0:

| id | family        | X                                                 | parameters (columns 0..3)      |
|----|---------------|---------------------------------------------------|--------------------------------|
| 0  | `constant`    | value                                             | value                          |
| 1  | `exponential` | shift + Exp(mean)                                 | shift, mean                    |
| 2  | `uniform`     | Uniform(low, high)                                | low, high                      |
| 3  | `half-normal` | shift + scale·|Z|                                 | shift, scale                   |
| 4  | `lognormal`   | shift + exp(log_mean + log_std·Z), given ≤ upper  | shift, log_mean, log_std, upper|
| 5  | `gamma`       | shift + Gamma(shape, scale)                       | shift, shape, scale            |

An untruncated lognormal (upper = inf) is heavy-tailed: its ψ1 norm is infinite, so ATA's
default α (and ATA-Empirical's η) are infinite too and must be given explicitly. A finite
`upper` conditions the lognormal part on being ≤ upper (sampled exactly by inverse CDF).

A replayed model (`ata_jax.traces`) instead reads each worker's recorded times from a
`replay.ReplayTable` (field `replay`, None for the parametric families above): by bootstrap
or in recorded order; its mean and ψ1 norm are those of each worker's empirical distribution.

Common random numbers: the time of a task is a function of (round key, worker, slot) only,
never of which allocator asks or in which order, so allocators are compared on the same draws.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any, Callable, Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.extend.random import threefry_2x32
from jax.scipy.special import ndtr, ndtri

from ata_jax import psi1
from ata_jax.replay import replay_times
from ata_jax.schedules import make_schedule, mean_multiplier, multiplier

FAMILIES: tuple[str, ...] = ("constant", "exponential", "uniform", "half-normal", "lognormal",
                             "gamma")
FAMILY_FIELDS: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "exponential": ("shift", "mean"),
    "uniform": ("low", "high"),
    "half-normal": ("shift", "scale"),
    "lognormal": ("shift", "log_mean", "log_std", "upper"),
    "gamma": ("shift", "shape", "scale"),
}
POSITIVE_FIELDS: dict[str, tuple[str, ...]] = {
    "constant": ("value",),
    "exponential": ("mean",),
    "uniform": (),
    "half-normal": ("scale",),
    "lognormal": ("log_std",),
    "gamma": ("shape", "scale"),
}
FIELD_DEFAULTS: dict[str, float] = {"shift": 0.0, "upper": math.inf}
NUM_PARAMS = 4
FLOAT32_MAX = float(np.finfo(np.float32).max)
MAX_TIME = 1e20
"""The largest time (a field, a mean, a ψ1 norm): K·B-fold totals stay finite in float32."""
MIN_TIME = 1e-20
"""The smallest positive time: products with counts and scores stay normal float32 numbers."""
TIME_FIELDS = ("value", "shift", "mean", "low", "high", "scale", "upper")
GAMMA_SHAPES = (0.1, 1e4)
"""Accepted gamma shapes: ψ1's quadrature converges in milliseconds within them."""
LOG_STDS = (1e-3, 3.0)
"""Accepted lognormal log_std."""
LOG_MEAN_LIMIT = math.log(MAX_TIME)
TRUNCATION_SIGMAS = (-5.0, 8.0)
"""A finite lognormal `upper` lies within exp(log_mean + t·log_std) for t in this range
(below, less than 3·10⁻⁷ of the mass is left; above, float32 draws never reach) and within
exp(log_mean + TRUNCATION_SPREAD), where ψ1's quadrature stays finite."""
TRUNCATION_SPREAD = 10.0


@functools.partial(jax.tree_util.register_dataclass,
                   data_fields=["family", "params", "mean", "psi1", "schedule", "replay",
                                "present"],
                   meta_fields=["families"])
@dataclasses.dataclass(frozen=True)
class TimeModel:
    """Per-worker task-time distributions.

    Attributes:
      family: int32[n], family id per worker (see the module table).
      params: float[n, 4], the family's parameters per worker.
      mean: float[n], exact mean task time μ_i (time units).
      psi1: float[n], exact ψ1 norm α_i = ‖X_i − μ_i‖_ψ1 (time units; inf if heavy-tailed).
      families: static tuple of the family ids present.
      schedule: a `schedules.Schedule` of per-round multipliers, or None (stationary). The
        means and ψ1 norms above are those of the stationary base model.
      replay: a `replay.ReplayTable` of recorded times that replaces the families (then
        `families` is empty), or None.
      present: bool[n], False for the absent workers that pad a configuration to a batch's
        n (`configurations.pad_model`), or None (every worker present). An absent worker's
        mean is +inf: it never receives a task, never races, and draws no random number
        that a present worker's times depend on.
    """

    family: Any
    params: Any
    mean: Any
    psi1: Any
    families: tuple[int, ...]
    schedule: Any = None
    replay: Any = None
    present: Any = None

    @property
    def size(self) -> int:
        """n, the number of workers (static)."""
        return int(np.shape(self.family)[-1])

    @property
    def alpha(self) -> float:
        """The true α = max_i ‖X_i − μ_i‖_ψ1 (ATA's default). Host only."""
        return float(np.max(np.asarray(self.psi1)))

    @property
    def eta(self) -> float:
        """The true η = max_i α_i/μ_i (ATA-Empirical's default). Host only."""
        return float(np.max(np.asarray(self.psi1) / np.asarray(self.mean)))


class ModelError(ValueError):
    """A worker description that does not define a valid task-time distribution."""


def _check_fields(family: str, values: Mapping[str, float], where: str) -> None:
    def fail(message):
        raise ModelError(f"{where}: {family} worker: {message}")

    for name, value in values.items():
        if name == "upper":
            if not (value > 0) or math.isnan(value):
                fail(f"upper must be > 0 (or omitted for no truncation), got {value!r}")
        elif not math.isfinite(value):
            fail(f"{name} must be a finite number, got {value!r}")
    for name in TIME_FIELDS:
        value = values.get(name, 0.0)
        if value != 0 and math.isfinite(value) and not MIN_TIME <= abs(value) <= MAX_TIME:
            fail(f"{name} = {value!r} is outside [{MIN_TIME:g}, {MAX_TIME:g}] (or 0 where "
                 "allowed): rescale the time unit")
    if values.get("shift", 0.0) < 0:
        fail(f"shift must be >= 0, got {values['shift']!r}")
    for name in POSITIVE_FIELDS[family]:
        if values[name] <= 0:
            fail(f"{name} must be > 0, got {values[name]!r}")
    if family == "gamma" and not GAMMA_SHAPES[0] <= values["shape"] <= GAMMA_SHAPES[1]:
        fail(f"shape must lie in [{GAMMA_SHAPES[0]:g}, {GAMMA_SHAPES[1]:g}], got "
             f"{values['shape']!r}")
    if family == "lognormal":
        _check_lognormal(values, fail)
    if family == "uniform":
        if values["low"] < 0:
            fail(f"low must be >= 0, got {values['low']!r}")
        if values["high"] <= values["low"]:
            fail(f"high must be > low, got low={values['low']!r}, high={values['high']!r}")


def _check_lognormal(values: Mapping[str, float], fail: Callable[[str], None]) -> None:
    """The lognormal ranges where its mean and ψ1 norm are computed in bounded time."""
    log_mean, log_std, upper = values["log_mean"], values["log_std"], values["upper"]
    if abs(log_mean) > LOG_MEAN_LIMIT:
        fail(f"log_mean must lie in [-{LOG_MEAN_LIMIT:.4g}, {LOG_MEAN_LIMIT:.4g}] (exp(log_mean) "
             f"within [{MIN_TIME:g}, {MAX_TIME:g}]), got {log_mean!r}")
    if not LOG_STDS[0] <= log_std <= LOG_STDS[1]:
        fail(f"log_std must lie in [{LOG_STDS[0]:g}, {LOG_STDS[1]:g}], got {log_std!r}")
    if math.isinf(upper):
        return
    lowest, highest = TRUNCATION_SIGMAS
    top = min(highest * log_std, TRUNCATION_SPREAD)
    sigmas = (math.log(upper) - log_mean) / log_std
    if not (lowest <= sigmas and sigmas * log_std <= top):
        fail(f"upper = {upper!r} must lie within [exp(log_mean {lowest:g}·log_std), "
             f"exp(log_mean + min({highest:g}·log_std, {TRUNCATION_SPREAD:g}))] = "
             f"[{math.exp(log_mean + lowest * log_std):.4g}, {math.exp(log_mean + top):.4g}]; "
             "omit it for no truncation")


def worker_row(family: str, where: str = "worker", **fields: float) -> tuple[int, list[float]]:
    """(family id, parameter row) for one worker, validated. Unknown or missing fields raise."""
    if not isinstance(family, str) or family not in FAMILY_FIELDS:
        raise ModelError(f"{where}: unknown family {family!r}; valid families: "
                         f"{', '.join(FAMILIES)}")
    names = FAMILY_FIELDS[family]
    unknown = sorted(set(fields) - set(names))
    if unknown:
        raise ModelError(f"{where}: {family} worker: unknown field(s) {', '.join(unknown)}; "
                         f"valid fields: {', '.join(names)}")
    values = {}
    for name in names:
        if name in fields:
            value = fields[name]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ModelError(f"{where}: {family} worker: {name} must be a number, "
                                 f"got {value!r}")
            try:
                values[name] = float(value)
            except OverflowError:
                raise ModelError(f"{where}: {family} worker: {name} is too large") from None
            if math.isfinite(values[name]) and abs(values[name]) > FLOAT32_MAX:
                raise ModelError(f"{where}: {family} worker: {name} = {value!r} does not fit "
                                 "in float32")
        elif name in FIELD_DEFAULTS:
            values[name] = FIELD_DEFAULTS[name]
        else:
            raise ModelError(f"{where}: {family} worker: missing field {name!r}")
    _check_fields(family, values, where)
    row = [values[name] for name in names] + [0.0] * (NUM_PARAMS - len(names))
    return FAMILIES.index(family), row


def _mean_and_psi1(family: int, row: Sequence[float]) -> tuple[float, float]:
    """Exact mean and ψ1 norm of one worker's task time (float64, host)."""
    try:
        return _family_mean_and_psi1(FAMILIES[family], row)
    except (ArithmeticError, ValueError) as error:  # a quadrature that cannot converge
        raise ModelError(f"{FAMILIES[family]} worker {list(row)}: its ψ1 norm cannot be "
                         f"computed ({error})") from None


def _family_mean_and_psi1(name: str, row: Sequence[float]) -> tuple[float, float]:
    if name == "constant":
        return row[0], 0.0
    if name == "exponential":
        return row[0] + row[1], row[1] * psi1.exponential_unit()
    if name == "uniform":
        return 0.5 * (row[0] + row[1]), (row[1] - row[0]) * psi1.uniform_unit()
    if name == "half-normal":
        return row[0] + row[1] * math.sqrt(2.0 / math.pi), row[1] * psi1.half_normal_unit()
    if name == "lognormal":
        shift, log_mean, log_std, upper = row
        bound = math.inf if math.isinf(upper) else (math.log(upper) - log_mean) / log_std
        mean = shift + psi1.truncated_lognormal_mean(log_mean, log_std, upper)
        return mean, math.exp(log_mean) * psi1.lognormal_unit(log_std, bound)
    shift, shape, scale = row[:3]
    return shift + shape * scale, scale * psi1.gamma_unit(shape)


def uncentred_alpha(model: TimeModel) -> float:
    """max_i ‖X_i‖_ψ1 over the present workers, of the task time itself, not X_i − μ_i: the
    earlier poster's α (spec §9, `--confidence early`). A trace's workers use their
    recorded times' empirical norm. Host only; the base model's (a schedule is ignored).
    A ModelError (one line) where a norm cannot be computed (its bracket search or quadrature
    leaves float64 for a worker at the edge of the accepted ranges)."""
    present = (np.ones(model.size, bool) if model.present is None
               else np.asarray(model.present))
    if model.replay is not None:
        times, counts = np.asarray(model.replay.times), np.asarray(model.replay.count)
        norms = [psi1.empirical_uncentred_norm(times[i, :counts[i]])
                 for i in np.flatnonzero(present)]
        return float(max(norms))
    params, family = np.asarray(model.params, np.float64), np.asarray(model.family)
    norms = []
    for f, row in {(int(family[i]), tuple(params[i])) for i in np.flatnonzero(present)}:
        try:
            norms.append(psi1.uncentred_norm(FAMILIES[f], row))
        except (ArithmeticError, ValueError) as error:
            raise ModelError(f"the uncentred psi1 norm of a {FAMILIES[f]} worker with "
                             f"parameters {[float(value) for value in row]} cannot be computed "
                             f"({error}): pass --alpha for the early confidence") from None
    return float(max(norms))


def _family_stats(family: int, params: np.ndarray) -> np.ndarray:
    """float64[m, 2]: mean and ψ1 norm of m workers of one family (rows float64[m, 4]):
    closed forms at once, a quadrature once per distinct row."""
    name, p = FAMILIES[family], params.T
    closed = {"constant": lambda: (p[0], 0.0 * p[0]),
              "exponential": lambda: (p[0] + p[1], p[1] * psi1.exponential_unit()),
              "uniform": lambda: (0.5 * (p[0] + p[1]), (p[1] - p[0]) * psi1.uniform_unit()),
              "half-normal": lambda: (p[0] + p[1] * math.sqrt(2.0 / math.pi),
                                      p[1] * psi1.half_normal_unit())}
    if name in closed:
        return np.stack(closed[name](), axis=1)
    distinct, inverse = np.unique(params, axis=0, return_inverse=True)
    stats = np.array([_mean_and_psi1(family, row) for row in distinct.tolist()])
    return stats[inverse.ravel()]


def make_model(family: Sequence[int], params: Sequence[Sequence[float]]) -> TimeModel:
    """A `TimeModel` from family ids int[n] and parameter rows float[n, 4] (already valid)."""
    family = np.asarray(family, dtype=np.int32)
    params = np.asarray(params, dtype=np.float64).reshape(family.size, NUM_PARAMS)
    if family.size == 0:
        raise ModelError("a time model needs at least one worker")
    stats = np.zeros((family.size, 2))
    for kind in np.unique(family).tolist():
        members = family == kind
        stats[members] = _family_stats(kind, params[members])
    too_large = (stats[:, 0] > MAX_TIME) | ((stats[:, 1] > MAX_TIME) & np.isfinite(stats[:, 1]))
    if too_large.any():
        worker = int(np.argmax(too_large))
        raise ModelError(f"worker {worker}: mean {stats[worker, 0]:.4g} or ψ1 norm "
                         f"{stats[worker, 1]:.4g} is above {MAX_TIME:g}: rescale the time unit")
    return TimeModel(family=family, params=params, mean=stats[:, 0], psi1=stats[:, 1],
                     families=tuple(sorted(set(int(f) for f in family))))


def from_workers(workers: Sequence[Mapping[str, Any]], where: str = "model") -> TimeModel:
    """A model from worker descriptions: dicts with `family`, its fields, optional `count`."""
    from ata_jax.limits import MAX_WORKERS

    family, params = [], []
    for index, description in enumerate(workers):
        description = dict(description)
        label = f"{where}: workers[{index}]"
        if "family" not in description:
            raise ModelError(f"{label}: missing field 'family'")
        count = description.pop("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ModelError(f"{label}: count must be an integer >= 1, got {count!r}")
        if len(family) + count > MAX_WORKERS:
            raise ModelError(f"{label}: count {count} brings the model above {MAX_WORKERS} "
                             "workers (the compiled round unrolls a step per 32 workers): use "
                             "fewer workers")
        kind = description.pop("family")
        if not isinstance(kind, str) or kind not in FAMILY_FIELDS:
            raise ModelError(f"{label}: unknown family {kind!r}; valid families: "
                             f"{', '.join(FAMILIES)}")
        unknown = sorted(set(description) - set(FAMILY_FIELDS[kind]))
        if unknown:  # checked here so that no key can collide with worker_row's arguments
            raise ModelError(f"{label}: {kind} worker: unknown field(s) {', '.join(unknown)}"
                             f"; valid fields: {', '.join(FAMILY_FIELDS[kind])}")
        family_id, row = worker_row(kind, label, **description)
        family += [family_id] * count
        params += [row] * count
    return make_model(family, params)


# ----------------------------------------------------------------------------- presets

def _scaled_exponential(num_workers: int, base: Callable[[np.ndarray], np.ndarray]) -> TimeModel:
    scale = 29.0 * base(np.arange(1, num_workers + 1, dtype=np.float64))
    params = np.zeros((num_workers, NUM_PARAMS))
    params[:, 0] = scale
    params[:, 1] = scale
    return make_model(np.full(num_workers, FAMILIES.index("exponential")), params)


def cifar(num_workers: int) -> TimeModel:
    """The paper's CIFAR-100 setting: X_i = 29i + Exp(mean 29i), so μ_i = 58i."""
    return _scaled_exponential(num_workers, lambda i: i)


def sqrt(num_workers: int) -> TimeModel:
    """Milder heterogeneity: X_i = 29√i + Exp(mean 29√i)."""
    return _scaled_exponential(num_workers, np.sqrt)


def heterogeneous(num_workers: int) -> TimeModel:
    """Five families in turn (exponential, uniform, half-normal, lognormal, gamma).

    Worker i (1-based) has the shift 29i and a random part of mean 29i, so μ_i ≈ 58i as in
    `cifar`, with differently shaped tails: Exp(mean 29i); Uniform(29i, 87i);
    29i + 29i·√(π/2)·|Z|; 29i + lognormal(log_mean ln(29i) − 1/8, log_std 0.5) truncated at
    its 4σ point exp(log_mean + 4·log_std) (3·10⁻⁵ of the mass; makes ψ1 finite);
    29i + Gamma(shape 2, scale 14.5i).
    """
    rows, family = [], []
    for i in range(1, num_workers + 1):
        scale = 29.0 * i
        kind = ("exponential", "uniform", "half-normal", "lognormal", "gamma")[(i - 1) % 5]
        fields = {
            "exponential": dict(shift=scale, mean=scale),
            "uniform": dict(low=scale, high=3.0 * scale),
            "half-normal": dict(shift=scale, scale=scale * math.sqrt(math.pi / 2.0)),
            "lognormal": dict(shift=scale, log_mean=math.log(scale) - 0.125, log_std=0.5,
                              upper=math.exp(math.log(scale) - 0.125 + 4 * 0.5)),
            "gamma": dict(shift=scale, shape=2.0, scale=scale / 2.0),
        }[kind]
        family_id, row = worker_row(kind, f"heterogeneous worker {i}", **fields)
        family.append(family_id)
        rows.append(row)
    return make_model(family, rows)


def cifar_swap(num_workers: int, num_rounds: int) -> TimeModel:
    """`cifar` whose worker means reverse their order for the rounds k > K/2: worker i then
    runs like worker n+1−i (every time scaled by (n+1−i)/i, exact for this scale family)."""
    index = np.arange(1, num_workers + 1, dtype=np.float64)
    schedule = make_schedule(num_workers, "cifar-swap", change_round=num_rounds // 2 + 1,
                             change_factor=list((num_workers + 1 - index) / index))
    return dataclasses.replace(cifar(num_workers), schedule=schedule)


PRESETS: dict[str, Callable[[int], TimeModel]] = {
    "cifar": cifar,
    "sqrt": sqrt,
    "heterogeneous": heterogeneous,
}
SCHEDULED_PRESETS: dict[str, Callable[[int, int], TimeModel]] = {
    "cifar-swap": cifar_swap,
}
"""Presets whose schedule depends on the number of rounds K as well as on n."""


# ----------------------------------------------------------------------------- sampling

def _family_times(family: int, params: jax.Array, uniform: jax.Array,
                  task_key: jax.Array) -> jax.Array:
    """Task times of one family from its parameters [..., 4] and uniforms in [0, 1)."""
    p = [params[..., j] for j in range(NUM_PARAMS)]
    name = FAMILIES[family]
    if name == "constant":
        return p[0]
    if name == "exponential":
        return p[0] - p[1] * jnp.log1p(-uniform)
    if name == "uniform":
        return p[0] + (p[1] - p[0]) * uniform
    if name == "half-normal":
        return p[0] + p[1] * ndtri(0.5 + 0.5 * uniform)
    if name == "lognormal":
        mass = ndtr((jnp.log(p[3]) - p[1]) / p[2])
        return p[0] + jnp.exp(p[1] + p[2] * ndtri(uniform * mass))
    gamma = jax.vmap(lambda key, shape: jax.random.gamma(key, shape))(
        task_key.reshape(-1), p[1].reshape(-1)).reshape(uniform.shape)
    return p[0] + p[2] * gamma


def _uniform_from_bits(bits: jax.Array) -> jax.Array:
    """float32 in [0, 1) from uint32 bits (23 mantissa bits, as jax.random.uniform does)."""
    mantissa = (bits >> jnp.uint32(9)) | jnp.uint32(0x3F800000)
    return lax.bitcast_convert_type(mantissa, jnp.float32) - 1.0


def _sample_families(model: TimeModel, worker: jax.Array, uniform: jax.Array,
                     first_word: jax.Array, second_word: jax.Array) -> jax.Array:
    """Task times of `worker` [t] from the model's families, given each task's uniform [t]."""
    table = jnp.asarray(model.params, dtype=uniform.dtype)
    # one gather per column from a 1-D table: XLA's CPU backend fuses a scalar gather into
    # its consumers, while a gather of [n, 4] rows runs on its own; the columns a family does
    # not use are never gathered
    params = jnp.stack([table[:, j][worker] for j in range(NUM_PARAMS)], axis=-1)
    family = jnp.asarray(model.family)[worker]
    task_keys = None
    if FAMILIES.index("gamma") in model.families:
        task_keys = jax.vmap(jax.random.wrap_key_data)(jnp.stack([first_word, second_word], 1))
    times = [_family_times(f, params, uniform, task_keys) for f in model.families]
    if len(times) == 1:
        return times[0]
    return jnp.select([family == f for f in model.families], times)


def current_means(model: TimeModel, round_number: jax.Array) -> jax.Array:
    """float32[n]: the mean task times in round k (the base means unless scheduled)."""
    mean = jnp.asarray(model.mean, jnp.float32)
    if model.schedule is None:
        return mean
    return mean * mean_multiplier(model.schedule, round_number, jnp.arange(model.size))


def present_workers(model: TimeModel) -> jax.Array:
    """bool[n]: which workers are present (all of them unless the model is padded)."""
    if model.present is None:
        return jnp.ones(model.size, bool)
    return jnp.asarray(model.present)


def worker_count(model: TimeModel):
    """The number of present workers: the static n, or a traced count for a padded model."""
    if model.present is None:
        return model.size
    return jnp.sum(jnp.asarray(model.present), dtype=jnp.int32)


def round_key_words(key: jax.Array) -> jax.Array:
    """uint32[2]: the words a round's task key hashes task counters with (compute once per
    round and pass to `task_times` as key_words when drawing task by task)."""
    return jax.random.bits(key, (2,), jnp.uint32)


def _hash_counters(key_words: jax.Array, counter: jax.Array) -> tuple[jax.Array, jax.Array]:
    """The Threefry-2x32 blocks at counters (counter, 0): (first words, second words)."""
    blocks = threefry_2x32(key_words, jnp.concatenate([counter, jnp.zeros_like(counter)]))
    return blocks[:counter.size], blocks[counter.size:]


def task_times(model: TimeModel, key: jax.Array | None, worker: jax.Array, slot: jax.Array,
               num_slots: int, round_number: jax.Array | None = None,
               straggle_words: jax.Array | None = None,
               key_words: jax.Array | None = None) -> jax.Array:
    """Time of task `slot` (0-based) of `worker` in the round whose task key is `key`.

    Each task is one Threefry-2x32 block keyed by the round's key on the counter
    (worker·num_slots + slot, 0), so a task's time depends on (key, worker, slot) only and
    drawing a subset costs one block per task drawn.

    Args:
      model: the time model (n workers).
      key: the round's task key; the same key gives the same times to every allocator.
      worker: int32[...], worker indices in [0, n).
      slot: int32[...], task slots in [0, num_slots), same shape as `worker`.
      num_slots: static bound on slots (the budget B); fixes the (worker, slot) → draw map.
      round_number: the round k (from 1); needed when the model has a schedule.
      straggle_words: `round_key_words` of the round's task key, which draws the
        stragglers (default: this call's key words); extra tasks drawn from another key
        (reassigned work) pass the round's here, so a worker straggles on all of its tasks
        of a round or on none.
      key_words: `round_key_words(key)`, when already computed (then `key` may be None).
    Returns:
      float32[...] task times (time units), one per (worker, slot) pair.
    """
    shape = jnp.shape(worker)
    worker = jnp.ravel(worker)
    counter = (worker * num_slots + jnp.ravel(slot)).astype(jnp.uint32)
    if key_words is None:
        key_words = round_key_words(key)
    first_word, second_word = _hash_counters(key_words, counter)
    uniform = _uniform_from_bits(first_word)
    if model.replay is not None:
        result = replay_times(model.replay, worker, jnp.ravel(slot), first_word, round_number,
                              num_slots)
    else:
        result = _sample_families(model, worker, uniform, first_word, second_word)
    if model.schedule is not None:
        if round_number is None:
            raise ValueError("task_times: a scheduled (non-stationary) model needs round_number")
        # one straggler draw per (round, worker): counters above every present task's
        # counter, placed by the present count so that padding does not move them
        straggle_counter = (worker_count(model) * num_slots + worker).astype(jnp.uint32)
        straggle_words = key_words if straggle_words is None else straggle_words
        straggle_bits = _hash_counters(straggle_words, straggle_counter)[0]
        result = result * multiplier(model.schedule, round_number, worker,
                                     _uniform_from_bits(straggle_bits))
    return result.reshape(shape)
