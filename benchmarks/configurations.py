"""Does batching worker configurations cost more than batching seeds?

Runs the same policy at the same n two ways with the same number of runs: one configuration
(`cifar`) x S seeds, and C random clusters (spec §9, σ = 1) x S/C seeds, each as one compiled
batch, and prints seed-rounds per second of each (best of a few runs, compile excluded) and
their ratio; issue 14 asks for at least 0.8.

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

from ata_jax.configurations import random_clusters  # noqa: E402
from ata_jax.simulate import simulate  # noqa: E402
from ata_jax.timemodels import cifar  # noqa: E402

SIZES = {  # (n, B, K, configurations, seeds per configuration, repeats)
    "full": (51, 23, 1000, 64, 16, 3),
    "smoke": (9, 4, 5, 4, 2, 1),
}
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
    n, budget, rounds, count, seeds, repeats = SIZES["smoke" if arguments.smoke else "full"]
    print(f"machine: {platform.machine()}, {jax.devices()[0].device_kind} x"
          f"{len(jax.devices())}, jax {jax.__version__}, Python {sys.version.split()[0]}")
    print(f"\n## Configurations against seeds: n={n}, B={budget}, K={rounds}, "
          f"{count * seeds} runs each, best of {repeats}")
    print(f"{'policy':<15}{'1 x ' + str(count * seeds) + ' seeds':>20}"
          f"{f'{count} clusters x {seeds}':>22}{'ratio':>8}")
    clusters = [model for _, model in random_clusters(n, [1.0], count)]
    for policy in POLICIES:
        settings = dict(budget=budget, num_rounds=rounds)
        seeds_rate, _ = best_rate(lambda: simulate(cifar(n), [policy], num_seeds=count * seeds,
                                                   **settings),
                                  count * seeds, rounds, repeats)
        cluster_rate, _ = best_rate(lambda: simulate(clusters, [policy], num_seeds=seeds,
                                                     **settings),
                                    count * seeds, rounds, repeats)
        print(f"{policy:<15}{seeds_rate:>20,.0f}{cluster_rate:>22,.0f}"
              f"{cluster_rate / seeds_rate:>8.2f}")


if __name__ == "__main__":
    main()
