"""Figure `cifar-swap`: round time and worker time around a change, plain vs windowed vs discounted
ATA-Empirical against the fixed and the moving oracle.

The `cifar-swap` model reverses its workers' means after round K/2. Plain ATA-Empirical's
sample counts keep growing, so its estimates of the (formerly fast, now slow) workers move
by 1/K_i per sample and its bounds barely widen: it keeps loading them. The windowed and
discounted variants forget, re-explore and settle near the moving oracle.

    ata-jax reproduce cifar-swap            # n=51, K=2000, 16 seeds
    ata-jax reproduce cifar-swap --quick    # a smoke run
"""

from __future__ import annotations

import pathlib

import matplotlib.pyplot as plt
import numpy as np

from ata_jax.figures.output import save_figure
from ata_jax.figures.style import (LEGEND_FONT_SIZE, LINE_WIDTH, MARKER_LINE, POLICY_COLOURS,
                                   moving_average)
from ata_jax.modelfile import resolve_time_model
from ata_jax.simulate import simulate

POLICIES = ("ata-empirical", "ata-empirical-window", "ata-empirical-discounted", "ofta",
            "ofta-moving")


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    settings = dict(time_model="cifar-swap", workers=51, budget=23, rounds=2000, seeds=16,
                    window=400, discount=0.998, seed=0, smoothing=25)
    if quick:
        settings.update(workers=9, budget=4, rounds=60, seeds=2, window=10, smoothing=5)
    model = resolve_time_model("cifar-swap", settings["workers"], settings["rounds"])
    results = simulate(model, POLICIES, budget=settings["budget"],
                       num_rounds=settings["rounds"], num_seeds=settings["seeds"],
                       seed=settings["seed"], window=settings["window"],
                       discount=settings["discount"], record_rounds=True)
    figure, axes = plt.subplots(1, 2, figsize=(13, 4.5))
    width = settings["smoothing"]
    for axis, field, label in ((axes[0], "round_time", "round time"),
                               (axes[1], "worker_time", "total worker time")):
        for name in POLICIES:
            per_round = getattr(results[name].per_round, field).mean(axis=0)
            axis.plot(np.arange(width, settings["rounds"] + 1),
                      moving_average(per_round, width), label=name,
                      color=POLICY_COLOURS[name], linewidth=LINE_WIDTH)
        axis.axvline(settings["rounds"] // 2 + 0.5, label="means swap", **MARKER_LINE)
        axis.set_yscale("log")
        axis.set_xlabel("round k")
        axis.set_ylabel(f"{label} per round (mean over seeds, {width}-round moving average)",
                        fontsize=8)
    axes[0].legend(fontsize=LEGEND_FONT_SIZE)
    figure.suptitle(f"cifar-swap: n={settings['workers']}, B={settings['budget']}, "
                    f"{settings['seeds']} seeds, window {settings['window']}, "
                    f"discount {settings['discount']}", fontsize=10)
    figure.tight_layout()
    half = settings["rounds"] - settings["rounds"] // 2
    summary = {name: {"second_half_round_time": float(r.runtime_second_half.mean() / half),
                      "round_time": float(r.runtime.mean() / settings["rounds"]),
                      "worker_time": float(r.worker_time.mean() / settings["rounds"]),
                      "second_half_worker_time": float(
                          r.per_round.worker_time[:, settings["rounds"] // 2:].sum(1).mean()
                          / half),
                      "round_time_per_round": r.round_time_mean.tolist(),
                      "worker_time_per_round": r.per_round.worker_time.mean(0).tolist()}
               for name, r in results.items()}
    for name, row in summary.items():
        print(f"{name:<26} second half {row['second_half_round_time']:>9.1f} per round")
    return save_figure(figure, out_dir, "cifar_swap", settings, {"policies": summary})
