"""Record a real per-round training loss: the digits MLP trained by ata-jax's own training code.

One seed of the `digits` problem (`ata_jax.training.digits`: a 64-32-10 MLP on scikit-learn's
handwritten digits, 4 examples per task, Adam with learning rate 1e-3) runs synchronous
minibatch SGD with B task gradients per round (`ata_jax.training.iterates`, the code
`ata-jax train --problem digits` runs) and measures the full training loss (cross-entropy over
the 1437 training images) after every round. The iterates do not depend on the allocator
(spec §6), so the curve is what any allocator's run would have produced; `ata-jax train
--loss-curve` joins it to each allocator's simulated time axes.

Output: CSV with a header line `round,loss`; round 0 is the start x_0, then rounds 1..K;
loss to 6 significant digits.

The shipped curve `ata_jax/data/loss_curves/digits-mlp.csv` was recorded with the defaults
(B = 23, K = 1500 rounds, seed 0):

    python experiments/record_loss_curve.py --out ata_jax/data/loss_curves/digits-mlp.csv
"""

from __future__ import annotations

import argparse
import csv

import numpy as np

from ata_jax.simulate import seed_keys
from ata_jax.training import checkpoint_schedule, make_problem
from ata_jax.training.iterates import compute_iterates, make_optimizer


def record(budget: int, rounds: int, seed: int, learning_rate: float) -> np.ndarray:
    """float64[K + 1]: the training loss at the start and after each of the K rounds."""
    problem = make_problem("digits", hidden=32, examples_per_task=4)
    schedule = checkpoint_schedule(rounds, rounds + 1)  # every round a checkpoint
    record = compute_iterates(problem, make_optimizer("adam", learning_rate),
                              seed_keys(seed, 1), budget=budget, schedule=schedule)
    return record.metric[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=23, help="task gradients per round")
    parser.add_argument("--rounds", type=int, default=1500, help="rounds K")
    parser.add_argument("--seed", type=int, default=0, help="master seed")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="Adam's")
    parser.add_argument("--out", required=True, help="the CSV to write")
    arguments = parser.parse_args()
    loss = record(arguments.budget, arguments.rounds, arguments.seed, arguments.learning_rate)
    if not np.isfinite(loss).all():
        raise SystemExit("the loss is not finite: nothing written")
    with open(arguments.out, "w", newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(["round", "loss"])
        for round_number, value in enumerate(loss):
            writer.writerow([round_number, f"{value:.6g}"])
    print(f"wrote {arguments.out}: rounds 0..{arguments.rounds}, loss {loss[0]:.4f} -> "
          f"{loss[-1]:.4f}")


if __name__ == "__main__":
    main()
