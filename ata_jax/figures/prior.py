"""Figure `prior`: ATA and ATA-Empirical warm-started with estimates from an earlier run
(right: the true means; wrong: the means in reverse order, so the fast workers look slow;
optimistic: every worker looks as fast as the fastest) against a cold start and the oracle.

Each prior estimate is worth `prior_count` samples. A right prior skips the exploration; a
wrong one costs at the start until the workers it misjudges are tried and corrected.
"""

from __future__ import annotations

import pathlib

import matplotlib.pyplot as plt
import numpy as np

from ata_jax.figures.output import save_figure
from ata_jax.figures.style import (LEGEND_FONT_SIZE, POLICY_COLOURS, category_colour, draw_band,
                                   log_spaced_rounds)
from ata_jax.simulate import simulate
from ata_jax.timemodels import cifar


def priors(mean: np.ndarray) -> dict[str, np.ndarray | None]:
    """The estimates each curve starts from (None: no prior, the paper's cold start)."""
    return {"cold start": None, "right prior": mean, "wrong prior (reversed)": mean[::-1],
            "optimistic prior (all = fastest)": np.full_like(mean, mean.min())}


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    settings = dict(time_model="cifar", workers=51, budget=23, rounds=5000, seeds=8, seed=0,
                    prior_counts=[20.0, 1000.0])
    if quick:
        settings.update(workers=6, budget=4, rounds=60, seeds=2)
    model = cifar(settings["workers"])
    mean = np.asarray(model.mean, np.float64)
    rounds = np.arange(1, settings["rounds"] + 1)
    common = dict(budget=settings["budget"], num_rounds=settings["rounds"],
                  num_seeds=settings["seeds"], seed=settings["seed"], record_rounds=True)
    oracle = simulate(model, ("ofta",), **common)["ofta"]
    oracle_average = np.cumsum(oracle.per_round.round_time, axis=1).mean(0) / rounds
    counts = settings["prior_counts"]
    cold = simulate(model, ("ata", "ata-empirical"), **common)  # the same for every weight
    figure, axes = plt.subplots(2, 2 * len(counts), figsize=(5 * len(counts) * 2, 7),
                                sharex=True, squeeze=False)
    shown = log_spaced_rounds(settings["rounds"])  # the JSON keeps curves at these rounds
    data = {"rounds": shown, "ofta_average_iteration_time": oracle_average[shown - 1]}
    for block, prior_count in enumerate(counts):
        for kind, (label, prior) in enumerate(priors(mean).items()):
            results = cold if prior is None else simulate(
                model, ("ata", "ata-empirical"), **common, prior_mean=prior,
                prior_count=prior_count)
            for offset, name in enumerate(("ata", "ata-empirical")):
                column = 2 * block + offset
                record = results[name].per_round
                average = np.cumsum(record.round_time, axis=1) / rounds
                regret = np.cumsum(record.regret, axis=1)
                for row, values in enumerate((average, regret)):
                    standard_error = values.std(0, ddof=1) / np.sqrt(values.shape[0])
                    draw_band(axes[row, column], rounds, values.mean(0), 2 * standard_error,
                              category_colour(kind), label)
                data[f"{name}/{label}/count {prior_count:g}"] = {
                    "average_iteration_time": average.mean(0)[shown - 1],
                    "cumulative_regret": regret.mean(0)[shown - 1],
                    "runtime": float(record.round_time.sum(1).mean())}
        for offset, name in enumerate(("ata", "ata-empirical")):
            column = 2 * block + offset
            axes[0, column].plot(rounds, oracle_average, "--", color=POLICY_COLOURS["ofta"],
                                 label="OFTA (knows μ)", linewidth=1)
            axes[0, column].set_title(f"{name}, each prior estimate worth {prior_count:g} "
                                      "samples", fontsize=9)
            axes[1, column].set_xlabel("round k")
            for row in range(2):
                axes[row, column].set_xscale("log")
                axes[row, column].set_yscale("log")
    axes[0, 0].set_ylabel("average iteration time C_k / k")
    axes[1, 0].set_ylabel("cumulative proxy regret R_k")
    axes[0, 0].legend(fontsize=LEGEND_FONT_SIZE)
    figure.suptitle(f"warm starts on cifar: n={settings['workers']}, B={settings['budget']}, "
                    f"K={settings['rounds']}, {settings['seeds']} seeds (bands: ±2 s.e.), "
                    "true α and η", fontsize=10)
    figure.tight_layout()
    for key, row in data.items():
        if isinstance(row, dict):
            print(f"{key:<58} runtime per round {row['runtime'] / settings['rounds']:9.1f}")
    return save_figure(figure, out_dir, "prior", settings, data)
