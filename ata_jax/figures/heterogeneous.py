"""Figure `heterogeneous`: Figure 1's four panels on the five-family worker mix (spec §7).

Worker i has the shift 29i and a random part of mean 29i from, in turn, an exponential, a
uniform, a half-normal, a truncated lognormal and a gamma distribution (the `heterogeneous`
preset), so the means are those of `cifar` while the tails differ; ATA's α and ATA-Empirical's
η are the mix's true values (the largest ψ1 norm and ψ1/μ over the workers).
"""

from __future__ import annotations

import pathlib

from ata_jax.figures.fig1 import grid


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    settings = dict(problem="quadratic", budget=23, rounds=10_000, seeds=5, seed=0,
                    learning_rate=1e-4, points=400)
    workers = (20, 50)
    if quick:
        settings.update(budget=4, rounds=60, seeds=2, points=30)
        workers = (6,)
    return grid("heterogeneous", workers, settings, out_dir, "heterogeneous")
