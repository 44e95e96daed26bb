"""The simulation: `lax.scan` over rounds, `vmap` over runs, metrics reduced in the scan.

One jitted function of (seed keys, model, hyperparameters) per policy; the sizes that shape
arrays (n via the model, B, K) are static, everything a sweep varies (α, η, keys) is traced.
A run is a seed of one model, or a (configuration, seed) pair of a batch of models
(`simulate_configurations`); runs are done in chunks that fit a memory budget.

Keys: seed j's key is fold_in(key(master_seed), j), so its results never depend on how many
seeds run beside it. Round k's key is fold_in(seed key, k); from it, fold_in(·, 0) draws the
task times (the same for every policy: common random numbers) and fold_in(·, 1) is the
policy's own randomness.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.sharding import Mesh
from jax.sharding import PartitionSpec as P

from ata_jax import compilation
from ata_jax.allocation import assignment_counts, assignment_proxy_loss
from ata_jax.allocators import (POLICY_NAMES, Hyperparameters, Policy, make_policy,
                                needs_expected_optimum, policy_spec)
from ata_jax.allocators.ofta_expected import counts_assignment
from ata_jax.metrics import (CURVE_METRICS, METRICS, PerRound, RoundContext, Totals,
                             measured)
from ata_jax.progress import ProgressLike, notify
from ata_jax.rounds import has_failures
from ata_jax.solvers import resolve_solver
from ata_jax.solvers import solver as solver_named
from ata_jax.summation import compensated_add, compensated_value, compensated_zeros
from ata_jax.timemodels import TimeModel, current_means, uncentred_alpha


class SeedSummary(NamedTuple):
    """One seed's K rounds: every metric's total (`Totals`, time units or counts) and, when
    recorded, the curve metrics' per-round values (`PerRound`, each [K]); a leading seed axis
    [S] once batched."""

    totals: Totals
    per_round: PerRound | None


def seed_keys(master_seed: int, num_seeds: int, first_seed: int = 0) -> jax.Array:
    """The keys of seeds first..first+S−1: fold_in(key(master_seed), j).

    A block of seeds computed anywhere (another process, another host) is exactly that
    block of a single run.
    """
    master = jax.random.key(master_seed)
    return jax.vmap(lambda j: jax.random.fold_in(master, j))(
        jnp.arange(first_seed, first_seed + num_seeds))


def optimal_proxy_loss(model: TimeModel, budget: int, round_number=1,
                       solver: str = "cpu") -> jax.Array:
    """ℓ(a*, μ_k) = min_a max_i a_i·μ_k,i for the means of round k (with `solver`'s assign)."""
    mean = current_means(model, round_number)
    return assignment_proxy_loss(solver_named(solver).assign(mean, budget), mean)


def run_seed(policy: Policy, model: TimeModel, hyperparameters: Hyperparameters,
             key: jax.Array, *, budget: int, num_rounds: int, record_rounds: bool = False,
             allocates: bool = True, solver: str = "cpu",
             expected_regret: bool = False) -> SeedSummary:
    """One seed: K rounds of `policy` on `model`, every metric reduced inside the scan.

    allocates (static): whether the policy plays an allocation (else the metrics that need
    one, the proxy regret, are NaN without being computed). solver: the one that computes
    the optimum of a changing model's rounds (the policy brings its own). expected_regret
    (static): also play the expected-time optimum `hyperparameters.expected_optimum` on
    each round's draws and sum the policy's excess over its round time.
    """
    stationary = model.schedule is None
    computed = tuple(metric for metric in METRICS
                     if measured(metric, allocates=allocates, failures=has_failures(model),
                                 expected=expected_regret))
    best_loss = optimal_proxy_loss(model, budget, solver=solver) if stationary else None
    reference = None
    if expected_regret:
        if hyperparameters.expected_optimum is None:
            raise ValueError("the expected-time regret needs Hyperparameters("
                             "expected_optimum=...) (ata_jax.expected)")
        reference = counts_assignment(hyperparameters.expected_optimum, budget)

    def one_round(carry, _):
        round_number, state, totals = carry
        round_key = jax.random.fold_in(key, round_number)
        task_key = jax.random.fold_in(round_key, 0)
        state, outcome = policy.play_round(state, round_number, task_key,
                                           jax.random.fold_in(round_key, 1), model)
        best = (best_loss if stationary
                else optimal_proxy_loss(model, budget, round_number, solver))
        optimum_time = None if reference is None else solver_named(solver).play_assignment(
            model, task_key, reference, budget, round_number).outcome.round_time
        context = RoundContext(round_number, num_rounds, best, optimum_time)
        values = {metric.name: metric.of_round(outcome, context) for metric in computed}
        totals = {name: compensated_add(total, values[name]) for name, total in totals.items()}
        record = ({metric.name: values[metric.name] for metric in CURVE_METRICS
                   if metric.name in values} if record_rounds else None)
        return (round_number + 1, state, totals), record

    initial = (jnp.int32(1), policy.init(model, hyperparameters),
               {metric.name: compensated_zeros() for metric in computed})
    # the round number is carried, not scanned over: no K-long array unless rounds are recorded
    (_, _, totals), record = lax.scan(one_round, initial, None, length=num_rounds)
    totals = Totals(**{metric.name: (compensated_value(totals[metric.name])
                                     if metric.name in totals else jnp.float32(metric.absent))
                       for metric in METRICS})
    per_round = None
    if record_rounds:
        per_round = PerRound(*(record[metric.name] if metric.name in record
                               else jnp.full(num_rounds, metric.absent, jnp.float32)
                               for metric in CURVE_METRICS))
    return SeedSummary(totals, per_round)


def _simulate_batch(keys, model, hyperparameters, *, policy_name, budget, num_rounds, counting,
                    record_rounds, window_capacity, per_run, solver, confidence="final",
                    expected_regret=False):
    compilation.count_trace(("simulate", policy_name, model.size, budget))
    policy = make_policy(policy_name, budget, counting, window_capacity, solver, confidence)
    allocates = policy_spec(policy_name).allocates
    run = lambda key, model, hyperparameters: run_seed(
        policy, model, hyperparameters, key, budget=budget, num_rounds=num_rounds,
        record_rounds=record_rounds, allocates=allocates, solver=solver,
        expected_regret=expected_regret)
    return jax.vmap(run, in_axes=(0, 0 if per_run else None, 0 if per_run else None))(
        keys, model, hyperparameters)


def seed_mesh() -> Mesh | None:
    """A one-axis mesh ('seeds') over all local devices, or None for a single device."""
    devices = jax.local_devices()
    return Mesh(np.array(devices), ("seeds",)) if len(devices) > 1 else None


def split_over_devices(function: Callable, batch_size: int, in_specs: tuple) -> Callable:
    """`function` of batched arguments, split over the local devices with `shard_map` along
    the leading ('seeds') axis of the arguments whose spec is P('seeds') (each device runs its
    share, no communication), or `function` itself on one device or when batch_size does not
    divide evenly. Results do not depend on the split."""
    mesh = seed_mesh()
    if mesh is None or batch_size % mesh.size:
        return function
    return jax.shard_map(function, mesh=mesh, in_specs=in_specs, out_specs=P("seeds"),
                         check_vma=False)


@functools.partial(jax.jit, static_argnames=("policy_name", "budget", "num_rounds", "counting",
                                             "record_rounds", "window_capacity", "per_run",
                                             "solver", "confidence", "expected_regret"))
def simulate_seeds(keys: jax.Array, model: TimeModel, hyperparameters: Hyperparameters, *,
                   policy_name: str, budget: int, num_rounds: int, counting: str = "task",
                   record_rounds: bool = False, window_capacity: int = 0,
                   per_run: bool = False, solver: str = "cpu", confidence: str = "final",
                   expected_regret: bool = False) -> SeedSummary:
    """`run_seed` vmapped over keys [R]: every field gains a leading run axis.

    per_run (static): the model's and the hyperparameters' leaves carry the same leading
    axis [R] as the keys (run r simulates its own configuration: a batch of (configuration,
    seed) pairs); otherwise one model and one set of hyperparameters serve every key.
    solver (static): "cpu" or "portable" (`ata_jax.solvers`; the same results). confidence
    and expected_regret (static): ATA's constant and whether the expected-time regret is
    measured (`run_seed`; it needs hyperparameters.expected_optimum). With several
    local devices and R divisible by their number, the runs are split over
    them with `shard_map` (each device runs its own share, no communication); a run's
    result is the same on any number of devices.
    """
    run = functools.partial(_simulate_batch, policy_name=policy_name, budget=budget,
                            num_rounds=num_rounds, counting=counting,
                            record_rounds=record_rounds, window_capacity=window_capacity,
                            per_run=per_run, solver=solver, confidence=confidence,
                            expected_regret=expected_regret)
    shared = P("seeds") if per_run else P()
    return split_over_devices(run, keys.shape[0], (P("seeds"), shared, shared))(
        keys, model, hyperparameters)


def export_simulation(model: TimeModel, policy_name: str, *, budget: int, num_rounds: int,
                      num_seeds: int, solver: str = "auto", platform: str = "cuda",
                      counting: str = "task", window: int = 500, record_rounds: bool = False):
    """The `jax.export.Exported` program of one single-device simulation (`num_seeds` seeds
    of `policy_name` on `model`, K = num_rounds) lowered for `platform` ("cuda", "rocm",
    "tpu" or "cpu"), which needs no such device: JAX lowers for it anywhere. Its StableHLO
    (`.mlir_module()`) shows the program's shape, e.g. the while loops and conditionals a
    round contains. solver "auto" is `cpu` for platform "cpu", else `portable`.
    """
    from jax import export

    spec = policy_spec(policy_name)
    if solver == "auto":
        solver = "cpu" if platform == "cpu" else "portable"
    solver = resolve_solver(solver)
    # any allocation stands in for the expected-time optimum: the program's shape is the same
    placeholder = assignment_counts(solver_named(solver).assign(model.mean, budget), model.size)
    hyperparameters = Hyperparameters(
        alpha=jnp.float32(model.alpha), eta=jnp.float32(model.eta),
        discount=jnp.float32(0.998), window=jnp.int32(window), expected_optimum=placeholder)
    run = jax.jit(functools.partial(
        _simulate_batch, policy_name=policy_name, budget=budget, num_rounds=num_rounds,
        counting=counting, record_rounds=record_rounds,
        window_capacity=window if spec.needs_window else 0, per_run=False, solver=solver))
    return export.export(run, platforms=[platform])(seed_keys(0, num_seeds), model,
                                                    hyperparameters)


def compiled_simulation(keys, model, hyperparameters, **static):
    """(compiled `simulate_seeds` for these shapes and static settings, seconds spent
    compiling now: 0.0 when an earlier call already compiled it; `ata_jax.compilation`)."""
    return compilation.compiled(simulate_seeds, keys, model, hyperparameters, **static)


@dataclasses.dataclass
class PolicyResult:
    """One policy's results over S seeds.

    totals: every metric's per-seed totals (`Totals` of float64 NumPy [S]), also readable as
    attributes (`result.runtime`, `result.idle_time`, ...). per_round: the curve metrics of
    every seed and round (`PerRound` of float64 [S, K]) when rounds were recorded, else None.
    compile_s, run_s: seconds compiling and running (block_until_ready).
    """

    totals: Totals
    per_round: PerRound | None
    compile_s: float
    run_s: float

    def __getattr__(self, name):
        if name in Totals._fields:  # a metric's per-seed totals
            return getattr(self.totals, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def round_time_mean(self) -> np.ndarray | None:
        """float64[K]: the mean round time of each round over seeds (None unless recorded)."""
        return None if self.per_round is None else self.per_round.round_time.mean(axis=0)

    def summary(self) -> dict:
        """Each metric's mean and standard deviation over seeds ("<name>", "<name>_std"),
        None where undefined (GTA's regret) or not finite; with recorded rounds also
        "round_time", the mean round time of each round."""
        out = {}
        for metric in METRICS:
            values = getattr(self.totals, metric.name)
            out[metric.name], out[f"{metric.name}_std"] = _mean_and_std(values)
        if self.per_round is not None:
            out["round_time"] = self.round_time_mean.tolist()
        return out


class SimulationResults(dict):
    """What `simulate` returns for one model: policy name -> PolicyResult (a plain dict to
    read), plus `settings` (every setting used: budget, rounds, seeds, seed, first_seed,
    alpha and eta used, true_alpha, true_eta, workers, discount, window, counting,
    record_rounds, solver, prior) and `.to_xarray()`."""

    def __init__(self, results: dict[str, PolicyResult], settings: dict):
        super().__init__(results)
        self.settings = settings

    def to_xarray(self, label: dict | None = None):
        """An xarray.Dataset: dimensions policy, seed[, round]; every metric's per-seed
        totals, per-round records, settings and provenance as attributes
        (`ata_jax.labelled.simulation_dataset`; needs the extra `xarray`). label: the
        configuration's label (e.g. {"time_model": "cifar", "workers": 51}), as attributes."""
        from ata_jax.labelled import simulation_dataset

        return simulation_dataset([self], self.settings, None if label is None else [label],
                                  single=True)


class ConfigurationResults(list):
    """What `simulate` returns for several models: one dict per model (policy name ->
    PolicyResult), plus `settings` (alpha, eta, true_alpha, true_eta and workers are lists,
    one per configuration) and `.to_xarray()`."""

    def __init__(self, results: list[dict[str, PolicyResult]], settings: dict):
        super().__init__(results)
        self.settings = settings

    def to_xarray(self, labels: Sequence[dict] | None = None):
        """An xarray.Dataset: dimensions configuration, policy, seed[, round]; coordinates
        along configuration from `labels` (time_model, workers, heterogeneity, cluster) or
        workers alone, and each one's alpha and eta (`ata_jax.labelled.simulation_dataset`;
        needs the extra `xarray`)."""
        from ata_jax.labelled import simulation_dataset

        return simulation_dataset(self, self.settings, labels, single=False)


def _settings(models: Sequence[TimeModel], policies, alpha, eta, **settings) -> dict:
    """The settings a result records: per configuration the α and η used, the true ones, n."""
    used = lambda given, true: [float(true if given is None else given) for true in true]
    confidence = settings.get("confidence", "final")
    return dict(settings, policies=list(policies),
                alpha=used(alpha, [default_alpha(model, confidence) for model in models]),
                eta=used(eta, [model.eta for model in models]),
                true_alpha=[float(model.alpha) for model in models],
                true_eta=[float(model.eta) for model in models],
                workers=[int(model.size) for model in models])


def _mean_and_std(values: np.ndarray) -> tuple[float | None, float | None]:
    """(mean, std) over seeds; None where undefined (all NaN) or not finite."""
    if np.isnan(values).all():
        return None, None
    std = float(values.std(ddof=1)) if values.size > 1 else 0.0
    finite = lambda value: value if np.isfinite(value) else None
    return finite(float(values.mean())), finite(std)


def simulate(model: TimeModel | Sequence[TimeModel], policies: Sequence[str] = POLICY_NAMES,
             *, budget: int = 23, num_rounds: int = 1000, num_seeds: int = 16, seed: int = 0,
             alpha: float | None = None, eta: float | None = None, discount: float = 0.998,
             window: int = 500, counting: str = "task",
             record_rounds: bool = False,
             on_result: Callable[[str, PolicyResult], None] | None = None,
             first_seed: int = 0, prior_mean: Sequence[float] | None = None,
             prior_count: float | Sequence[float] = 1.0, memory_mb: float | None = None,
             progress: ProgressLike = None,
             solver: str = "auto", spread: float = 1.0, explore_samples: int = 10,
             confidence: str = "final", expected_regret: bool = False,
             expected_optimum=None, checkpoint=None) -> SimulationResults | ConfigurationResults:
    """Run each policy on the same seeds and the same task draws.

    The seeds are first_seed..first_seed+num_seeds−1 of the master seed `seed`: processes
    that take disjoint blocks (e.g. block jax.process_index() of jax.process_count()) produce
    together exactly the results of one run over all the seeds.

    alpha and eta default to the model's true values (`model.alpha`, `model.eta`);
    discount is γ of the discounted variants, window the W (rounds) of the windowed ones.
    prior_mean (float[n]) warm-starts ATA and ATA-Empirical (plain and discounted) with
    estimates of μ worth prior_count samples each (a number or float[n]).
    Compilation is timed apart from the run (`compile_s`, `run_s`, with block_until_ready);
    a later call with the same shapes and static settings reuses the compiled program.
    `on_result(name, result)` is called as each policy finishes (e.g. to save it at once).
    The runs are cut into equal chunks that fit `memory_mb` (default: a safe share of the
    machine's memory, `memory.default_memory_mb`); chunk boundaries never change a result.
    `progress` (`ata_jax.progress`: a Progress, or a callable of one line) hears of each
    chunk: a Progress the runs done of len(policies)·num_seeds, a callable a line when there
    are several chunks. solver: "cpu", "portable"
    or "auto" (`ata_jax.solvers.resolve_solver`: cpu on a CPU), the same results either way.
    spread: Thompson sampling's ν; explore_samples: explore-then-commit's m; confidence:
    "final" or "early" (ATA's constant; "early" makes α default to the uncentred
    `timemodels.uncentred_alpha`). expected_regret: also measure each policy's
    expected-time regret against a*_E (`ata_jax.expected`), which `ofta-expected` plays;
    a*_E (int[n], or an `ExpectedOptimum`; a list of them for several models) is searched
    for when not given and needed.
    checkpoint: a `checkpoints.ChunkStore` keeping every finished chunk (one group per policy,
    and per batch of configurations), so that a killed run resumed with the same store
    computes only the rest, bit-identically.
    The result is a `SimulationResults`: a dict policy name -> PolicyResult with the
    settings and `.to_xarray()`.

    `model` may also be a sequence of models (worker configurations): the result is then a
    `ConfigurationResults`, a list with one such dict per model (and `.to_xarray()` over
    all of them), each equal to running that model alone with the same
    seeds; the models run as one batch of (configuration, seed) pairs, padded to the largest
    n, one compile per policy (`simulate_configurations`), and on_result(index, name, result)
    is called for every configuration of a batch as it finishes.
    """
    if not isinstance(model, TimeModel):
        return simulate_configurations(
            model, policies, budget=budget, num_rounds=num_rounds, num_seeds=num_seeds,
            seed=seed, alpha=alpha, eta=eta, discount=discount, window=window,
            counting=counting, record_rounds=record_rounds, on_result=on_result,
            first_seed=first_seed, prior_mean=prior_mean, prior_count=prior_count,
            memory_mb=memory_mb, progress=progress, solver=solver, spread=spread,
            explore_samples=explore_samples, confidence=confidence,
            expected_regret=expected_regret, expected_optimum=expected_optimum,
            checkpoint=checkpoint)
    specs = [policy_spec(name) for name in policies]  # an unknown name fails before any work
    solver = resolve_solver(solver)
    check_policy_inputs([model], policies, budget=budget, num_rounds=num_rounds,
                        spread=spread, explore_samples=explore_samples, confidence=confidence,
                        expected_regret=expected_regret)
    _check_runs_fit([model], policies, specs, per_run=False, window=window,
                    memory_mb=memory_mb, budget=budget, num_rounds=num_rounds,
                    counting=counting, record_rounds=record_rounds)
    optimum = None
    if expected_regret or needs_expected_optimum(policies):
        optimum = _optimum_counts(expected_optimum, model, budget)
    hyperparameters = Hyperparameters(
        alpha=jnp.float32(default_alpha(model, confidence) if alpha is None else alpha),
        eta=jnp.float32(model.eta if eta is None else eta),
        discount=jnp.float32(discount), window=jnp.int32(window),
        spread=jnp.float32(spread), explore_samples=jnp.float32(explore_samples),
        expected_optimum=optimum,
        **({} if prior_mean is None else dict(
            prior_mean=_prior_array(prior_mean, model.size, "prior_mean"),
            prior_count=_prior_array(prior_count, model.size, "prior_count"))))
    keys = seed_keys(seed, num_seeds, first_seed)
    results = {}
    for position, (name, spec) in enumerate(zip(policies, specs)):
        summary, compile_s, run_s = _run_in_chunks(
            keys, model, hyperparameters, per_run=False, memory_mb=memory_mb,
            progress=progress, runs_before=position * num_seeds,
            runs_total=len(policies) * num_seeds, store=checkpoint, group=name,
            policy_name=name, budget=budget, num_rounds=num_rounds,
            counting=counting, record_rounds=record_rounds,
            window_capacity=window if spec.needs_window else 0, solver=solver,
            confidence=confidence, expected_regret=expected_regret)
        results[name] = PolicyResult(summary.totals, summary.per_round, compile_s, run_s)
        if on_result is not None:
            on_result(name, results[name])
    settings = _settings([model], policies, alpha, eta, budget=budget, rounds=num_rounds,
                         seeds=num_seeds, seed=seed, first_seed=first_seed, discount=discount,
                         window=window, counting=counting, record_rounds=record_rounds,
                         solver=solver, prior=prior_mean is not None, spread=spread,
                         explore_samples=explore_samples, confidence=confidence,
                         expected_regret=expected_regret)
    settings.update({name: settings[name][0] for name in ("alpha", "eta", "true_alpha",
                                                           "true_eta", "workers")})
    return SimulationResults(results, settings)


def simulate_configurations(
        models: Sequence[TimeModel], policies: Sequence[str] = POLICY_NAMES, *,
        budget: int = 23, num_rounds: int = 1000, num_seeds: int = 16, seed: int = 0,
        alpha: float | None = None, eta: float | None = None, discount: float = 0.998,
        window: int = 500, counting: str = "task", record_rounds: bool = False,
        on_result: Callable[[int, str, PolicyResult], None] | None = None,
        first_seed: int = 0, prior_mean: Sequence[float] | None = None,
        prior_count: float | Sequence[float] = 1.0, memory_mb: float | None = None,
        progress: ProgressLike = None,
        solver: str = "auto", spread: float = 1.0, explore_samples: int = 10,
        confidence: str = "final", expected_regret: bool = False,
        expected_optimum=None, checkpoint=None) -> ConfigurationResults:
    """Each policy on every model (configuration) with the same seeds: one result dict per
    model, equal to `simulate(model, ...)` of that model alone to float32 rounding.

    The models are grouped by `configurations.batch_signature` (the families present, the
    kind of schedule); each group is stacked (`configurations.stack_models`, padding the
    smaller n with absent workers) and run as one flat batch of (configuration, seed) runs,
    so one compile per policy and group serves any number of configurations (the `cifar` and
    `sqrt` presets of any n and random clusters are one group). α and η default to each
    model's own true values (traced per configuration); given, they apply to all. A
    configuration's compile_s and run_s are an equal share of its batch's.
    """
    from ata_jax.configurations import batches, rows, stack_models
    from ata_jax.expected import expected_optima

    specs = [policy_spec(name) for name in policies]
    solver = resolve_solver(solver)
    models = list(models)
    check_policy_inputs(models, policies, budget=budget, num_rounds=num_rounds,
                        spread=spread, explore_samples=explore_samples, confidence=confidence,
                        expected_regret=expected_regret)
    stacked_batches = [(members, stack_models([models[index] for index in members],
                                              [f"configuration {index}" for index in members]))
                       for members in batches(models)]
    _check_runs_fit([jax.tree.map(lambda leaf: leaf[0], stacked)
                     for _, stacked in stacked_batches], policies, specs, per_run=True,
                    window=window, memory_mb=memory_mb, budget=budget,
                    num_rounds=num_rounds, counting=counting, record_rounds=record_rounds)
    optima = None
    if expected_regret or needs_expected_optimum(policies):
        if expected_optimum is None:
            expected_optimum = expected_optima(models, budget)
        if len(expected_optimum) != len(models):
            raise ValueError(f"{len(expected_optimum)} expected-time optima for "
                             f"{len(models)} models")
        optima = [_optimum_counts(given, member, budget)
                  for given, member in zip(expected_optimum, models)]
    results: list[dict[str, PolicyResult]] = [{} for _ in models]
    seed_batch = seed_keys(seed, num_seeds, first_seed)
    runs_done, runs_total = 0, len(policies) * len(models) * num_seeds
    for batch, (members, stacked) in enumerate(stacked_batches):
        size = max(models[index].size for index in members)
        count = len(members)
        run_configuration = np.repeat(np.arange(count), num_seeds)  # configuration-major
        keys = seed_batch[jnp.tile(jnp.arange(num_seeds), count)]
        run_model = rows(stacked, run_configuration)
        # each configuration's n numbers, padded with zeros for its absent workers
        prior_rows = lambda values, name: np.stack([np.pad(np.asarray(_prior_array(
            values, models[index].size, name)), (0, size - models[index].size))
            for index in members])
        value = lambda given, true: np.asarray(
            [true(models[index]) if given is None else given for index in members], np.float32)
        per_configuration = Hyperparameters(
            alpha=value(alpha, lambda member: default_alpha(member, confidence)),
            eta=value(eta, lambda member: member.eta),
            discount=np.full(count, discount, np.float32),
            window=np.full(count, window, np.int32),
            spread=np.full(count, spread, np.float32),
            explore_samples=np.full(count, explore_samples, np.float32),
            expected_optimum=None if optima is None else np.stack(
                [np.pad(np.asarray(optima[index]), (0, size - models[index].size))
                 for index in members]),
            **({} if prior_mean is None else dict(
                prior_mean=prior_rows(prior_mean, "prior_mean"),
                prior_count=prior_rows(prior_count, "prior_count"))))
        run_hyperparameters = rows(per_configuration, run_configuration)
        for name, spec in zip(policies, specs):
            summary, compile_s, run_s = _run_in_chunks(
                keys, run_model, run_hyperparameters, per_run=True, memory_mb=memory_mb,
                progress=progress, runs_before=runs_done, runs_total=runs_total,
                store=checkpoint, group=f"{name}-batch{batch}",
                policy_name=name, budget=budget, num_rounds=num_rounds,
                counting=counting, record_rounds=record_rounds,
                window_capacity=window if spec.needs_window else 0, solver=solver,
                confidence=confidence, expected_regret=expected_regret)
            runs_done += count * num_seeds
            summary = jax.tree.map(
                lambda values: values.reshape((count, num_seeds) + values.shape[1:]), summary)
            for position, index in enumerate(members):
                mine = jax.tree.map(lambda values: values[position], summary)
                results[index][name] = PolicyResult(mine.totals, mine.per_round,
                                                    compile_s / count, run_s / count)
                if on_result is not None:
                    on_result(index, name, results[index][name])
    return ConfigurationResults(results, _settings(
        models, policies, alpha, eta, budget=budget, rounds=num_rounds, seeds=num_seeds,
        seed=seed, first_seed=first_seed, discount=discount, window=window,
        counting=counting, record_rounds=record_rounds, solver=solver,
        prior=prior_mean is not None, spread=spread, explore_samples=explore_samples,
        confidence=confidence, expected_regret=expected_regret))


def _fitting_run_bytes(policy_name: str, one_model: TimeModel, *, per_run: bool,
                       memory_mb: float | None, budget: int, num_rounds: int, counting: str,
                       window_capacity: int, record_rounds: bool) -> tuple[int, float]:
    """(bytes of one run, the memory budget in bytes); a ValueError (one line) when one run
    on every local device does not fit the budget (`memory.bytes_per_run`)."""
    from ata_jax.memory import bytes_per_run, check_run_fits, default_memory_mb

    run_bytes = bytes_per_run(policy_name, one_model, budget=budget, num_rounds=num_rounds,
                              counting=counting, window_capacity=window_capacity,
                              record_rounds=record_rounds, per_run_model=per_run)
    memory_bytes = (default_memory_mb() if memory_mb is None else memory_mb) * 2**20
    check_run_fits(policy_name, run_bytes, memory_bytes, jax.local_device_count(),
                   "record fewer rounds")
    return run_bytes, memory_bytes


def _check_runs_fit(one_models: Sequence[TimeModel], policies: Sequence[str], specs, *,
                    per_run: bool, window: int, **sizes) -> None:
    """`_fitting_run_bytes` for every policy on every batch's model before any search,
    compile or run, so that a later policy's misfit does not surface after the first ran."""
    for one_model in one_models:
        for name, spec in zip(policies, specs):
            _fitting_run_bytes(name, one_model, per_run=per_run,
                               window_capacity=window if spec.needs_window else 0, **sizes)


def _run_in_chunks(keys, model, hyperparameters, *, per_run: bool, memory_mb: float | None,
                   progress, runs_before: int = 0, runs_total: int | None = None,
                   store=None, group: str = "", **static):
    """Run the batch of keys [R] (with per_run, also the model's and hyperparameters' [R]
    leaves) in equal chunks that fit memory_mb, the last one padded with copies of the last
    run; returns (SeedSummary of float64 NumPy [R, ...], compile seconds, run seconds).
    After each chunk `progress` hears runs_before + the runs done of runs_total (a line
    naming its chunk, or the runs when there is one chunk). store: a
    `checkpoints.ChunkStore` that keeps each finished chunk of `group` (and fixes its chunk
    size), so that a resumed run loads them instead of computing them."""
    from ata_jax.memory import plan_chunk_runs

    runs, devices = keys.shape[0], jax.local_device_count()
    one_model = jax.tree.map(lambda leaf: leaf[0], model) if per_run else model
    run_bytes, memory_bytes = _fitting_run_bytes(
        static["policy_name"], one_model, per_run=per_run, memory_mb=memory_mb,
        budget=static["budget"], num_rounds=static["num_rounds"], counting=static["counting"],
        window_capacity=static["window_capacity"], record_rounds=static["record_rounds"])
    size = plan_chunk_runs(runs, run_bytes, memory_bytes, devices)
    if store is not None:
        size = store.chunk_runs(group, size)
    count = -(-runs // size)
    compiled, compile_s, run_s, pieces = None, 0.0, 0.0, []
    notify(progress, None, done=runs_before, total=runs_total)  # a bar shows while compiling
    for chunk in range(count):
        valid = min(size, runs - chunk * size)
        saved = None if store is None else store.load(group, chunk)
        if saved is not None:
            pieces.append(_summary_from_arrays(saved, valid))
            continue
        index = np.minimum(np.arange(chunk * size, (chunk + 1) * size), runs - 1)
        take = lambda tree: jax.tree.map(lambda leaf: leaf[index], tree) if per_run else tree
        arguments = (keys[index], take(model), take(hyperparameters))
        if compiled is None:
            compiled, compile_s = compiled_simulation(*arguments, per_run=per_run, **static)
        start = time.perf_counter()
        summary = jax.block_until_ready(compiled(*arguments))
        run_s += time.perf_counter() - start
        pieces.append(jax.tree.map(lambda values: np.asarray(values[:valid], np.float64),
                                   summary))
        if store is not None:
            store.save(group, chunk, _summary_arrays(pieces[-1]))
        # a log (not a terminal) gets every line: one per chunk, or one when a single chunk
        # ends, so that a long run's log is not silent until its table
        line = (f"{static['policy_name']}: chunk {chunk + 1}/{count} of {size} runs done"
                if count > 1 else f"{static['policy_name']}: {valid} runs done")
        notify(progress, line, done=runs_before + chunk * size + valid, total=runs_total)
    summary = jax.tree.map(lambda *values: np.concatenate(values), *pieces)
    return summary, compile_s, run_s


def default_alpha(model: TimeModel, confidence: str = "final") -> float:
    """ATA's α when none is given: the model's true α (`model.alpha`), or for the early
    confidence the uncentred max_i ‖X_i‖_ψ1 (spec §9, `timemodels.uncentred_alpha`)."""
    return uncentred_alpha(model) if confidence == "early" else model.alpha


MAX_EXPLORE_SAMPLES = 2**24
"""The most samples explore-then-commit may ask for: m is a float32, exact up to 2^24."""


def check_allocator_values(spread, explore_samples) -> None:
    """ValueError (one line) for a Thompson spread ν outside [0, `limits.MAX_SPREAD`], or an
    explore-then-commit m that is not an integer in [1, 2^24]."""
    from ata_jax.limits import MAX_SPREAD

    if isinstance(spread, bool) or not (np.isfinite(spread) and 0 <= spread <= MAX_SPREAD):
        raise ValueError(f"the Thompson spread must be a number in [0, {MAX_SPREAD:g}], got "
                         f"{spread!r}")
    if (isinstance(explore_samples, bool) or not float(explore_samples).is_integer()
            or not 1 <= explore_samples <= MAX_EXPLORE_SAMPLES):
        raise ValueError(f"explore samples must be an integer in [1, {MAX_EXPLORE_SAMPLES}], "
                         f"got {explore_samples!r}")


def check_policy_inputs(models: Sequence[TimeModel], policies: Sequence[str], *, budget: int,
                        num_rounds: int, spread: float, explore_samples, confidence: str,
                        expected_regret: bool = False) -> None:
    """ValueError (one line naming the problem) for settings the policies cannot run with:
    a confidence a policy lacks, a Thompson spread ν outside [0, `limits.MAX_SPREAD`], an
    explore-then-commit m that is not an integer in [1, 2^24], a schedule under ofta-expected,
    a search for a*_E too large to hold (`limits.check_expected_search`), a budget msync
    cannot serve. Before any work."""
    from ata_jax.allocators import check_confidence
    from ata_jax.allocators.msync import check_budget
    from ata_jax.expected import check_stationary
    from ata_jax.limits import check_expected_search

    check_confidence(policies, confidence)
    check_allocator_values(spread, explore_samples)
    for index, model in enumerate(models):
        where = "the model" if len(models) == 1 else f"configuration {index}"
        if expected_regret or needs_expected_optimum(policies):
            check_stationary(model, where)
            check_expected_search(model.size, budget)
        if "msync" in policies:
            check_budget(model, budget, num_rounds)


def _optimum_counts(given, model: TimeModel, budget: int) -> jax.Array:
    """int32[n] a*_E: `given` (an allocation or an `ExpectedOptimum`), checked, or searched."""
    from ata_jax.expected import ExpectedOptimum, expected_optimum

    if given is None:
        given = expected_optimum(model, budget)
    counts = np.asarray(given.allocation if isinstance(given, ExpectedOptimum) else given)
    if counts.shape != (model.size,) or (counts < 0).any() or counts.sum() != budget:
        raise ValueError(f"an expected-time optimum must be {model.size} counts >= 0 that sum "
                         f"to B = {budget}")
    return jnp.asarray(counts, jnp.int32)


def _summary_arrays(summary: SeedSummary) -> dict[str, np.ndarray]:
    """A chunk's SeedSummary as named arrays ("totals.<metric>", "per_round.<curve>")."""
    arrays = {f"totals.{name}": values for name, values in summary.totals._asdict().items()}
    if summary.per_round is not None:
        arrays.update({f"per_round.{name}": values
                       for name, values in summary.per_round._asdict().items()})
    return arrays


def _summary_from_arrays(arrays: dict[str, np.ndarray], runs: int) -> SeedSummary:
    """The SeedSummary of `_summary_arrays` (a ValueError when it is not one of `runs`)."""
    try:
        totals = Totals(**{name: arrays[f"totals.{name}"] for name in Totals._fields})
        per_round = None
        if any(name.startswith("per_round.") for name in arrays):
            per_round = PerRound(**{name: arrays[f"per_round.{name}"]
                                    for name in PerRound._fields})
    except KeyError as missing:
        raise ValueError(f"a checkpoint chunk lacks {missing}: start in a new directory") \
            from None
    if any(np.shape(values)[0] != runs for values in jax.tree.leaves((totals, per_round))):
        raise ValueError("a checkpoint chunk does not match the run's plan: start in a new "
                         "directory")
    return SeedSummary(totals, per_round)


def _prior_array(values, num_workers: int, name: str) -> jax.Array:
    """float32[n] from one number or n numbers, each finite and ≥ 0 (else ValueError)."""
    array = np.asarray(values, np.float64)
    if array.ndim == 0:
        array = np.full(num_workers, float(array))
    if array.shape != (num_workers,):
        raise ValueError(f"{name} must be one number or {num_workers} numbers (one per "
                         f"worker), got shape {array.shape}")
    if not (np.isfinite(array).all() and (array >= 0).all()):
        raise ValueError(f"{name} must hold finite numbers >= 0")
    return jnp.asarray(array, jnp.float32)


def device_kind() -> str:
    """The kind of the default JAX device (e.g. 'cpu', 'NVIDIA H100 80GB HBM3')."""
    return jax.devices()[0].device_kind


def device_count() -> int:
    """How many local devices the seeds are split over."""
    return jax.local_device_count()
