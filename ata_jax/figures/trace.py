"""Figure `trace`: the five allocators on a replayed real trace (the shipped `mlp-2cpu`).

The trace (experiments/record_trace.py) holds 8 worker processes' measured times of NumPy
MLP gradient steps on a shared 2-core machine, 2 tasks per worker and round for 600 recorded
rounds, with a busy loop that moves between the CPUs (none in rounds 1–200, on CPU 1 in
201–400, on CPU 0 in 401–600). The simulation runs K = 1800 rounds, so recorded order
replays the recording three times. Panels:

  (a) each worker's recorded task times (box: quartiles, whiskers 5–95 %; dot: mean);
  (b) per-round time and worker time of each allocator, both replay orders;
  (c) round time per round, bootstrap replay (i.i.d. draws from each worker's times);
  (d) round time per round, recorded order (round k replays recorded round
      ((k − 1) mod 600) + 1; dotted lines where the recording's load changed).

α and η are the trace's own (empirical) values.

    ata-jax reproduce trace            # B=16, K=1800, 16 seeds
    ata-jax reproduce trace --quick    # a smoke run (ata, gta and ofta only)
"""

from __future__ import annotations

import pathlib

import matplotlib.pyplot as plt
import numpy as np

from ata_jax import traces
from ata_jax.allocators import POLICY_NAMES
from ata_jax.figures.output import save_figure
from ata_jax.figures.style import (LEGEND_FONT_SIZE, LINE_WIDTH, MARKER_LINE, POLICY_COLOURS,
                                   category_colour, moving_average)
from ata_jax.simulate import simulate

TRACE_NAME = "mlp-2cpu"
RECORDED_ROUNDS = 600
LOAD_PHASE = 200
"""The shipped recording's length and the rounds between its load changes."""


def run_orders(trace: traces.RecordedTrace, settings: dict) -> dict:
    """Per replay order and policy: mean per-round times and the per-round curve."""
    results = {}
    for order in traces.REPLAY_ORDERS:
        model = traces.trace_model(trace, order)
        outcome = simulate(model, settings["policies"], budget=settings["budget"],
                           num_rounds=settings["rounds"], num_seeds=settings["seeds"],
                           seed=settings["seed"], record_rounds=True)
        results[order] = {
            name: {"round_time": float(r.runtime.mean() / settings["rounds"]),
                   "round_time_std": float(r.runtime.std() / settings["rounds"]),
                   "worker_time": float(r.worker_time.mean() / settings["rounds"]),
                   "worker_time_std": float(r.worker_time.std() / settings["rounds"]),
                   "round_time_per_round": r.round_time_mean.tolist()}
            for name, r in outcome.items()}
        results[order]["alpha"], results[order]["eta"] = model.alpha, model.eta
    return results


def draw_distributions(axis, trace: traces.RecordedTrace) -> None:
    axis.boxplot(trace.times, whis=(5, 95), showfliers=False, tick_labels=trace.workers)
    axis.plot(np.arange(1, trace.size + 1), [values.mean() for values in trace.times], "o",
              color="black", markersize=4, label="mean")
    axis.set_xlabel("worker (minibatch 32·(i+1) samples)")
    axis.set_ylabel("task time (ms)")
    axis.set_title("(a) recorded task times per worker", fontsize=10)
    axis.legend(fontsize=LEGEND_FONT_SIZE)


def draw_totals(axis, results: dict, policies: tuple[str, ...]) -> None:
    positions = np.arange(len(policies))
    width = 0.2
    for offset, (order, hatch) in enumerate((("bootstrap", ""), ("recorded", "//"))):
        rows = [results[order][name] for name in policies]
        axis.bar(positions + (offset - 1.5) * width, [row["round_time"] for row in rows],
                 width, yerr=[row["round_time_std"] for row in rows],
                 color=category_colour(0), hatch=hatch, label=f"round time, {order}")
        axis.bar(positions + (offset + 0.5) * width, [row["worker_time"] for row in rows],
                 width, yerr=[row["worker_time_std"] for row in rows],
                 color=category_colour(1), hatch=hatch, label=f"worker time, {order}")
    axis.set_xticks(positions, policies, fontsize=8)
    axis.set_ylabel("per round (ms, mean over seeds)")
    axis.set_title("(b) round time and total worker time per round", fontsize=10)
    axis.legend(fontsize=LEGEND_FONT_SIZE)


def draw_curves(axis, results: dict, settings: dict, order: str, title: str) -> None:
    width = settings["smoothing"]
    drawn = {}
    for name in settings["policies"]:
        per_round = np.asarray(results[order][name]["round_time_per_round"])
        same = [other for other, curve in drawn.items() if np.array_equal(curve, per_round)]
        label = f"{name} (every round = {same[0]})" if same else name
        axis.plot(np.arange(width, settings["rounds"] + 1), moving_average(per_round, width),
                  label=label, color=POLICY_COLOURS[name], linewidth=LINE_WIDTH,
                  linestyle="--" if same else "-")
        drawn[name] = per_round
    if order == "recorded":
        for change in np.arange(LOAD_PHASE, settings["rounds"], LOAD_PHASE) + 0.5:
            axis.axvline(change, **MARKER_LINE)
    axis.set_yscale("log")
    axis.set_xlabel("round k")
    axis.set_ylabel(f"round time (ms, {width}-round moving average)")
    axis.set_title(title, fontsize=10)
    axis.legend(fontsize=LEGEND_FONT_SIZE)


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    settings = dict(trace=TRACE_NAME, budget=16, rounds=3 * RECORDED_ROUNDS, seeds=16,
                    seed=0, smoothing=25, policies=POLICY_NAMES)
    if quick:  # three policies: an adaptive one, the race and the oracle (fewer compiles)
        settings.update(budget=4, rounds=20, seeds=2, smoothing=4,
                        policies=("ata", "gta", "ofta"))
    trace = traces.read_trace(traces.shipped_trace(TRACE_NAME))
    results = run_orders(trace, settings)
    figure, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    draw_distributions(axes[0, 0], trace)
    draw_totals(axes[0, 1], results, settings["policies"])
    draw_curves(axes[1, 0], results, settings, "bootstrap", "(c) bootstrap replay")
    draw_curves(axes[1, 1], results, settings, "recorded",
                "(d) recorded order (dotted: the load moves)")
    figure.suptitle(f"trace {TRACE_NAME}: n={trace.size}, B={settings['budget']}, "
                    f"K={settings['rounds']}, {settings['seeds']} seeds, true α="
                    f"{results['bootstrap']['alpha']:.3g} ms, η={results['bootstrap']['eta']:.3g}",
                    fontsize=11)
    figure.tight_layout()
    for order in traces.REPLAY_ORDERS:
        for name in settings["policies"]:
            row = results[order][name]
            print(f"{order:<10}{name:<15} round {row['round_time']:>8.2f} ms   "
                  f"worker time {row['worker_time']:>8.2f} ms")
    data = {"workers": traces.worker_summary(trace), "orders": results}
    return save_figure(figure, out_dir, "trace", settings, data)
