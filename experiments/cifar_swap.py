"""Figure: round time around a change, plain vs windowed vs discounted ATA-Empirical.

The `cifar-swap` model reverses its workers' means after round K/2. Plain ATA-Empirical's
sample counts keep growing, so its estimates of the (formerly fast, now slow) workers move
by 1/K_i per sample and its bounds barely widen: it keeps loading them. The windowed and
discounted variants forget, re-explore and settle near the moving oracle.

    python experiments/cifar_swap.py            # n=51, K=2000, 16 seeds (about a minute)
    python experiments/cifar_swap.py --quick    # a smoke run

Writes figures/cifar_swap.png and figures/cifar_swap.json (every parameter and the curves).
"""

from __future__ import annotations

import argparse
import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ata_jax.modelfile import resolve_time_model  # noqa: E402
from ata_jax.simulate import simulate  # noqa: E402

POLICIES = ("ata-empirical", "ata-empirical-window", "ata-empirical-discounted", "ofta",
            "ofta-moving")


def moving_average(values: np.ndarray, width: int) -> np.ndarray:
    kernel = np.ones(width) / width
    return np.convolve(values, kernel, mode="valid")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(pathlib.Path(__file__).resolve().parents[1]
                                             / "figures" / "cifar_swap.png"))
    arguments = parser.parse_args()
    settings = dict(workers=51, budget=23, rounds=2000, seeds=16, window=400, discount=0.998,
                    seed=0, smoothing=25)
    if arguments.quick:
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
    out = pathlib.Path(arguments.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=120)
    half = settings["rounds"] - settings["rounds"] // 2
    summary = {name: {"second_half_round_time": float(r.runtime_second_half.mean() / half),
                      "round_time": float(r.runtime.mean() / settings["rounds"]),
                      "round_time_per_round": r.round_time_mean.tolist()}
               for name, r in results.items()}
    out.with_suffix(".json").write_text(json.dumps({"settings": settings, "time_model":
                                                    "cifar-swap", "policies": summary}) + "\n")
    for name, row in summary.items():
        print(f"{name:<26} second half {row['second_half_round_time']:>9.1f} per round")
    print(f"wrote {out} and {out.with_suffix('.json')}")


if __name__ == "__main__":
    main()
