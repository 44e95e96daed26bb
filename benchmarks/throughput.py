"""Throughput of the JAX engine against the vectorised plain-NumPy reference, same machine, same run.

Prints seed-rounds per second for each (n, policy), the ratio JAX/NumPy, and the compile time.
The NumPy side is `ata_jax.numpy_reference` (all seeds as one array, a Python loop over rounds
only, argpartition), i.e. what a user would otherwise write. Both run the same K rounds from
round 1, so exploration and exploitation phases are weighed alike.

    python benchmarks/throughput.py                  # the issue's workload (about 3 minutes)
    python benchmarks/throughput.py --quick          # a smoke run
"""

from __future__ import annotations

import argparse
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

from ata_jax import numpy_reference
from ata_jax.allocators import Hyperparameters
from ata_jax.simulate import seed_keys, simulate_seeds
from ata_jax.timemodels import cifar


def jax_throughput(model, policy, budget, rounds, seeds):
    keys = seed_keys(0, seeds)
    hyper = Hyperparameters(jnp.float32(model.alpha), jnp.float32(model.eta))
    static = dict(policy_name=policy, budget=budget, num_rounds=rounds)
    start = time.perf_counter()
    compiled = simulate_seeds.lower(keys, model, hyper, **static).compile()
    compile_s = time.perf_counter() - start
    jax.block_until_ready(compiled(keys, model, hyper))  # warm
    start = time.perf_counter()
    jax.block_until_ready(compiled(seed_keys(1, seeds), model, hyper))
    run_s = time.perf_counter() - start
    return seeds * rounds / run_s, compile_s


def numpy_throughput(model, policy, budget, rounds, seeds):
    start = time.perf_counter()
    numpy_reference.simulate(np.asarray(model.family), np.asarray(model.params), policy, budget,
                             rounds, seeds, seed=0, alpha=model.alpha, eta=model.eta)
    return seeds * rounds / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--policies", default="ata-empirical,gta,ata,uta,ofta")
    parser.add_argument("--workers", default="51,459")
    arguments = parser.parse_args()
    budget = 23
    rounds = 100 if arguments.quick else 1000
    jax_seeds = 128 if arguments.quick else 1024
    print(f"machine: {platform.machine()}, {jax.devices()[0].device_kind} "
          f"x{len(jax.devices())}, jax {jax.__version__}, numpy {np.__version__}")
    print(f"workload: cifar model, B={budget}, K={rounds} rounds, JAX {jax_seeds} seeds")
    print(f"{'n':>4} {'policy':<14} {'jax seed-rounds/s':>18} {'numpy seed-rounds/s':>20} "
          f"{'ratio':>7} {'compile s':>10}")
    for n in (int(value) for value in arguments.workers.split(",")):
        model = cifar(n)
        numpy_seeds = min(jax_seeds, 1024 if n <= 100 else 128)
        for policy in arguments.policies.split(","):
            jax_rate, compile_s = jax_throughput(model, policy, budget, rounds, jax_seeds)
            numpy_rate = numpy_throughput(model, policy, budget, rounds, numpy_seeds)
            print(f"{n:>4} {policy:<14} {jax_rate:>18,.0f} {numpy_rate:>20,.0f} "
                  f"{jax_rate / numpy_rate:>6.1f}x {compile_s:>10.1f}", flush=True)


if __name__ == "__main__":
    main()
