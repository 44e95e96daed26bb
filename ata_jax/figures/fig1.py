"""Figure `fig1`: the paper's Figure 1 grid for two time models (spec §7).

Rows n = 17, 51, 153, 459 workers, B = 23; columns: suboptimality f(x_k) − f* of distributed
SGD on the quadratic (`ata_jax.training.quadratic`: d = 100, σ = 0.01, stepsize 1e-4)
against cumulative runtime, against cumulative total worker time, the average iteration time
C_k/k, and the cumulative proxy regret R_k (mean over seeds; R_k/k is in the JSON). All five
allocators see the same iterates (spec §6); only their time axes differ. Bands: ±1 standard
deviation over seeds (of the suboptimality at each round's mean time; of C_k/k and R_k).

Figure 1's worker-time distributions are not public, so it is drawn for `cifar`
(X_i = 29i + Exp(mean 29i)) and `sqrt` (X_i = 29√i + Exp(mean 29√i)): fig1_cifar.png and
fig1_sqrt.png, K = 10⁴ rounds, 5 seeds, α and η at the models' true values.
"""

from __future__ import annotations

import pathlib

import matplotlib.pyplot as plt
import numpy as np

from ata_jax.allocators import POLICY_NAMES
from ata_jax.figures.output import save_figure
from ata_jax.figures.style import LEGEND_FONT_SIZE, POLICY_COLOURS, draw_band, log_spaced_rounds
from ata_jax.modelfile import resolve_time_model
from ata_jax.training import make_problem, train


def band(axis, x, values, colour, label=None):
    """Mean over seeds (axis 0 of values) with a ±1 std band, against x (log axes)."""
    centre = values.mean(0)
    spread = values.std(0, ddof=1) if values.shape[0] > 1 else np.zeros_like(centre)
    draw_band(axis, x, centre, spread, colour, label, floor_fraction=0.1)


def grid_settings(quick: bool) -> dict:
    """Figure 1's settings (the `heterogeneous` figure draws the same grid on another model)."""
    settings = dict(problem="quadratic", budget=23, rounds=10_000, seeds=5, seed=0,
                    learning_rate=1e-4, points=400)
    if quick:
        settings.update(budget=4, rounds=60, seeds=2, points=30)
    return settings


def draw_row(axes, run, policies) -> dict:
    """The four panels of one row; returns the row's plotted data (means over seeds).

    Suboptimality is known at the run's checkpoints; C_k/k and R_k come from every round's
    record, shown at log-spaced rounds.
    """
    rounds = run.rounds
    suboptimality = run.suboptimality
    data = {"rounds": rounds, "suboptimality": suboptimality.mean(0), "policies": {}}
    for name in policies:
        colour = POLICY_COLOURS[name]
        runtime, worker_time = run.runtime[name], run.worker_time[name]
        band(axes[0], runtime.mean(0), suboptimality, colour, name)
        band(axes[1], worker_time.mean(0), suboptimality, colour, name)
        record = run.simulation[name].per_round
        shown = log_spaced_rounds(record.round_time.shape[1])
        average = np.cumsum(record.round_time, axis=1)[:, shown - 1] / shown
        band(axes[2], shown, average, colour, name)
        row = {"runtime": runtime.mean(0), "worker_time": worker_time.mean(0),
               "log_spaced_rounds": shown, "average_iteration_time": average.mean(0)}
        if not np.isnan(record.regret).all():
            regret = np.cumsum(record.regret, axis=1)[:, shown - 1]
            if regret.mean(0)[-1] > 0:  # OFTA's regret is 0: nothing to draw on a log axis
                band(axes[3], shown, regret, colour, name)
            row["cumulative_regret"] = regret.mean(0)
            row["average_regret"] = regret.mean(0) / shown
        data["policies"][name] = row
    return data


def grid(time_model: str, workers: tuple[int, ...], settings: dict, out_dir: pathlib.Path,
         name: str) -> list[pathlib.Path]:
    """A len(workers) × 4 grid for one time model."""
    problem = make_problem("quadratic")
    figure, axes = plt.subplots(len(workers), 4, figsize=(16, 3.3 * len(workers)),
                                squeeze=False)
    data = {}
    for row, n in enumerate(workers):
        model = resolve_time_model(time_model, n, settings["rounds"])
        run = train(problem, model, POLICY_NAMES, budget=settings["budget"],
                    num_rounds=settings["rounds"], num_seeds=settings["seeds"],
                    seed=settings["seed"], learning_rate=settings["learning_rate"],
                    max_points=settings["points"])
        data[f"n={n}"] = draw_row(axes[row], run, POLICY_NAMES)
        data[f"n={n}"].update(true_alpha=model.alpha, true_eta=model.eta)
        titles = ("suboptimality vs runtime", "suboptimality vs total worker time",
                  "average iteration time C_k / k",
                  "cumulative proxy regret R_k (OFTA: 0)")
        for column, axis in enumerate(axes[row]):
            axis.set_title(f"n = {n}: {titles[column]}", fontsize=9)
            axis.set_yscale("log")
            axis.set_xscale("log")
            axis.set_xlabel(("cumulative runtime", "cumulative worker time", "round k",
                             "round k")[column], fontsize=8)
            axis.tick_params(labelsize=7)
        axes[row, 0].set_ylabel("f(x_k) − f*", fontsize=8)
    axes[0, 0].legend(fontsize=LEGEND_FONT_SIZE)
    figure.suptitle(f"Figure 1 on `{time_model}`: SGD on the quadratic (d=100, σ=0.01, "
                    f"stepsize {settings['learning_rate']:g}), B={settings['budget']}, "
                    f"K={settings['rounds']}, {settings['seeds']} seeds (bands ±1 std), "
                    "true α and η", fontsize=10)
    figure.tight_layout()
    return save_figure(figure, out_dir, name, dict(settings, time_model=time_model,
                                                   workers=list(workers)), data)


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    settings = grid_settings(quick)
    workers = (6,) if quick else (17, 51, 153, 459)
    written = []
    for time_model in ("cifar", "sqrt"):
        written += grid(time_model, workers, settings, out_dir, f"fig1_{time_model}")
    return written
