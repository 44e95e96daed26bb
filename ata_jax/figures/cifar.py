"""Figure `cifar`: the poster's CIFAR-100 setting (n = 51, B = 23, X_i = 29i + Exp(mean 29i)):
our runtime and total worker time as ratios to GTA's beside the ratios read off the authors'
poster (spec §7), for the same number of iterations for every allocator.

The poster's curves end after the same number of iterations; GTA's runtime there, 0.37e9,
is about 750 000 rounds of GTA's ≈ 494 per round, so the full run simulates K = 750 000
rounds. Ratios to GTA cancel the (unknown) iteration count for GTA, OFTA and UTA, whose
per-round costs are stationary; ATA's and ATA-Empirical's ratios fall with K as they finish
exploring, so K matters for them.
"""

from __future__ import annotations

import pathlib

import matplotlib.pyplot as plt
import numpy as np

from ata_jax.allocators import POLICY_NAMES
from ata_jax.figures.output import save_figure
from ata_jax.figures.style import LEGEND_FONT_SIZE, MARKER_LINE, POLICY_COLOURS, category_colour
from ata_jax.simulate import simulate
from ata_jax.timemodels import cifar

POSTER = {  # spec §7: curve end-points read off the poster (runtime, total worker time)
    "gta": (0.37e9, 1.88e10), "ofta": (0.56e9, 0.30e10), "ata-empirical": (1.16e9, 0.52e10),
    "ata": (1.58e9, 0.63e10), "uta": (3.58e9, 2.60e10)}
ORDER = ("gta", "ofta", "ata-empirical", "ata", "uta")


def ratio_table(results) -> dict:
    """Per allocator: our and the poster's runtime and worker time divided by GTA's."""
    ours_gta = results["gta"].runtime.mean(), results["gta"].worker_time.mean()
    table = {}
    for name in ORDER:
        runtime, worker_time = results[name].runtime.mean(), results[name].worker_time.mean()
        table[name] = {
            "runtime_ratio": runtime / ours_gta[0],
            "worker_time_ratio": worker_time / ours_gta[1],
            "poster_runtime_ratio": POSTER[name][0] / POSTER["gta"][0],
            "poster_worker_time_ratio": POSTER[name][1] / POSTER["gta"][1],
            "runtime": runtime, "worker_time": worker_time,
            "runtime_std": results[name].runtime.std(ddof=1),
            "worker_time_std": results[name].worker_time.std(ddof=1),
            "poster_runtime": POSTER[name][0], "poster_worker_time": POSTER[name][1]}
    return table


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    settings = dict(time_model="cifar", workers=51, budget=23, rounds=750_000, seeds=8, seed=0,
                    alpha="true value", eta="true value")
    if quick:
        settings.update(workers=6, budget=4, rounds=60, seeds=2)
    model = cifar(settings["workers"])
    settings.update(true_alpha=model.alpha, true_eta=model.eta)
    results = simulate(model, POLICY_NAMES, budget=settings["budget"],
                       num_rounds=settings["rounds"], num_seeds=settings["seeds"],
                       seed=settings["seed"])
    table = ratio_table(results)
    figure, axes = plt.subplots(1, 2, figsize=(10, 4))
    positions = np.arange(len(ORDER))
    for axis, key, title in ((axes[0], "runtime_ratio", "runtime / GTA's runtime"),
                             (axes[1], "worker_time_ratio", "worker time / GTA's worker time")):
        ours = [table[name][key] for name in ORDER]
        poster = [table[name][f"poster_{key}"] for name in ORDER]
        axis.bar(positions - 0.2, ours, 0.4, color=category_colour(0),
                 label=f"ata-jax (K={settings['rounds']:,})")
        axis.bar(positions + 0.2, poster, 0.4, color=category_colour(1), label="authors' poster")
        for x, (a, b) in enumerate(zip(ours, poster)):
            axis.text(x - 0.2, a, f"{a:.2f}", ha="center", va="bottom", fontsize=7)
            axis.text(x + 0.2, b, f"{b:.2f}", ha="center", va="bottom", fontsize=7)
        axis.set_xticks(positions, ORDER, fontsize=8)
        for label in axis.get_xticklabels():
            label.set_color(POLICY_COLOURS[label.get_text()])
        axis.set_yscale("log")
        axis.set_title(title, fontsize=10)
        axis.axhline(1.0, **MARKER_LINE)
        axis.legend(fontsize=LEGEND_FONT_SIZE)
    figure.suptitle(f"cifar model, n={settings['workers']}, B={settings['budget']}, "
                    f"{settings['seeds']} seeds, true alpha/eta", fontsize=10)
    figure.tight_layout()
    print(f"{'policy':<15}{'runtime/GTA':>12}{'poster':>8}{'worker/GTA':>12}{'poster':>8}")
    for name in ORDER:
        row = table[name]
        print(f"{name:<15}{row['runtime_ratio']:>12.2f}{row['poster_runtime_ratio']:>8.2f}"
              f"{row['worker_time_ratio']:>12.2f}{row['poster_worker_time_ratio']:>8.2f}")
    return save_figure(figure, out_dir, "cifar", settings, {"ratios": table})
