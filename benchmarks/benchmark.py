"""The benchmark: throughput against plain NumPy, compile time, memory, scaling, and a profile.

    python benchmarks/benchmark.py            # everything
    python benchmarks/benchmark.py --quick    # smaller sizes
    python benchmarks/benchmark.py --sections throughput,breakdown

Sections: throughput, memory, scaling, profile (parts timed on their own), breakdown (what
each part of an ATA-Empirical round costs inside the compiled simulation).

Throughput is seed-rounds per second on the `cifar` model (B = 23), JAX against
`ata_jax.numpy_reference`: all seeds as one array, a Python loop over rounds only,
`argpartition` instead of sorts, i.e. what a user would otherwise write. Both run the same K
rounds from round 1 in the same process, so they share the machine's state; ratios are what to
quote. Memory is XLA's own buffer assignment for the compiled program (arguments, outputs,
temporaries), which is what the device must hold.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from ata_jax.devices import use_all_cpu_cores

use_all_cpu_cores()  # before JAX starts: one host device per core, seeds split over them

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import PartitionSpec  # noqa: E402

from ata_jax import numpy_reference  # noqa: E402
from ata_jax.allocation import assign, assignment_counts  # noqa: E402
from ata_jax.allocators import Allocator, Hyperparameters, as_policy, ata_empirical  # noqa: E402
from ata_jax.allocators.confidence import (SampleStatistics, effective_rounds,  # noqa: E402
                                           lower_confidence_allocator, observe_busy_times)
from ata_jax.rounds import greedy_round_time, play_assignment  # noqa: E402
from ata_jax.simulate import (compiled_simulation, run_seed, seed_keys,  # noqa: E402
                              split_over_devices)
from ata_jax.timemodels import cifar  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # the rival beside this script

BUDGET = 23
POLICIES = ("ata-empirical", "gta", "ata", "uta", "ofta")


def hyperparameters(model):
    return Hyperparameters(jnp.float32(model.alpha), jnp.float32(model.eta))


def compile_simulation(model, policy, rounds, seeds):
    """(compiled program, compile seconds), through the library's own compile cache."""
    return compiled_simulation(seed_keys(0, seeds), model, hyperparameters(model),
                               policy_name=policy, budget=BUDGET, num_rounds=rounds,
                               counting="task", record_rounds=False, window_capacity=0)


REPEATS = 3
"""Timed runs per measurement; the best is reported, for JAX and NumPy alike (the machines
are shared: the best run is the one least disturbed)."""


def jax_rate(model, policy, rounds, seeds, repeats=REPEATS):
    """(seed-rounds per second, compile seconds); the best of `repeats` calls, each with new
    seeds, after a first call that is not timed."""
    compiled, compile_s = compile_simulation(model, policy, rounds, seeds)
    jax.block_until_ready(compiled(seed_keys(0, seeds), model, hyperparameters(model)))
    best = float("inf")
    for repeat in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(seed_keys(1 + repeat, seeds), model,
                                       hyperparameters(model)))
        best = min(best, time.perf_counter() - start)
    return seeds * rounds / best, compile_s


def numpy_rate(model, policy, rounds, seeds, repeats=REPEATS):
    """Seed-rounds per second of the NumPy reference: the best of `repeats` runs."""
    best = float("inf")
    for repeat in range(repeats):
        start = time.perf_counter()
        numpy_reference.simulate(np.asarray(model.family), np.asarray(model.params), policy,
                                 BUDGET, rounds, seeds, seed=repeat, alpha=model.alpha,
                                 eta=model.eta)
        best = min(best, time.perf_counter() - start)
    return seeds * rounds / best


SIZES = {  # (worker counts, rounds, JAX seeds) of the throughput section
    "full": ((51, 459), 1000, 1024),
    "quick": ((51, 459), 100, 128),
    "smoke": ((9,), 5, 8),  # exercises every code path in seconds (the test suite runs it)
}


def numba_rate(model, policy, rounds, seeds, repeats=REPEATS):
    """Seed-rounds per second of the numba rival (benchmarks/rival_numba.py, every core):
    the best of `repeats` runs after one that compiles; None without numba or for a policy
    it does not implement."""
    try:
        import rival_numba
    except ImportError:
        return None
    if policy not in ("ata-empirical", "gta"):
        return None
    params = np.asarray(model.params)
    run = lambda seed: rival_numba.simulate(policy, params[:, 0], params[:, 1], budget=BUDGET,
                                            rounds=rounds, seeds=seeds, eta=model.eta,
                                            seed=seed)
    run(0)
    best = float("inf")
    for repeat in range(repeats):
        start = time.perf_counter()
        run(1 + repeat)
        best = min(best, time.perf_counter() - start)
    return seeds * rounds / best


def section_throughput(size):
    worker_counts, rounds, jax_seeds = SIZES[size]
    repeats = 1 if size == "smoke" else REPEATS
    print(f"\n## Throughput (seed-rounds/s, best of {repeats} runs each), cifar model, "
          f"B={BUDGET}, K={rounds} rounds; numba: the compiled per-seed rival, "
          f"{jax_seeds} seeds ('-': not installed, or a policy it lacks)")
    print(f"{'n':>4} {'policy':<14} {'JAX':>12} {'NumPy':>12} {'ratio':>7} {'numba':>12} "
          f"{'ratio':>7} {'compile s':>10}   (JAX seeds, NumPy seeds)")
    for n in worker_counts:
        model = cifar(n)
        numpy_seeds = min(jax_seeds, 1024 if n < 100 else 128)
        for policy in POLICIES if size != "smoke" else POLICIES[:2]:
            rate, compile_s = jax_rate(model, policy, rounds, jax_seeds, repeats)
            reference = numpy_rate(model, policy, rounds, numpy_seeds, repeats)
            rival = numba_rate(model, policy, rounds, jax_seeds, repeats)
            rival_text = ("-", "-") if rival is None else (f"{rival:,.0f}",
                                                            f"{rate / rival:.2f}x")
            print(f"{n:>4} {policy:<14} {rate:>12,.0f} {reference:>12,.0f} "
                  f"{rate / reference:>6.1f}x {rival_text[0]:>12} {rival_text[1]:>7} {compile_s:>10.1f}   ({jax_seeds}, "
                  f"{numpy_seeds})", flush=True)


def section_memory(size):
    seeds, n, horizons = {"full": (4096, 459, (1_000, 10_000, 100_000)),
                          "quick": (512, 459, (1_000, 10_000, 100_000)),
                          "smoke": (8, 9, (10, 100))}[size]
    print(f"\n## Memory of the compiled program, S={seeds}, n={n} (XLA buffer assignment)")
    print(f"{'policy':<14} {'K':>8} {'arguments MB':>13} {'outputs MB':>11} {'temporaries MB':>15}")
    model = cifar(n)
    for policy in ("ata-empirical", "gta") if size != "smoke" else ("gta",):
        for rounds in horizons:
            compiled, _ = compile_simulation(model, policy, rounds, seeds)
            stats = compiled.memory_analysis()
            print(f"{policy:<14} {rounds:>8,} {stats.argument_size_in_bytes / 1e6:>13.2f}"
                  f" {stats.output_size_in_bytes / 1e6:>11.2f}"
                  f" {stats.temp_size_in_bytes / 1e6:>15.2f}", flush=True)


def section_scaling(size):
    print("\n## Scaling: microseconds per seed-round (ATA-Empirical, cifar model)")
    base = {"full": dict(n=51, seeds=512, rounds=400), "quick": dict(n=51, seeds=256, rounds=200),
            "smoke": dict(n=5, seeds=4, rounds=5)}[size]
    variations = [("K", "rounds", (base["rounds"], base["rounds"] * 10)),
                  ("S", "seeds", (base["seeds"], base["seeds"] * 10)),
                  ("n", "n", (base["n"], base["n"] * 10 - 1))]
    if size == "smoke":
        variations = [(label, field, values[1:]) for label, field, values in variations]
    print(f"{'varied':<7} {'n':>5} {'S':>6} {'K':>6} {'us/seed-round':>14}")
    for label, field, values in variations:
        for value in values:
            setting = dict(base, **{field: value})
            rate, _ = jax_rate(cifar(setting["n"]), "ata-empirical", setting["rounds"],
                               setting["seeds"])
            print(f"{label:<7} {setting['n']:>5} {setting['seeds']:>6} {setting['rounds']:>6}"
                  f" {1e6 / rate:>14.3f}", flush=True)


def time_per_seed(function, *arguments, seeds, repeats=10):
    compiled = jax.jit(function)
    jax.block_until_ready(compiled(*arguments))
    start = time.perf_counter()
    for _ in range(repeats):
        result = compiled(*arguments)
    jax.block_until_ready(result)
    return (time.perf_counter() - start) / repeats / seeds * 1e6


def section_profile(size):
    seeds = {"full": 1024, "quick": 256, "smoke": 8}[size]
    print(f"\n## Where a round's time goes: microseconds per seed, {seeds} seeds batched "
          "on one device")
    print(f"{'n':>4} {'part':<46} {'us/seed':>8}")
    keys = seed_keys(0, seeds)
    for n in SIZES[size][0]:
        model = cifar(n)
        mean = jax.random.uniform(jax.random.key(1), (seeds, n)) * model.mean[-1]
        count = 1.0 + jnp.floor(jax.random.uniform(jax.random.key(2), (seeds, n)) * 200.0)
        statistics = SampleStatistics(mean, count)
        positive = jax.vmap(lambda s: ata_empirical.lcb(s, 50, 0.1))(statistics)
        zeros = jnp.where(count < 100, 0.0, positive)
        tasks = jax.vmap(lambda s, k: assign(s, BUDGET, k))(positive, keys)
        played = jax.vmap(lambda k, a: play_assignment(model, k, a, BUDGET))(keys, tasks)
        parts = [
            ("ATA-Empirical lower confidence bounds",
             lambda s: jax.vmap(lambda x: ata_empirical.lcb(x, 50, 0.77))(s), (statistics,)),
            ("assign, all scores positive (water-filling)",
             lambda s, k: jax.vmap(lambda x, y: assign(x, BUDGET, y))(s, k), (positive, keys)),
            ("assign, some scores zero (zero rule)",
             lambda s, k: jax.vmap(lambda x, y: assign(x, BUDGET, y))(s, k), (zeros, keys)),
            ("play the B tasks (draws, busy times)",
             lambda k, a: jax.vmap(lambda x, y: play_assignment(model, x, y, BUDGET))(k, a),
             (keys, tasks)),
            ("observe (counts, running means)",
             lambda s, a, b: jax.vmap(lambda x, y, z: observe_busy_times(
                 x, assignment_counts(y, n), z, "task"))(s, a, b),
             (statistics, tasks, played.busy_time)),
            ("GTA round (n first draws, top_k, B events)",
             lambda k: jax.vmap(lambda x: greedy_round_time(model, x, BUDGET))(k), (keys,)),
        ]
        for label, function, arguments in parts:
            print(f"{n:>4} {label:<46} {time_per_seed(function, *arguments, seeds=seeds):>8.3f}",
                  flush=True)


def breakdown_policies(model):
    """ATA-Empirical and the same round with parts taken away, each a `Policy`: the full
    round; its allocation replaced by OFTA's fixed one (the scores still computed, and kept
    alive by a sum over them); also no scores (a sum over the means keeps the statistics
    alive); OFTA's allocation with nothing learned (the difference is the observation of the
    busy times and the sum over n)."""
    learner = lower_confidence_allocator(BUDGET, "task", ata_empirical.lcb, "eta")
    fixed = assign(jnp.asarray(model.mean, jnp.float32), BUDGET)

    def fixed_after(values):
        alive = (jnp.sum(values) == -1.0).astype(jnp.int32)  # never true; not foldable
        return fixed._replace(worker=fixed.worker + alive)

    fixed_after_scores = lambda state, round_number, key: fixed_after(ata_empirical.lcb(
        state.statistics, effective_rounds(round_number, None), state.parameter))
    # the statistics kept alive the same way (else XLA drops them and their updates)
    fixed_no_scores = lambda state, round_number, key: fixed_after(state.statistics.mean)
    # the task list read from the round number, so that XLA cannot fold it into the draws
    oracle = Allocator(init=lambda model, hyperparameters: (),
                       choose=lambda state, round_number, key: fixed_after(round_number),
                       observe=lambda state, assignment, busy_time, round_number: state)
    return [("ATA-Empirical, the whole round", "", as_policy(learner, BUDGET)),
            ("  its allocation fixed (scores still computed)", "allocation",
             as_policy(learner._replace(choose=fixed_after_scores), BUDGET)),
            ("  its allocation fixed, no scores", "scores",
             as_policy(learner._replace(choose=fixed_no_scores), BUDGET)),
            ("  a fixed allocation played, nothing learned", "observation",
             as_policy(oracle, BUDGET))]


def section_breakdown(size):
    """Each part's cost inside the compiled simulation, as differences of whole runs (a part
    timed on its own runs faster than inside the scan); the variants' runs are interleaved and
    each reports its best, so they share the machine's state."""
    worker_counts, rounds, seeds = SIZES[size]
    repeats = 1 if size == "smoke" else 2 * REPEATS
    print(f"\n## Inside a simulated round: us per seed-round per device, cifar, B={BUDGET}, "
          f"K={rounds}, {seeds} seeds over {jax.local_device_count()} device(s), best of "
          f"{repeats} interleaved runs")
    print(f"{'n':>4} {'round':<48} {'us':>7}   the part left out costs")
    for n in worker_counts:
        model = cifar(n)
        variants = []
        for label, removed, policy in breakdown_policies(model):
            run = jax.jit(split_over_devices(
                lambda keys, model, hyperparameters, policy=policy: jax.vmap(
                    lambda key: run_seed(policy, model, hyperparameters, key, budget=BUDGET,
                                         num_rounds=rounds))(keys),
                seeds, (PartitionSpec("seeds"), PartitionSpec(), PartitionSpec())))
            jax.block_until_ready(run(seed_keys(0, seeds), model, hyperparameters(model)))
            variants.append([label, removed, run, float("inf")])
        for repeat in range(repeats):
            for variant in variants:
                start = time.perf_counter()
                jax.block_until_ready(variant[2](seed_keys(1 + repeat, seeds), model,
                                                 hyperparameters(model)))
                variant[3] = min(variant[3], time.perf_counter() - start)
        previous = None
        for label, removed, _, best in variants:
            cost = best / (seeds * rounds) * 1e6 * jax.local_device_count()
            difference = "" if previous is None else f"{removed} {previous - cost:.3f}"
            print(f"{n:>4} {label:<48} {cost:>7.3f}   {difference}", flush=True)
            previous = cost


SECTIONS = {"throughput": section_throughput, "memory": section_memory,
            "scaling": section_scaling, "profile": section_profile,
            "breakdown": section_breakdown}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about 3 minutes)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks every path")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma list of {', '.join(SECTIONS)}")
    arguments = parser.parse_args()
    print(f"machine: {platform.machine()} {platform.processor() or ''}, "
          f"{jax.devices()[0].device_kind} x{len(jax.devices())}, jax {jax.__version__}, "
          f"numpy {np.__version__}")
    size = "smoke" if arguments.smoke else "quick" if arguments.quick else "full"
    for name in arguments.sections.split(","):
        SECTIONS[name](size)


if __name__ == "__main__":
    main()
