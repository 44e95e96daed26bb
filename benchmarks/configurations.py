"""Does batching worker configurations cost more than batching seeds?

Runs the same policy at the same n with the same number of runs, each as one compiled batch,
and prints seed-rounds per second (best of a few runs, compile excluded); issue 14 asks that
C configurations x S/C seeds run at least 0.8x as fast as one configuration x S seeds. Two
like-for-like pairs: C copies of `cifar` x S/C against `cifar` x S (the same work: what the
configuration axis itself costs), and C random clusters (spec §9, σ = 1) x S/C against a
few of those clusters run alone x S (the harmonic mean of their rates: the same population
of clusters, whose task times make a round cost a little differently from `cifar`'s). Then a
mixed-n batch (`cifar` at n = 17, 51, 153, padded to 153) against the three runs done
separately, compile time included (each side starts from an empty compile cache), with S/C
seeds per configuration.

    python benchmarks/configurations.py            # C = 64 x 16 against 1 x 1024, K = 1000
    python benchmarks/configurations.py --smoke    # tiny sizes, every code path
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import jax  # noqa: E402

from ata_jax import compilation  # noqa: E402
from ata_jax.configurations import random_clusters  # noqa: E402
from ata_jax.simulate import simulate  # noqa: E402
from ata_jax.timemodels import cifar  # noqa: E402

SIZES = {  # (n, B, K, configurations, seeds per configuration, repeats, clusters run alone)
    "full": (51, 23, 1000, 64, 16, 3, 8),
    "smoke": (9, 4, 5, 4, 2, 1, 2),
}
MIXED_SIZES = {"full": (17, 51, 153), "smoke": (3, 9, 131)}  # 131: across the solver switch
POLICIES = ("ata-empirical", "gta")


def best_rate(run, runs: int, rounds: int, repeats: int) -> tuple[float, float]:
    """(seed-rounds per second of the best of `repeats` timed runs, the first call's seconds,
    which include compiling)."""
    began = time.perf_counter()
    run()
    first = time.perf_counter() - began
    best = float("inf")
    for _ in range(repeats):
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    return runs * rounds / best, first


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (for the tests)")
    arguments = parser.parse_args()
    n, budget, rounds, count, seeds, repeats, alone = SIZES[
        "smoke" if arguments.smoke else "full"]
    print(f"machine: {platform.machine()}, {jax.devices()[0].device_kind} x"
          f"{len(jax.devices())}, jax {jax.__version__}, Python {sys.version.split()[0]}")
    runs = count * seeds
    print(f"\n## Configurations against seeds: n={n}, B={budget}, K={rounds}, {runs} runs "
          f"each, best of {repeats}; clusters alone: the harmonic mean of {alone} of them")
    print(f"{'policy':<15}{f'cifar x {runs}':>14}{f'{count} cifar x {seeds}':>16}{'ratio':>7}"
          f"{f'cluster x {runs}':>16}{f'{count} clusters x {seeds}':>19}{'ratio':>7}")
    clusters = [model for _, model in random_clusters(n, [1.0], count)]
    for policy in POLICIES:
        settings = dict(budget=budget, num_rounds=rounds)
        rate = lambda models, num_seeds: best_rate(
            lambda: simulate(models, [policy], num_seeds=num_seeds, **settings), runs, rounds,
            repeats)[0]
        seeds_rate, copies_rate = rate(cifar(n), runs), rate([cifar(n)] * count, seeds)
        alone_rates = [rate(clusters[index], runs)
                       for index in range(0, count, max(1, count // alone))[:alone]]
        alone_rate = len(alone_rates) / sum(1 / value for value in alone_rates)
        cluster_rate = rate(clusters, seeds)
        print(f"{policy:<15}{seeds_rate:>14,.0f}{copies_rate:>16,.0f}"
              f"{copies_rate / seeds_rate:>7.2f}{alone_rate:>16,.0f}{cluster_rate:>19,.0f}"
              f"{cluster_rate / alone_rate:>7.2f}")

    sizes = MIXED_SIZES["smoke" if arguments.smoke else "full"]
    print(f"\n## Mixed n in one batch: n = {sizes}, B={budget}, K={rounds}, {seeds} seeds each, "
          f"compile included, best of {repeats}")
    print(f"{'policy':<15}{'separately (s)':>16}{'one batch (s)':>15}{'ratio':>8}"
          f"{'compile sep./batch (s)':>25}")
    models = [cifar(size) for size in sizes]
    settings = dict(budget=budget, num_rounds=rounds, num_seeds=seeds)
    for policy in POLICIES:
        def separately():
            results = [simulate(model, [policy], **settings)[policy] for model in models]
            return sum(result.compile_s for result in results)

        def together():
            results = simulate(models, [policy], **settings)
            return sum(result[policy].compile_s for result in results)

        timings = {}
        for name, run in (("separately", separately), ("together", together)):
            best = (float("inf"), 0.0)
            for _ in range(repeats):
                compilation.clear()
                began = time.perf_counter()
                compile_s = run()
                best = min(best, (time.perf_counter() - began, compile_s))
            timings[name] = best
        (alone_s, alone_compile), (batch_s, batch_compile) = (timings["separately"],
                                                              timings["together"])
        print(f"{policy:<15}{alone_s:>16.2f}{batch_s:>15.2f}{alone_s / batch_s:>8.2f}"
              f"{f'{alone_compile:.2f} / {batch_compile:.2f}':>25}")


if __name__ == "__main__":
    main()
