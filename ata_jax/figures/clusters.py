"""Figure `clusters`: over a thousand random clusters, when does adaptive allocation pay?

Random clusters (spec §9): n = 51 workers with means μ_i = 58·exp(σ·Z_i) and tasks
X_i = μ_i/2 + Exp(mean μ_i/2), B = 23, K = 5000 rounds, 16 seeds per cluster, 48 clusters at
each of 21 heterogeneities σ = 0, 0.1, ..., 2 (1008 clusters). Every cluster runs ATA and
ATA-Empirical with its own true α and η, the oracle OFTA and the greedy GTA, all clusters of
a policy in one compiled batch. Per cluster, each learner's mean runtime and worker time over
its seeds are divided by OFTA's and by GTA's; the figure shows the median over the clusters
of each σ and the 10–90% band.

    ata-jax reproduce clusters            # the full study
    ata-jax reproduce clusters --quick    # a smoke run
"""

from __future__ import annotations

import pathlib
import time

import matplotlib.pyplot as plt
import numpy as np

from ata_jax.configurations import random_clusters
from ata_jax.figures.output import save_figure
from ata_jax.figures.style import BAND_ALPHA, LEGEND_FONT_SIZE, MARKER_LINE, POLICY_COLOURS
from ata_jax.simulate import simulate

LEARNERS = ("ata-empirical", "ata")
REFERENCES = ("ofta", "gta")
QUANTILES = (0.1, 0.5, 0.9)


def cluster_ratios(results: list[dict], learner: str, reference: str, metric: str) -> np.ndarray:
    """float64[clusters]: the learner's mean (over seeds) of a metric over the reference's."""
    return np.array([getattr(result[learner], metric).mean()
                     / getattr(result[reference], metric).mean() for result in results])


def summarise(ratios: np.ndarray, sigma_of_cluster: np.ndarray, sigmas) -> dict:
    """Per σ: the 10%, 50% and 90% quantiles of the clusters' ratios."""
    rows = np.array([np.quantile(ratios[sigma_of_cluster == sigma], QUANTILES)
                     for sigma in sigmas])
    return {"p10": rows[:, 0], "median": rows[:, 1], "p90": rows[:, 2]}


def paying_range(summary_runtime: dict, summary_worker: dict, sigmas) -> dict:
    """Where the median ratio to GTA is below 1 (allocation pays) in runtime and in worker
    time, and the σ's where it pays in worker time but not in runtime."""
    runtime_pays = summary_runtime["median"] < 1
    worker_pays = summary_worker["median"] < 1
    return {"runtime_pays_at": [s for s, pays in zip(sigmas, runtime_pays) if pays],
            "worker_time_pays_at": [s for s, pays in zip(sigmas, worker_pays) if pays],
            "worker_time_only_at": [s for s, r, w in zip(sigmas, runtime_pays, worker_pays)
                                    if w and not r]}


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    settings = dict(workers=51, budget=23, rounds=5000, seeds=16, seed=0,
                    heterogeneities=[round(0.1 * step, 1) for step in range(21)],
                    clusters_per_heterogeneity=48, alpha="each cluster's true value",
                    eta="each cluster's true value")
    if quick:
        settings.update(workers=6, budget=3, rounds=40, seeds=2, heterogeneities=[0.0, 1.0, 2.0],
                        clusters_per_heterogeneity=3)
    sigmas = settings["heterogeneities"]
    entries = random_clusters(settings["workers"], sigmas,
                              settings["clusters_per_heterogeneity"], settings["seed"])
    sigma_of_cluster = np.array([label["heterogeneity"] for label, _ in entries])
    began = time.perf_counter()
    results = simulate([model for _, model in entries], LEARNERS + REFERENCES,
                       budget=settings["budget"], num_rounds=settings["rounds"],
                       num_seeds=settings["seeds"], seed=settings["seed"])
    settings.update(clusters=len(entries), simulation_seconds=time.perf_counter() - began)

    figure, axes = plt.subplots(2, 2, figsize=(10, 7), sharex=True)
    data = {"heterogeneity": sigmas, "policies": {}}
    for column, reference in enumerate(REFERENCES):
        for row, metric in enumerate(("runtime", "worker_time")):
            axis = axes[row, column]
            for learner in LEARNERS:
                ratios = cluster_ratios(results, learner, reference, metric)
                summary = summarise(ratios, sigma_of_cluster, sigmas)
                data["policies"].setdefault(learner, {})[f"{metric}_over_{reference}"] = summary
                colour = POLICY_COLOURS[learner]
                axis.plot(sigmas, summary["median"], "o-", color=colour, markersize=3,
                          label=f"{learner}, median")
                axis.fill_between(sigmas, summary["p10"], summary["p90"], color=colour,
                                  alpha=BAND_ALPHA, linewidth=0)
            axis.axhline(1.0, **MARKER_LINE)
            axis.set_yscale("log")
            axis.set_title(f"{metric.replace('_', ' ')} / {reference}'s", fontsize=10)
            if row == 1:
                axis.set_xlabel("heterogeneity σ (means 58·exp(σZ))")
            axis.legend(fontsize=LEGEND_FONT_SIZE)
    for learner in LEARNERS:
        entry = data["policies"][learner]
        entry["against_gta"] = paying_range(entry["runtime_over_gta"],
                                            entry["worker_time_over_gta"], sigmas)
    figure.suptitle(f"{len(entries)} random clusters, n={settings['workers']}, "
                    f"B={settings['budget']}, K={settings['rounds']}, {settings['seeds']} seeds "
                    "each; bands: 10-90% of clusters", fontsize=10)
    figure.tight_layout()
    print(f"{'sigma':>6}" + "".join(f"{f'{l[:5]}/{r} {m[:6]}':>22}" for l in LEARNERS
                                    for r in REFERENCES for m in ("runtime", "worker_time")))
    for index, sigma in enumerate(sigmas):
        print(f"{sigma:>6.2f}" + "".join(
            f"{data['policies'][l][f'{m}_over_{r}']['median'][index]:>22.3f}"
            for l in LEARNERS for r in REFERENCES for m in ("runtime", "worker_time")))
    return save_figure(figure, out_dir, "clusters", settings, data)
