"""Figure `digits`: real training (an MLP with Adam on scikit-learn's digits) against each
allocator's cumulative runtime and total worker time, under the `cifar` time model.

The iterates are the same for every allocator (synchronous minibatch SGD, spec §6); the
allocators differ only in how long the rounds take (left) and how much worker time they burn
(right). Lines are means over seeds; bands are ± one standard deviation of the metric.

    ata-jax reproduce digits            # n=51, B=23, K=1500, 5 seeds
    ata-jax reproduce digits --quick    # a smoke run
"""

from __future__ import annotations

import pathlib

import matplotlib.pyplot as plt

from ata_jax.allocators import POLICY_NAMES
from ata_jax.figures.output import save_figure
from ata_jax.figures.style import LEGEND_FONT_SIZE, POLICY_COLOURS, draw_band
from ata_jax.modelfile import resolve_time_model
from ata_jax.training import make_problem, train


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    settings = dict(problem="digits", time_model="cifar", workers=51, budget=23, rounds=1500,
                    seeds=5, seed=0, optimizer="adam", learning_rate=1e-3, hidden=32,
                    examples_per_task=4, points=150)
    if quick:
        settings.update(workers=6, budget=3, rounds=60, seeds=2, hidden=8, points=7)
    problem = make_problem("digits", hidden=settings["hidden"],
                           examples_per_task=settings["examples_per_task"])
    model = resolve_time_model(settings["time_model"], settings["workers"], settings["rounds"])
    run = train(problem, model, POLICY_NAMES, budget=settings["budget"],
                num_rounds=settings["rounds"], num_seeds=settings["seeds"],
                seed=settings["seed"], optimizer=settings["optimizer"],
                learning_rate=settings["learning_rate"], max_points=settings["points"])
    settings.update(alpha=run.settings["alpha"], eta=run.settings["eta"],
                    test_fraction=problem.settings["test_fraction"],
                    split_seed=problem.settings["split_seed"])

    curves = {"training loss": run.suboptimality, "test accuracy": run.evaluations["test_accuracy"]}
    axes_of_time = {"cumulative runtime": run.runtime, "cumulative worker time": run.worker_time}
    figure, axes = plt.subplots(2, 2, figsize=(11, 7.5), sharey="row")
    for row, (metric_label, values) in enumerate(curves.items()):
        mean, spread = values.mean(axis=0), values.std(axis=0)
        for column, (time_label, times) in enumerate(axes_of_time.items()):
            axis = axes[row, column]
            for name in POLICY_NAMES:
                draw_band(axis, times[name].mean(axis=0), mean, spread, POLICY_COLOURS[name],
                          name)
            axis.set_xscale("log")
            axis.set_xlabel(f"{time_label} (time units, mean over seeds)")
            if column == 0:
                axis.set_ylabel(metric_label)
            if row == 0:
                axis.set_yscale("log")
    axes[0, 0].legend(fontsize=LEGEND_FONT_SIZE)
    figure.suptitle(f"digits: MLP 64-{settings['hidden']}-10, Adam lr {settings['learning_rate']:g}, "
                    f"{settings['examples_per_task']} examples per task; time model "
                    f"{settings['time_model']} (n={settings['workers']}, B={settings['budget']}), "
                    f"K={settings['rounds']} rounds, {settings['seeds']} seeds (± 1 std)",
                    fontsize=10)
    figure.tight_layout()
    data = {"round": run.rounds, "training_loss_mean": curves["training loss"].mean(axis=0),
            "training_loss_std": curves["training loss"].std(axis=0),
            "test_accuracy_mean": curves["test accuracy"].mean(axis=0),
            "test_accuracy_std": curves["test accuracy"].std(axis=0),
            "policies": {name: {"runtime": run.runtime[name].mean(axis=0),
                                "runtime_std": run.runtime[name].std(axis=0),
                                "worker_time": run.worker_time[name].mean(axis=0),
                                "worker_time_std": run.worker_time[name].std(axis=0)}
                         for name in POLICY_NAMES},
            "timing": run.timing}
    for name in POLICY_NAMES:
        print(f"{name:<15} runtime {run.runtime[name][:, -1].mean():.4g}, worker time "
              f"{run.worker_time[name][:, -1].mean():.4g}")
    print(f"final training loss {curves['training loss'][:, -1].mean():.4f}, test accuracy "
          f"{curves['test accuracy'][:, -1].mean():.4f}")
    return save_figure(figure, out_dir, "digits", settings, data)
