"""Figure `sensitivity`: runtime, worker time and regret against α/α_true (ATA) and η/η_true
(ATA-Empirical) over [1/16, 16], for the `cifar` and `heterogeneous` models, with 95%
confidence bands over seeds and OFTA as the reference.

Users do not know α or η; the paper assumes upper bounds. This shows what a misestimate costs.
Each model is one `run_sweep`: one compile per policy covers all nine multipliers.

    ata-jax reproduce sensitivity           # n=51, B=23, K=5000, 64 seeds
    ata-jax reproduce sensitivity --quick   # a smoke run
"""

from __future__ import annotations

import pathlib

import matplotlib.pyplot as plt
import numpy as np

from ata_jax.figures.output import save_figure
from ata_jax.figures.style import LEGEND_FONT_SIZE, MARKER_LINE, POLICY_COLOURS, draw_band
from ata_jax.modelfile import resolve_time_model
from ata_jax.sweep import SweepConfig, model_fingerprint, parse_grid_values, run_sweep

MODELS = ("cifar", "heterogeneous")
METRICS = (("runtime", "round time (per round)"), ("worker_time", "worker time (per round)"),
           ("regret", "cumulative proxy regret R_K"))


def _stats(values: np.ndarray) -> dict:
    """Mean and 95% normal half-width over seeds (last axis)."""
    mean = values.mean(axis=-1)
    half = 1.96 * values.std(axis=-1, ddof=1) / np.sqrt(values.shape[-1])
    return {"mean": mean, "half_width": half}


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    settings = dict(models=list(MODELS), workers=51, budget=23, rounds=5000, seeds=64,
                    scales="1/16..16", seed=0, oracle=True)
    if quick:  # one model, no oracle: two compiles
        settings.update(models=["cifar"], workers=7, budget=3, rounds=40, seeds=4,
                        scales="1/4..4", oracle=False)
    scales = parse_grid_values(settings["scales"])
    policies = ("ata", "ata-empirical", "ofta") if settings["oracle"] else ("ata",
                                                                            "ata-empirical")
    figure, axes = plt.subplots(len(settings["models"]), len(METRICS), squeeze=False,
                                figsize=(13, 3.75 * len(settings["models"])))
    data = {}
    for row, name in enumerate(settings["models"]):
        model = resolve_time_model(name, settings["workers"], settings["rounds"])
        config = SweepConfig(
            time_model=name, workers=(model.size,), budgets=(settings["budget"],),
            policies=policies, alpha=scales, alpha_mode="scale",
            eta=scales, eta_mode="scale", rounds=settings["rounds"], seeds=settings["seeds"],
            seed=settings["seed"], model_fingerprints=(model_fingerprint(model),))
        result = run_sweep(config, {model.size: model})  # progress: the command's
        count = len(scales)
        # grid order (alpha, eta): ATA along alpha at eta index 0, ATA-Empirical along eta
        rows = {"ata": result.totals[0, np.arange(count) * count],
                "ata-empirical": result.totals[1, np.arange(count)]}
        if settings["oracle"]:
            rows["ofta"] = result.totals[2, :1]
        entry = {"true_alpha": model.alpha, "true_eta": model.eta, "scales": list(scales),
                 "compile_s": result.compile_s, "run_s": result.run_s}
        for column, (metric, label) in enumerate(METRICS):
            position = ("runtime", "worker_time", "regret").index(metric)
            axis = axes[row, column]
            per_round = 1.0 if metric == "regret" else settings["rounds"]
            for policy in ("ata", "ata-empirical"):
                stats = _stats(rows[policy][..., position] / per_round)
                entry.setdefault(policy, {})[metric] = stats
                draw_band(axis, scales, stats["mean"], stats["half_width"],
                          POLICY_COLOURS[policy],
                          f"{policy} (x = {'α' if policy == 'ata' else 'η'}/true)",
                          marker="o", markersize=3)
            if "ofta" in rows:
                oracle = _stats(rows["ofta"][..., position] / per_round)
                entry.setdefault("ofta", {})[metric] = oracle
            if "ofta" in rows and metric != "regret":
                axis.axhline(float(oracle["mean"][0]), color=POLICY_COLOURS["ofta"],
                             linestyle="--", label="ofta (knows μ)")
            axis.axvline(1.0, **MARKER_LINE)
            axis.set_xscale("log", base=2)
            axis.set_yscale("log")
            axis.set_xlabel("multiplier of the true value")
            axis.set_ylabel(label)
            axis.set_title(f"{name}: {label}", fontsize=9)
        data[name] = entry
        for policy in ("ata", "ata-empirical"):
            runtime = entry[policy]["runtime"]["mean"]
            best = int(np.argmin(runtime))
            at_true = runtime[list(scales).index(1.0)] if 1.0 in scales else float("nan")
            print(f"{name:<14} {policy:<14} best multiplier {scales[best]:g} "
                  f"({runtime[best]:.1f}/round); true value {at_true:.1f}/round; "
                  + ", ".join(f"x{s:g}: {runtime[i]:.1f}" for i, s in enumerate(scales)))
    axes[0, 0].legend(fontsize=LEGEND_FONT_SIZE)
    figure.suptitle(f"Sensitivity to α (ATA) and η (ATA-Empirical): n={settings['workers']}, "
                    f"B={settings['budget']}, K={settings['rounds']} rounds, "
                    f"{settings['seeds']} seeds, bands: 95% CI of the mean", fontsize=10)
    figure.tight_layout()
    return save_figure(figure, out_dir, "sensitivity", settings, data)
