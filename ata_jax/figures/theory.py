"""Figure `theory`: the paper's bounds beside measurements.

(a) The lemma (spec §1): ℓ(a, μ) ≤ E[C(a)] ≤ (1 + 4η ln B)·ℓ(a, μ) for EVERY allocation a,
    with η = max_i α_i/μ_i over all n workers. We estimate E[C(a)] by Monte Carlo for OFTA's
    a*_ℓ, the even spread, and random allocations (uniform and ∝ 1/μ multinomials) on
    several models and n, and plot E[C(a)]/ℓ(a, μ) against the two bounds.
(b) The guarantee's O(ln K) term: ATA's and ATA-Empirical's mean cumulative proxy regret R_k
    against k on a log axis (logarithmic growth is a straight line), with a fitted
    c₀ + c₁ ln k reference over the last decade of rounds.

    ata-jax reproduce theory            # the full run
    ata-jax reproduce theory --quick    # a smoke run
"""

from __future__ import annotations

import math
import pathlib

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

from ata_jax.allocation import Assignment, assign
from ata_jax.figures.output import save_figure
from ata_jax.figures.style import LEGEND_FONT_SIZE, POLICY_COLOURS, category_colour
from ata_jax.modelfile import resolve_time_model
from ata_jax.rounds import play_assignment
from ata_jax.simulate import simulate


def assignment_of(counts: np.ndarray) -> Assignment:
    """The task list (worker, slot), int32[B] each, of an allocation given as counts a[n]."""
    worker = np.repeat(np.arange(counts.size), counts)
    slot = np.concatenate([np.arange(count) for count in counts if count > 0])
    return Assignment(jnp.asarray(worker, jnp.int32), jnp.asarray(slot, jnp.int32))


def mean_round_time(model, allocations: np.ndarray, budget: int, draws: int,
                    key: jax.Array) -> tuple[np.ndarray, np.ndarray]:
    """Monte Carlo E[C(a)] and its standard error for each allocation (rows of int[A, n])."""
    tasks = [assignment_of(counts) for counts in allocations]
    workers = jnp.stack([task.worker for task in tasks])
    slots = jnp.stack([task.slot for task in tasks])
    keys = jax.random.split(key, draws)

    @jax.jit
    def times(workers, slots):
        one = lambda w, s, k: play_assignment(model, k, Assignment(w, s), budget).outcome.round_time
        return jax.vmap(lambda w, s: jax.vmap(lambda k: one(w, s, k))(keys))(workers, slots)

    samples = np.asarray(times(workers, slots), np.float64)
    return samples.mean(axis=1), samples.std(axis=1, ddof=1) / math.sqrt(draws)


def allocations_for(means: np.ndarray, budget: int, count: int,
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """OFTA's a*_ℓ, the even spread, and `count` random multinomials of each kind."""
    n = means.size
    even = np.full(n, budget // n)
    even[: budget % n] += 1
    inverse = (1 / means) / (1 / means).sum()
    optimal = _counts(assign(jnp.asarray(means, jnp.float32), budget), n)
    return {"ofta a*": optimal[None],
            "even spread": even[None],
            "random uniform": rng.multinomial(budget, np.full(n, 1 / n), size=count),
            "random ∝ 1/μ": rng.multinomial(budget, inverse, size=count)}


def _counts(assignment: Assignment, n: int) -> np.ndarray:
    return np.bincount(np.asarray(assignment.worker), minlength=n)


def reproduce(out_dir: pathlib.Path, quick: bool) -> list[pathlib.Path]:
    settings = dict(models=["cifar", "sqrt", "heterogeneous"], workers=[17, 51], budget=23,
                    draws=4000, random_allocations=12, regret_models=["cifar", "heterogeneous"],
                    regret_workers=17, regret_rounds=20000, regret_seeds=16, seed=0)
    if quick:
        settings.update(models=["cifar", "heterogeneous"], workers=[5], budget=4, draws=200,
                        random_allocations=3, regret_models=["cifar"], regret_workers=5,
                        regret_rounds=60, regret_seeds=2)
    budget = settings["budget"]
    rng = np.random.default_rng(settings["seed"])
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    lemma, markers = {}, {"ofta a*": "*", "even spread": "s", "random uniform": "o",
                          "random ∝ 1/μ": "^"}
    for model_index, name in enumerate(settings["models"]):
        for n in settings["workers"]:
            model = resolve_time_model(name, n)
            means = np.asarray(model.mean, np.float64)
            bound = 1 + 4 * model.eta * math.log(budget)
            kinds = allocations_for(means, budget, settings["random_allocations"], rng)
            entry = {"eta": model.eta, "upper_bound": bound, "allocations": {}}
            for kind, allocations in kinds.items():
                expected, error = mean_round_time(model, allocations, budget,
                                                  settings["draws"], jax.random.key(n))
                loss = (allocations * means).max(axis=1)
                ratio = expected / loss
                entry["allocations"][kind] = {"counts": allocations, "proxy_loss": loss,
                                              "mean_round_time": expected, "stderr": error,
                                              "ratio": ratio}
                left.scatter(loss / loss.min() if kind == "ofta a*" else loss, ratio,
                             marker=markers[kind], color=category_colour(model_index),
                             s=18 if n < 50 else 30, alpha=0.7,
                             label=f"{name} n={n}" if kind == "ofta a*" else None)
            lemma[f"{name}-n{n}"] = entry
        left.axhline(1 + 4 * resolve_time_model(name, settings["workers"][0]).eta
                     * math.log(budget), color=category_colour(model_index), linestyle="--",
                     linewidth=1)
    left.axhline(1.0, color="black", linewidth=1)
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("ℓ(a, μ) = max_i a_i μ_i")
    left.set_ylabel("E[C(a)] / ℓ(a, μ)  (Monte Carlo)")
    left.set_title(f"(a) lemma: 1 ≤ E[C]/ℓ ≤ 1 + 4η ln B (dashed, per model), B={budget}\n"
                   "markers: ★ OFTA a*, ■ even, ● random uniform, ▲ random ∝ 1/μ", fontsize=9)
    left.legend(fontsize=LEGEND_FONT_SIZE)

    regret = {}
    model_styles = ("-", "-.", "--")
    for model_index, name in enumerate(settings["regret_models"]):
        model = resolve_time_model(name, settings["regret_workers"], settings["regret_rounds"])
        results = simulate(model, ["ata", "ata-empirical"], budget=budget,
                           num_rounds=settings["regret_rounds"],
                           num_seeds=settings["regret_seeds"], seed=settings["seed"],
                           record_rounds=True)
        rounds = np.arange(1, settings["regret_rounds"] + 1)
        style = model_styles[model_index % len(model_styles)]
        for policy in ("ata", "ata-empirical"):
            cumulative = np.cumsum(results[policy].per_round.regret, axis=1)
            mean = cumulative.mean(axis=0)
            tail = rounds >= max(2, settings["regret_rounds"] // 10)
            slope, intercept = np.polyfit(np.log(rounds[tail]), mean[tail], 1)
            right.plot(rounds, mean, style, color=POLICY_COLOURS[policy],
                       label=f"{policy}, {name}")
            right.plot(rounds[tail], intercept + slope * np.log(rounds[tail]), ":",
                       color="black", linewidth=1)
            regret[f"{policy}-{name}"] = {"final_mean": float(mean[-1]),
                                          "final_std": float(cumulative[:, -1].std(ddof=1)),
                                          "ln_fit_slope": float(slope),
                                          "ln_fit_intercept": float(intercept),
                                          "curve_every_10": mean[::10]}
            print(f"R_K {policy:<14} {name:<14} {mean[-1]:.4g}; fit over the last decade: "
                  f"{intercept:.4g} + {slope:.4g} ln k")
    right.set_xscale("log")
    right.set_xlabel("round k (log scale)")
    right.set_ylabel("mean cumulative proxy regret R_k")
    right.set_title(f"(b) R_k against ln k: n={settings['regret_workers']}, B={budget}, "
                    f"{settings['regret_seeds']} seeds; dotted: c₀ + c₁ ln k fitted on the "
                    "last decade", fontsize=9)
    right.legend(fontsize=LEGEND_FONT_SIZE)
    figure.tight_layout()
    return save_figure(figure, out_dir, "theory", settings, {"lemma": lemma, "regret": regret})
