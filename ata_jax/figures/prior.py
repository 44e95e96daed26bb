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
from ata_jax.simulate import simulate
from ata_jax.timemodels import cifar


def priors(mean: np.ndarray) -> dict[str, np.ndarray | None]:
    """The estimates each curve starts from (None: no prior, the paper's cold start)."""
    return {"cold start": None, "right prior": mean, "wrong prior (reversed)": mean[::-1],
            "optimistic prior (all = fastest)": np.full_like(mean, mean.min())}


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    settings = dict(time_model="cifar", workers=51, budget=23, rounds=5000, seeds=8, seed=0,
                    prior_count=20.0)
    if quick:
        settings.update(workers=9, budget=4, rounds=100, seeds=2)
    model = cifar(settings["workers"])
    mean = np.asarray(model.mean, np.float64)
    rounds = np.arange(1, settings["rounds"] + 1)
    common = dict(budget=settings["budget"], num_rounds=settings["rounds"],
                  num_seeds=settings["seeds"], seed=settings["seed"], record_rounds=True)
    oracle = simulate(model, ("ofta",), **common)["ofta"]
    curves = {}
    for label, prior in priors(mean).items():
        extra = {} if prior is None else dict(prior_mean=prior,
                                              prior_count=settings["prior_count"])
        for name, result in simulate(model, ("ata", "ata-empirical"), **common, **extra).items():
            curves[(name, label)] = result
    figure, axes = plt.subplots(2, 2, figsize=(11, 7), sharex=True)
    oracle_average = np.cumsum(oracle.per_round.round_time, axis=1).mean(0) / rounds
    data = {"ofta_average_iteration_time": oracle_average}
    for column, name in enumerate(("ata", "ata-empirical")):
        for label in priors(mean):
            record = curves[(name, label)].per_round
            average = np.cumsum(record.round_time, axis=1) / rounds
            regret = np.cumsum(record.regret, axis=1)
            for row, values in enumerate((average, regret)):
                centre = values.mean(0)
                band = values.std(0, ddof=1) / np.sqrt(values.shape[0])
                line, = axes[row, column].plot(rounds, centre, label=label, linewidth=1.2)
                axes[row, column].fill_between(rounds, centre - 2 * band, centre + 2 * band,
                                               color=line.get_color(), alpha=0.2)
            data[f"{name}/{label}"] = {"average_iteration_time": average.mean(0),
                                       "cumulative_regret": regret.mean(0),
                                       "runtime": float(record.round_time.sum(1).mean())}
        axes[0, column].plot(rounds, oracle_average, "k--", label="OFTA (knows μ)",
                             linewidth=1)
        axes[0, column].set_title(f"{name}", fontsize=10)
        axes[0, column].set_ylabel("average iteration time C_k / k")
        axes[1, column].set_ylabel("cumulative proxy regret R_k")
        axes[1, column].set_xlabel("round k")
        for row in range(2):
            axes[row, column].set_xscale("log")
            axes[row, column].set_yscale("log")
        axes[0, column].legend(fontsize=7)
    figure.suptitle(f"warm starts on cifar: n={settings['workers']}, B={settings['budget']}, "
                    f"K={settings['rounds']}, {settings['seeds']} seeds (bands: ±2 s.e.), "
                    f"each prior estimate worth {settings['prior_count']:g} samples",
                    fontsize=10)
    figure.tight_layout()
    for key, row in data.items():
        if isinstance(row, dict):
            print(f"{key:<45} runtime per round {row['runtime'] / settings['rounds']:9.1f}")
    return save_figure(figure, out_dir, "prior", settings, data)
