"""Non-stationary models: multipliers, scheduled draws, cifar-swap, discounted and moving allocators."""

import dataclasses
import json
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ata_jax.cli import main
from ata_jax.modelfile import load_model_file, resolve_time_model
from ata_jax.schedules import ScheduleError, deterministic_multiplier, make_schedule
from ata_jax.simulate import simulate
from ata_jax.timemodels import ModelError, cifar, current_means, task_times


def test_deterministic_multiplier_matches_the_formula():
    schedule = make_schedule(3, change_round=5, change_factor=[2.0, 1.0, 0.5], drift=0.01,
                             period=8.0, amplitude=[0.0, 0.5, 0.25], phase=0.3)
    for k in (1, 4, 5, 9, 20):
        got = np.asarray(deterministic_multiplier(schedule, k, jnp.arange(3)))
        change = np.where(k >= 5, [2.0, 1.0, 0.5], 1.0)
        wave = 1 + np.array([0.0, 0.5, 0.25]) * np.sin(2 * np.pi * (k - 1) / 8 + 0.3)
        np.testing.assert_allclose(got, change * (1 + 0.01 * (k - 1)) * wave, rtol=1e-5)


def test_scheduled_draws_have_the_scheduled_means():
    n, slots, rounds = 3, 8, 4000
    schedule = make_schedule(n, change_round=3, change_factor=[1.0, 3.0, 1.0],
                             straggle_probability=[0.0, 0.0, 0.2], straggle_factor=5.0)
    model = dataclasses.replace(cifar(n), schedule=schedule)

    def one_round(key, k):
        worker = jnp.repeat(jnp.arange(n), slots)
        return task_times(model, key, worker, jnp.tile(jnp.arange(slots), n), slots,
                          k).reshape(n, slots)

    keys = jax.random.split(jax.random.key(0), rounds)
    for k in (1, 10):
        draws = np.asarray(jax.jit(jax.vmap(lambda key: one_round(key, k)))(keys))
        # tasks of one worker in one round share its straggle draw: average per round first
        per_round = draws.mean(axis=2)
        mean, error = per_round.mean(0), per_round.std(0, ddof=1) / math.sqrt(rounds)
        expected = np.asarray(current_means(model, k))
        assert (np.abs(mean - expected) < 5 * error).all(), (k, mean, expected)
    np.testing.assert_allclose(current_means(model, 10), [58.0, 3 * 116.0, 174.0 * 1.8],
                               rtol=1e-6)


def test_cifar_swap_reverses_the_means_in_the_second_half():
    model = resolve_time_model("cifar-swap", 5, num_rounds=100)
    np.testing.assert_allclose(current_means(model, 50), 58.0 * np.arange(1, 6), rtol=1e-6)
    np.testing.assert_allclose(current_means(model, 51), 58.0 * np.arange(5, 0, -1), rtol=1e-6)


@pytest.mark.slow
def test_discounted_learners_adapt_after_the_swap_and_the_moving_oracle_follows():
    rounds = 2000
    model = resolve_time_model("cifar-swap", 51, num_rounds=rounds)
    results = simulate(model, ("ata-empirical", "ata-empirical-discounted", "ofta",
                               "ofta-moving"), num_rounds=rounds, num_seeds=16, discount=0.998)
    late = {name: r.runtime_second_half.mean() / (rounds // 2) for name, r in results.items()}
    assert late["ata-empirical-discounted"] < 0.85 * late["ata-empirical"]  # measured: 0.71
    assert late["ofta"] > 10 * late["ofta-moving"]  # the fixed oracle is now wrong
    assert late["ofta-moving"] == pytest.approx(780.0, rel=0.03)  # the swapped OFTA
    np.testing.assert_allclose(results["ofta-moving"].regret, 0.0, atol=1e-2)


@pytest.mark.slow
def test_discount_one_is_the_plain_learner():
    model = cifar(9)
    settings = dict(budget=4, num_rounds=60, num_seeds=4, seed=5, discount=1.0)
    for base in ("ata", "ata-empirical"):
        results = simulate(model, (base, f"{base}-discounted"), **settings)
        np.testing.assert_allclose(results[f"{base}-discounted"].runtime,
                                   results[base].runtime, rtol=1e-6)


@pytest.mark.parametrize("fields,message", [
    (dict(amplitude=1.0, period=4.0), "amplitude must be in"),
    (dict(straggle_probability=1.5), "straggle_probability must be in"),
    (dict(change_factor=[1.0, 2.0]), "one number or 3 numbers"),
    (dict(change_round=-1), "change_round must be an integer >= 0"),
    (dict(period=-2.0), "period must be >= 0"),
    (dict(drift=-0.5), "non-positive before round 10"),
    (dict(speed=2.0), "unknown field"),
    (dict(change_factor="x"), "finite numbers"),
    (dict(change_factor=1e30), r"change_factor must lie in \[1e-06, 1e\+06\]"),
    (dict(change_factor=0.0), "change_factor must lie in"),
    (dict(straggle_probability=0.1, straggle_factor=1e7), "straggle_factor must lie in"),
    (dict(drift=1e6), "more than 1e\\+06-fold by round 10"),
])
def test_invalid_schedules_are_rejected(fields, message):
    with pytest.raises(ScheduleError, match=message):
        make_schedule(3, num_rounds=10, **fields)


@pytest.mark.slow
def test_model_file_schedule_and_cli(tmp_path, capsys):
    path = tmp_path / "load.json"
    path.write_text(json.dumps({"workers": [{"family": "exponential", "mean": 2, "count": 4}],
                                "schedule": {"change_round": 3, "change_factor": 2.0}}))
    model = load_model_file(str(path))
    np.testing.assert_allclose(current_means(model, 3), 4.0)
    path.write_text(json.dumps({"workers": [{"family": "constant", "value": 1}],
                                "schedule": {"amplitude": 2.0}}))
    with pytest.raises(ModelError, match="amplitude"):
        load_model_file(str(path))
    out = tmp_path / "swap.json"
    code = main(["simulate", "--time-model", "cifar-swap", "--workers", "6", "--budget", "3",
                 "--rounds", "10", "--seeds", "2", "--policies",
                 "ata-discounted,ata-window,ofta-moving", "--discount", "0.9", "--window", "4",
                 "--out", str(out)])
    assert code == 0
    document = json.loads(out.read_text())
    assert document["config"]["discount"] == 0.9 and document["config"]["scheduled"]
    assert document["config"]["window"] == 4 and "ata-window" in document["policies"]
    assert document["policies"]["ofta-moving"]["runtime_second_half"] > 0
    assert "2nd-half round time" in capsys.readouterr().out
    assert main(["simulate", "--discount", "1.5"]) == 2


@pytest.mark.parametrize("counting", ["task", "round"])
def test_window_statistics_are_those_of_the_last_w_rounds(counting):
    from ata_jax.allocation import Assignment, assignment_counts
    from ata_jax.allocators.confidence import empty_window, observe_window, window_statistics

    n, budget, capacity, size = 5, 3, 8, 3
    rng = np.random.default_rng(0)
    window = empty_window(n, budget, capacity, size)
    history = []
    step = jax.jit(lambda w, k, a, b: observe_window(w, k, a, b, counting))
    for k in range(1, 15):
        workers = rng.integers(0, n, size=budget)
        order = np.argsort(workers, kind="stable")
        workers = workers[order]
        slots = np.array([np.sum(workers[:t] == workers[t]) for t in range(budget)])
        assignment = Assignment(jnp.asarray(workers, jnp.int32), jnp.asarray(slots, jnp.int32))
        busy = rng.uniform(1.0, 10.0, size=n).astype(np.float32)
        window = step(window, k, assignment, jnp.asarray(busy))
        tasks = np.asarray(assignment_counts(assignment, n))
        history.append((tasks, busy))
        recent = history[-size:]
        if counting == "task":
            count = sum(t for t, _ in recent)
            total = sum(np.where(t > 0, b, 0.0) for t, b in recent)
        else:
            count = sum((t > 0).astype(float) for t, _ in recent)
            total = sum(np.where(t > 0, b / np.maximum(t, 1), 0.0) for t, b in recent)
        statistics = window_statistics(window)
        np.testing.assert_allclose(statistics.count, count, atol=1e-5)
        expected = np.where(count > 0, total / np.maximum(count, 1e-9), 0.0)
        np.testing.assert_allclose(statistics.mean, expected, rtol=1e-5)


@pytest.mark.slow
def test_windowed_learner_adapts_after_the_swap():
    rounds = 2000
    model = resolve_time_model("cifar-swap", 51, num_rounds=rounds)
    results = simulate(model, ("ata-empirical", "ata-empirical-window"), num_rounds=rounds,
                       num_seeds=16, window=400)
    late = {name: r.runtime_second_half.mean() for name, r in results.items()}
    assert late["ata-empirical-window"] < 0.85 * late["ata-empirical"]  # measured: 0.71


def test_discount_just_below_one_gives_finite_scores():
    from ata_jax.allocators.confidence import effective_rounds

    for discount in (0.99999994, 0.9999997, 0.999, 0.5):
        rounds = np.asarray(effective_rounds(jnp.arange(1, 50), jnp.float32(discount)))
        assert np.isfinite(rounds).all() and (rounds >= 1.0 - 1e-6).all(), discount


def test_a_changing_model_adds_the_change_following_policies_by_default():
    from ata_jax.cli.simulate import default_policies

    assert default_policies(resolve_time_model("cifar-swap", 4, 20)) == [
        "ata", "ata-empirical", "gta", "uta", "ofta", "ata-empirical-window",
        "ata-empirical-discounted", "ofta-moving"]
    assert default_policies(resolve_time_model("cifar", 4)) == ["ata", "ata-empirical", "gta",
                                                                "uta", "ofta"]
    only_failures = dataclasses.replace(cifar(4), schedule=make_schedule(
        4, fail_start=[3, 0, 0, 0], fail_rounds=[2, 0, 0, 0], timeout=100.0))
    assert default_policies(only_failures) == ["ata", "ata-empirical", "gta", "uta", "ofta"]
    for fields in (dict(drift=0.01), dict(straggle_probability=0.1, straggle_factor=2.0),
                   dict(period=10.0, amplitude=0.5)):
        changing = dataclasses.replace(cifar(4), schedule=make_schedule(4, **fields))
        assert "ofta-moving" in default_policies(changing), fields
