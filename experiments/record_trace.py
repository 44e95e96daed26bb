"""Record a real task-time trace: worker processes time NumPy gradient steps under changing load.

Each of `--workers` processes (single-threaded BLAS) holds the same small MLP classifier
(784 → 512 → 10, ReLU, softmax cross-entropy, synthetic MNIST-sized data) and, each round,
computes `--tasks-per-round` minibatch gradients, timing each one with
`time.perf_counter` (wall clock, so waiting for a CPU counts: that is what a task costs).
A barrier ends each round, as in synchronous SGD. Worker i's minibatch has 32·(i+1) samples,
so its work grows linearly with i (worker 7 does 8× worker 0's arithmetic).

Load changes during the recording. Workers 0..k/2−1 are pinned to CPU 0, the others to CPU 1
(where the machine has two CPUs or more). The rounds are split into three phases:
  1. rounds 1..R/3: no extra load;
  2. rounds R/3+1..2R/3: a busy-loop process pinned to CPU 1 (the upper half of the
     workers, the slow ones, share their CPU with it);
  3. rounds 2R/3+1..R: the busy loop moves to CPU 0 (the fast half is slowed instead).

Output: CSV with columns worker,time,round: worker ids 0..k−1, time in milliseconds
(3 decimals), round from 1; rows sorted by round, then worker, each worker's tasks in
the order it ran them.

The shipped trace `ata_jax/data/traces/mlp-2cpu.csv` was recorded with the defaults
(8 workers, 2 tasks per round, 600 rounds) on a shared 2-core x86_64 Linux container
(other users' jobs ran beside it, so their load is in the trace too):

    OPENBLAS_NUM_THREADS=1 python experiments/record_trace.py \
        --out ata_jax/data/traces/mlp-2cpu.csv
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing
import os
import time

import numpy as np

INPUT_SIZE, HIDDEN_SIZE, CLASSES = 784, 512, 10


def gradient_step(weights: tuple[np.ndarray, np.ndarray], inputs: np.ndarray,
                  labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cross-entropy gradients of the MLP for one minibatch: inputs [b, 784], labels [b]."""
    first, second = weights
    hidden = np.maximum(inputs @ first, 0.0)
    logits = hidden @ second
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    probabilities[np.arange(labels.size), labels] -= 1.0
    probabilities /= labels.size
    second_gradient = hidden.T @ probabilities
    hidden_gradient = (probabilities @ second.T) * (hidden > 0)
    return inputs.T @ hidden_gradient, second_gradient


def pin(cpu: int) -> None:
    """Run this process on one CPU, where the platform allows it and has that CPU."""
    if hasattr(os, "sched_setaffinity") and cpu in os.sched_getaffinity(0):
        os.sched_setaffinity(0, {cpu})


def worker_loop(worker: int, num_workers: int, num_rounds: int, tasks_per_round: int,
                barrier, results) -> None:
    pin(0 if worker < num_workers // 2 else 1)
    rng = np.random.default_rng(worker)
    weights = (rng.normal(0, 0.05, (INPUT_SIZE, HIDDEN_SIZE)).astype(np.float32),
               rng.normal(0, 0.05, (HIDDEN_SIZE, CLASSES)).astype(np.float32))
    batch = 32 * (worker + 1)
    rows = []
    for round_number in range(1, num_rounds + 1):
        barrier.wait()
        for _ in range(tasks_per_round):
            inputs = rng.normal(size=(batch, INPUT_SIZE)).astype(np.float32)
            labels = rng.integers(0, CLASSES, batch)
            start = time.perf_counter()
            first_gradient, second_gradient = gradient_step(weights, inputs, labels)
            elapsed = time.perf_counter() - start
            weights = (weights[0] - 0.01 * first_gradient, weights[1] - 0.01 * second_gradient)
            rows.append((worker, round(elapsed * 1e3, 3), round_number))
    results.put(rows)


def busy_loop(cpu: int) -> None:
    pin(cpu)
    while True:
        pass


def record(num_workers: int, num_rounds: int, tasks_per_round: int) -> list[tuple]:
    """Run the workers and the load phases; rows (worker, time ms, round) by worker."""
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(num_workers + 1)  # the main process releases each round
    results = context.Queue()
    workers = [context.Process(target=worker_loop, args=(worker, num_workers, num_rounds,
                                                         tasks_per_round, barrier, results))
               for worker in range(num_workers)]
    for process in workers:
        process.start()
    load = None
    for round_number in range(1, num_rounds + 1):
        phase = 3 * (round_number - 1) // num_rounds  # 0, 1, 2
        wanted_cpu = {0: None, 1: 1, 2: 0}[phase]
        if load is not None and load[0] != wanted_cpu:
            load[1].terminate()
            load[1].join()
            load = None
        if load is None and wanted_cpu is not None:
            process = context.Process(target=busy_loop, args=(wanted_cpu,), daemon=True)
            process.start()
            load = (wanted_cpu, process)
        barrier.wait()
    rows = [row for _ in workers for row in results.get()]
    for process in workers:
        process.join()
    if load is not None:
        load[1].terminate()
        load[1].join()
    return sorted(rows, key=lambda row: (row[2], row[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=600)
    parser.add_argument("--tasks-per-round", type=int, default=2)
    parser.add_argument("--out", default="ata_jax/data/traces/mlp-2cpu.csv")
    arguments = parser.parse_args()
    start = time.perf_counter()
    rows = record(arguments.workers, arguments.rounds, arguments.tasks_per_round)
    os.makedirs(os.path.dirname(os.path.abspath(arguments.out)), exist_ok=True)
    with open(arguments.out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["worker", "time", "round"])
        writer.writerows(rows)
    print(f"wrote {len(rows)} task times to {arguments.out} in "
          f"{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
