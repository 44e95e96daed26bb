"""Figure `heterogeneous`: Figure 1's four panels on the five-family worker mix (spec §7).

Worker i has the shift 29i and a random part of mean 29i from, in turn, an exponential, a
uniform, a half-normal, a truncated lognormal and a gamma distribution (the `heterogeneous`
preset), so the means are those of `cifar` while the tails differ; ATA's α and ATA-Empirical's
η are the mix's true values (the largest ψ1 norm and ψ1/μ over the workers).
"""

from __future__ import annotations

import pathlib

from ata_jax.figures.fig1 import grid, grid_settings


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    workers = (6,) if quick else (20, 50)
    return grid("heterogeneous", workers, grid_settings(quick), out_dir, "heterogeneous")
