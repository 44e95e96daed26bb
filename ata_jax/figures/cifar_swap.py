"""Figure `cifar-swap`: round time around a change, plain vs windowed vs discounted
ATA-Empirical against the fixed and the moving oracle.

The `cifar-swap` model reverses its workers' means after round K/2. Plain ATA-Empirical's
sample counts keep growing, so its estimates of the (formerly fast, now slow) workers move
by 1/K_i per sample and its bounds barely widen: it keeps loading them. The windowed and
discounted variants forget, re-explore and settle near the moving oracle.

    ata-jax reproduce cifar-swap            # n=51, K=2000, 16 seeds (about a minute)
    ata-jax reproduce cifar-swap --quick    # a smoke run
"""

from __future__ import annotations

import pathlib

import matplotlib.pyplot as plt
import numpy as np

from ata_jax.figures.output import save_figure
from ata_jax.modelfile import resolve_time_model
from ata_jax.simulate import simulate

POLICIES = ("ata-empirical", "ata-empirical-window", "ata-empirical-discounted", "ofta",
            "ofta-moving")


def moving_average(values: np.ndarray, width: int) -> np.ndarray:
    """Means of each `width` consecutive values ([len - width + 1])."""
    kernel = np.ones(width) / width
    return np.convolve(values, kernel, mode="valid")


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
    figure, axis = plt.subplots(figsize=(8, 4.5))
    width = settings["smoothing"]
    for name in POLICIES:
        curve = moving_average(results[name].round_time_mean, width)
        axis.plot(np.arange(width, settings["rounds"] + 1), curve, label=name, linewidth=1.2)
    axis.axvline(settings["rounds"] // 2 + 0.5, color="grey", linestyle=":", label="means swap")
    axis.set_yscale("log")
    axis.set_xlabel("round k")
    axis.set_ylabel(f"round time (mean over seeds, {width}-round moving average)")
    axis.set_title(f"cifar-swap: n={settings['workers']}, B={settings['budget']}, "
                   f"{settings['seeds']} seeds, window {settings['window']}, "
                   f"discount {settings['discount']}", fontsize=10)
    axis.legend(fontsize=8)
    figure.tight_layout()
    half = settings["rounds"] - settings["rounds"] // 2
    summary = {name: {"second_half_round_time": float(r.runtime_second_half.mean() / half),
                      "round_time": float(r.runtime.mean() / settings["rounds"]),
                      "round_time_per_round": r.round_time_mean.tolist()}
               for name, r in results.items()}
    for name, row in summary.items():
        print(f"{name:<26} second half {row['second_half_round_time']:>9.1f} per round")
    return save_figure(figure, out_dir, "cifar_swap", settings, {"policies": summary})
