"""Figure `allocators`: every allocator, the paper's five and the four a reviewer asks for
(spec §9), on four worker models (issue 16).

Models: `cifar`, `sqrt` and `heterogeneous` at n = 51, and the shipped trace `mlp-2cpu`
(its own n = 8, bootstrap replay); B = 23, K = 10⁴, 16 seeds, every model's true α and η.
Panels:

  top: per model, the runtime per round against the worker time per round, one marker per
       allocator (the Pareto view: GTA and msync fast and wasteful, the learners in
       between, the oracles in the corner);
  bottom: C_k/k, the mean round time of the first k rounds, against k (log axis).

The JSON also holds every allocator's expected-time regret against `ofta-expected`'s
allocation (on the same draws) and the oracle's a*_E per model.

    ata-jax reproduce allocators            # the full run
    ata-jax reproduce allocators --quick    # a smoke run (cifar at n = 12, K = 200)
"""

from __future__ import annotations

import pathlib

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from ata_jax import traces
from ata_jax.allocators import ALL_POLICY_NAMES
from ata_jax.expected import expected_optima
from ata_jax.figures.output import save_figure
from ata_jax.figures.style import (LEGEND_FONT_SIZE, LINE_WIDTH, POLICY_COLOURS,
                                   log_spaced_rounds)
from ata_jax.simulate import simulate
from ata_jax.timemodels import PRESETS

POLICIES = ("gta", "msync", "uta", "ata", "ata-empirical", "thompson", "explore-commit",
            "ofta", "ofta-expected")
"""Every allocator of a stationary model, racers first, oracles last."""
MARKERS = {"gta": "s", "msync": "D", "uta": "v", "ata": "o", "ata-empirical": "o",
           "thompson": "^", "explore-commit": "^", "ofta": "*", "ofta-expected": "*"}


def models(quick: bool) -> list[tuple[str, object]]:
    """(name, model) of each panel's model."""
    if quick:  # one batch: one compile per policy
        return [("cifar", PRESETS["cifar"](12))]
    chosen = [(name, PRESETS[name](51)) for name in ("cifar", "sqrt", "heterogeneous")]
    trace = traces.read_trace(traces.shipped_trace("mlp-2cpu"))
    chosen.append(("mlp-2cpu trace", traces.trace_model(trace, "bootstrap")))
    return chosen


def summarise(results, rounds: int, shown: np.ndarray) -> dict:
    """Per policy: per-round means ± std over seeds, the expected-time regret, C_k/k."""
    table = {}
    for name, result in results.items():
        cumulative = np.cumsum(result.per_round.round_time, axis=1)[:, shown - 1] / shown
        table[name] = {
            "round_time": float(result.runtime.mean() / rounds),
            "round_time_std": float(result.runtime.std(ddof=1) / rounds),
            "worker_time": float(result.worker_time.mean() / rounds),
            "worker_time_std": float(result.worker_time.std(ddof=1) / rounds),
            "expected_regret": float(result.expected_regret.mean()),
            "expected_regret_std": float(result.expected_regret.std(ddof=1)),
            "regret": (None if np.isnan(result.regret).all()
                       else float(result.regret.mean())),
            "mean_round_time_so_far": cumulative.mean(axis=0).tolist()}
    return table


def draw(data: dict, settings: dict):
    """The figure from the data its JSON holds (`reproduce`), so it can be redrawn alone."""
    labels = list(data["models"])
    shown = np.asarray(data["rounds_shown"])
    figure, axes = plt.subplots(2, len(labels), figsize=(4.2 * len(labels), 8), squeeze=False)
    for column, label in enumerate(labels):
        entry = data["models"][label]
        scatter, curves = axes[0, column], axes[1, column]
        for name in POLICIES:
            row = entry["policies"][name]
            scatter.scatter(row["worker_time"], row["round_time"], color=POLICY_COLOURS[name],
                            marker=MARKERS[name], s=50, label=name, zorder=3)
            scatter.annotate(name, (row["worker_time"], row["round_time"]), fontsize=6,
                             xytext=(4, 3), textcoords="offset points")
            curves.plot(shown, row["mean_round_time_so_far"], color=POLICY_COLOURS[name],
                        linewidth=LINE_WIDTH, label=name)
        for axis in (scatter, curves):
            axis.set_xscale("log")
            axis.set_yscale("log")
            axis.xaxis.set_minor_formatter(NullFormatter())  # minor labels collide
        scatter.set_xlabel("worker time per round", fontsize=8)
        scatter.set_ylabel("round time", fontsize=8)
        scatter.set_title(f"{label} (n={entry['workers']}, B={settings['budget']})",
                          fontsize=9)
        curves.set_xlabel("round k", fontsize=8)
        curves.set_ylabel("C_k / k: mean round time of rounds 1..k", fontsize=8)
    axes[1, 0].legend(fontsize=LEGEND_FONT_SIZE, ncol=2)
    figure.suptitle(f"every allocator, K={settings['rounds']:,}, {settings['seeds']} seeds, "
                    f"true alpha/eta, spread {settings['spread']:g}, "
                    f"{settings['explore_samples']} explore samples", fontsize=10)
    figure.tight_layout()
    return figure


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    assert set(POLICIES) <= set(ALL_POLICY_NAMES)
    settings = dict(budget=23, rounds=10_000, seeds=16, seed=0, policies=list(POLICIES),
                    alpha="true value", eta="true value", spread=1.0, explore_samples=10)
    if quick:
        settings.update(budget=5, rounds=200, seeds=2)
    chosen = models(quick)
    optima = expected_optima([model for _, model in chosen], settings["budget"])
    outcomes = simulate([model for _, model in chosen], POLICIES, budget=settings["budget"],
                        num_rounds=settings["rounds"], num_seeds=settings["seeds"],
                        seed=settings["seed"], record_rounds=True, expected_regret=True,
                        expected_optimum=optima, spread=settings["spread"],
                        explore_samples=settings["explore_samples"])
    shown = log_spaced_rounds(settings["rounds"])
    data = {"rounds_shown": shown.tolist(), "models": {}}
    for (label, model), optimum, results in zip(chosen, optima, outcomes):
        data["models"][label] = {
            "workers": model.size, "alpha": model.alpha, "eta": model.eta,
            "expected_optimum": [int(count) for count in optimum.allocation],
            "expected_optimum_round_time": float(optimum.round_time),
            "policies": summarise(results, settings["rounds"], shown)}
    figure = draw(data, settings)
    header = f"{'policy':<16}" + "".join(f"{label[:22]:>24}" for label in data["models"])
    print(header + "\n" + f"{'':<16}" + "".join(f"{'round / worker time':>24}"
                                                for _ in data["models"]))
    for name in POLICIES:
        cells = "".join(f"{data['models'][label]['policies'][name]['round_time']:>11.1f} /"
                        f"{data['models'][label]['policies'][name]['worker_time']:>10.1f}"
                        for label in data["models"])
        print(f"{name:<16}{cells}")
    return save_figure(figure, out_dir, "allocators", settings, data)
