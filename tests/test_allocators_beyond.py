"""The allocators beyond the paper (spec §9): msync and explore-then-commit against NumPy
replays of the same task draws, Thompson sampling's exploration and convergence, the
expected-time oracle against an independent Monte Carlo, the expected-time regret, and the
earlier poster's confidence."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ata_jax import numpy_reference
from ata_jax.simulate import seed_keys, simulate
from ata_jax.timemodels import cifar, task_times


def round_task_keys(seed: int, num_seeds: int, num_rounds: int):
    """The task key of every (seed, round), as `simulate` derives them."""
    keys = seed_keys(seed, num_seeds)
    return [[jax.random.fold_in(jax.random.fold_in(keys[s], k), 0)
             for k in range(1, num_rounds + 1)] for s in range(num_seeds)]


def draws(model, key, worker, slot, budget, round_number):
    return np.asarray(task_times(model, key, jnp.asarray(worker, jnp.int32),
                                 jnp.asarray(slot, jnp.int32), budget, round_number), np.float64)


# ----------------------------------------------------------------------------- msync

def msync_replay(model, budget, num_rounds, num_seeds, down=lambda k: np.zeros(0, int)):
    """Per seed and round: the B-th smallest completion of every live worker's ⌈B/n⌉
    back-to-back tasks (NumPy, float64), and n_live × that."""
    n = model.size
    per_worker = -(-budget // n)
    rounds = np.zeros((num_seeds, num_rounds))
    workers = np.zeros((num_seeds, num_rounds))
    for s, keys in enumerate(round_task_keys(0, num_seeds, num_rounds)):
        for k, key in enumerate(keys, start=1):
            worker = np.repeat(np.arange(n), per_worker)
            slot = np.tile(np.arange(per_worker), n)
            completion = np.cumsum(draws(model, key, worker, slot, budget, k).reshape(
                n, per_worker), axis=1)
            completion[down(k)] = np.inf
            rounds[s, k - 1] = np.sort(completion.ravel())[budget - 1]
            workers[s, k - 1] = n - len(down(k))
    return rounds, workers * rounds


@pytest.mark.parametrize("n, budget", [(9, 4), (5, 12)])
def test_msync_equals_a_numpy_replay_of_the_same_draws(n, budget):
    model = cifar(n)
    result = simulate(model, ["msync"], budget=budget, num_rounds=12, num_seeds=2,
                      record_rounds=True)["msync"]
    round_time, worker_time = msync_replay(model, budget, 12, 2)
    np.testing.assert_allclose(result.per_round.round_time, round_time, rtol=1e-6)
    np.testing.assert_allclose(result.per_round.worker_time, worker_time, rtol=1e-6)
    np.testing.assert_allclose(result.runtime, round_time.sum(axis=1), rtol=1e-6)
    assert np.isnan(result.regret).all()  # it plays no allocation: no proxy regret


def test_msync_with_failed_workers_and_in_a_padded_batch():
    from ata_jax.allocators.msync import check_budget
    from ata_jax.schedules import make_schedule

    n, budget = 8, 5
    failing = dataclasses.replace(cifar(n), schedule=make_schedule(
        n, fail_start=[2, 0, 0, 3] + [0] * (n - 4), fail_rounds=[3, 0, 0, 1] + [0] * (n - 4),
        timeout=500.0))
    result = simulate(failing, ["msync"], budget=budget, num_rounds=6, num_seeds=2,
                      record_rounds=True)["msync"]
    down = lambda k: np.array([i for i, (start, length) in enumerate([(2, 3), (0, 0), (0, 0),
                                                                       (3, 1)])
                               if start and start <= k < start + length], int)
    round_time, worker_time = msync_replay(failing, budget, 6, 2, down)
    np.testing.assert_allclose(result.per_round.round_time, round_time, rtol=1e-6)
    np.testing.assert_allclose(result.per_round.worker_time, worker_time, rtol=1e-6)
    with pytest.raises(ValueError, match="msync cannot serve B = 8"):
        check_budget(failing, 8, 6)
    # a configuration of 3 workers beside one of 9 draws ⌈5/3⌉ = 2 tasks each, as alone
    alone = simulate(cifar(3), ["msync"], budget=budget, num_rounds=6, num_seeds=2)["msync"]
    batched = simulate([cifar(3), cifar(9)], ["msync"], budget=budget, num_rounds=6,
                       num_seeds=2)[0]["msync"]
    np.testing.assert_allclose(batched.runtime, alone.runtime, rtol=1e-6)


# ----------------------------------------------------------------------------- explore-commit

def explore_commit_replay(model, budget, samples, num_rounds, num_seeds):
    """Per seed and round the round time: round-robin over the workers until each has
    `samples` tasks, then the proxy optimum of the means seen so far, forever."""
    n = model.size
    rounds = np.zeros((num_seeds, num_rounds))
    for s, keys in enumerate(round_task_keys(0, num_seeds, num_rounds)):
        total, count, given, committed = np.zeros(n), np.zeros(n), 0, None
        for k, key in enumerate(keys, start=1):
            if committed is None and count.min() >= samples:
                committed = numpy_reference.allocate(total / count, budget).reshape(-1)
            if committed is None:
                worker = (given + np.arange(budget)) % n
                given += budget
            else:
                worker = np.repeat(np.arange(n), committed)
            slot = np.array([np.sum(worker[:t] == worker[t]) for t in range(budget)])
            times = draws(model, key, worker, slot, budget, k)
            busy = np.bincount(worker, times, minlength=n)
            rounds[s, k - 1] = busy.max()
            if committed is None:
                total += busy
                count += np.bincount(worker, minlength=n)
    return rounds


def test_explore_commit_equals_a_numpy_replay_of_the_same_draws():
    model, budget, samples = cifar(7), 3, 4
    result = simulate(model, ["explore-commit"], budget=budget, num_rounds=25, num_seeds=2,
                      explore_samples=samples, record_rounds=True)["explore-commit"]
    expected = explore_commit_replay(model, budget, samples, 25, 2)
    np.testing.assert_allclose(result.per_round.round_time, expected, rtol=1e-6)
    # it explores for ⌈m·n/B⌉ rounds, then plays one allocation
    exploring = math.ceil(samples * 7 / budget)
    assert np.all(result.per_round.regret[:, exploring + 1:]
                  == result.per_round.regret[:, exploring + 1:][:, :1])


# ----------------------------------------------------------------------------- thompson

def test_thompson_tries_every_worker_and_converges_to_the_proxy_optimum():
    from ata_jax.allocators import Hyperparameters, make_policy, policy_spec

    n, budget = 12, 5
    model = cifar(n)
    allocator_policy = make_policy("thompson", budget)
    assert policy_spec("thompson").reads == ("spread",)
    state = allocator_policy.init(model, Hyperparameters(1.0, 1.0, spread=jnp.float32(1.0)))
    play = jax.jit(allocator_policy.play_round)
    key = jax.random.key(3)
    for k in range(1, math.ceil(n / budget) + 1):
        state, _ = play(state, jnp.int32(k), jax.random.fold_in(key, 2 * k),
                        jax.random.fold_in(key, 2 * k + 1), model)
    assert np.all(np.asarray(state.statistics.count) > 0)  # every worker tried
    result = simulate(model, ["thompson"], budget=budget, num_rounds=3000, num_seeds=4,
                      record_rounds=True)["thompson"]
    late = result.per_round.regret[:, -300:]
    assert np.mean(late == 0) > 0.9, np.mean(late == 0)  # the proxy optimum's loss


# ----------------------------------------------------------------------------- ofta-expected

def test_the_expected_time_optimum_is_a_local_minimum_of_an_independent_monte_carlo():
    """On `cifar`, n = 51, B = 23 (spec §9: near (10,5,3,2,1,1,1), E[C] ≈ 728 against OFTA's
    ≈ 779): a NumPy Monte Carlo with its own draws scores a*_E, every allocation one move
    away and a*_ℓ; a*_E must be the lowest within 3 standard errors of each difference."""
    from ata_jax.expected import expected_optimum

    n, budget = 51, 23
    found = expected_optimum(cifar(n), budget)
    allocation = np.asarray(found.allocation)
    assert allocation.sum() == budget
    np.testing.assert_array_equal(allocation[:7], [10, 5, 3, 2, 1, 1, 1])
    rng = np.random.default_rng(11)
    samples, considered = 40_000, 12  # workers 13.. have μ ≥ 754 > E[C(a*_E)]: never useful
    mean = 29.0 * np.arange(1, considered + 1)
    prefix = np.concatenate([np.zeros((samples, considered, 1), np.float32), np.cumsum(
        (mean[None, :, None] * (1 + rng.exponential(size=(samples, considered, budget)))
         ).astype(np.float32), axis=2)], axis=2)
    round_times = lambda counts: prefix[:, np.arange(considered), counts].max(axis=1)
    best = round_times(allocation[:considered])
    assert abs(best.mean() - 728.0) < 3.0 + 3 * best.std() / math.sqrt(samples)
    assert found.round_time == pytest.approx(best.mean(), abs=4 * float(found.standard_error))
    neighbours = []
    for source in np.flatnonzero(allocation[:considered]):
        for destination in range(considered):
            if destination != source:
                counts = allocation[:considered].copy()
                counts[source] -= 1
                counts[destination] += 1
                neighbours.append(counts)
    proxy = numpy_reference.allocate(29.0 * np.arange(1, n + 1), budget).reshape(-1)[:considered]
    for counts in neighbours + [proxy]:
        difference = round_times(counts) - best
        assert difference.mean() > -3 * difference.std() / math.sqrt(samples), counts
    assert (round_times(proxy) - best).mean() > 40  # E[C(a*_ℓ)] − E[C(a*_E)] ≈ 50


@pytest.mark.slow
def test_the_expected_time_regret_is_zero_for_the_oracle_and_oftas_gap_per_round():
    from ata_jax.expected import expected_optimum

    model, budget, rounds = cifar(12), 5, 400
    found = expected_optimum(model, budget)
    results = simulate(model, ["ofta-expected", "ofta", "gta"], budget=budget,
                       num_rounds=rounds, num_seeds=8, expected_regret=True,
                       expected_optimum=found)
    assert np.all(results["ofta-expected"].expected_regret == 0.0)
    gap = results["ofta"].expected_regret / rounds  # per round: E[C(a*_ℓ)] − E[C(a*_E)]
    search_gap = float(found.proxy_round_time - found.round_time)
    standard_error = gap.std(ddof=1) / math.sqrt(gap.size) + float(found.standard_error)
    assert abs(gap.mean() - search_gap) < 4 * standard_error + 1.0
    # GTA races: no allocation, but a runtime to compare
    np.testing.assert_allclose(results["gta"].expected_regret,
                               results["gta"].runtime - results["ofta-expected"].runtime,
                               rtol=1e-5)
    assert np.isnan(simulate(model, ["ofta"], budget=budget, num_rounds=5,
                             num_seeds=2)["ofta"].expected_regret).all()  # off by default


def test_a_configuration_batch_searches_each_models_own_optimum():
    from ata_jax.expected import expected_optima, expected_optimum

    models = [cifar(12), cifar(30)]
    batch = expected_optima(models, 5)
    for model, found in zip(models, batch):
        alone = expected_optimum(model, 5)
        np.testing.assert_array_equal(found.allocation, alone.allocation)
        assert found.round_time == pytest.approx(float(alone.round_time), rel=1e-6)


# ----------------------------------------------------------------------------- confidence

def test_uncentred_norms_match_monte_carlo_and_the_poster():
    from ata_jax import psi1
    from ata_jax.timemodels import uncentred_alpha

    assert psi1.uncentred_norm("exponential", [29.0, 29.0, 0, 0]) / 29 == pytest.approx(
        3.1754, abs=1e-4)  # spec §9: ‖1 + Exp(1)‖_ψ1
    assert uncentred_alpha(cifar(51)) == pytest.approx(3.1754 * 29 * 51, rel=1e-4)
    rng = np.random.default_rng(5)
    size = 2_000_000
    for family, row, sample in [
            ("uniform", [1.0, 3.0, 0, 0], rng.uniform(1, 3, size)),
            ("half-normal", [1.0, 2.0, 0, 0], 1 + 2 * np.abs(rng.normal(size=size))),
            ("gamma", [1.0, 2.0, 3.0, 0], 1 + rng.gamma(2.0, 3.0, size))]:
        assert psi1.uncentred_norm(family, row) == pytest.approx(
            psi1.empirical_uncentred_norm(sample), rel=3e-3), family
    assert psi1.uncentred_norm("constant", [3.0, 0, 0, 0]) == pytest.approx(3 / math.log(2))


def test_the_early_confidence_widens_atas_bound_by_2e():
    from ata_jax.allocators import ata
    from ata_jax.allocators.confidence import SampleStatistics

    statistics = SampleStatistics(jnp.array([10.0, 5.0]), jnp.array([100.0, 400.0]))
    final = ata.lcb(statistics, 10, 1.0)
    early = ata.lcb(statistics, 10, 1.0, factor=ata.CONFIDENCE_FACTORS["early"])
    np.testing.assert_allclose((np.asarray(statistics.mean) - early)
                               / (np.asarray(statistics.mean) - final), 2 * math.e, rtol=1e-4)


@pytest.mark.slow
def test_the_command_line_runs_the_new_allocators(tmp_path):
    import json

    from ata_jax.cli import main
    from ata_jax.timemodels import uncentred_alpha

    out = tmp_path / "run.json"
    assert main(["simulate", "--workers", "6", "--budget", "3", "--rounds", "20", "--seeds",
                 "2", "--policies", "thompson,explore-commit,msync,ofta-expected,ata",
                 "--explore-samples", "2", "--spread", "0.5", "--confidence", "early",
                 "--expected-regret", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    config = document["config"]
    assert config["confidence"] == "early" and config["explore_samples"] == 2
    assert config["alpha"] == pytest.approx(uncentred_alpha(cifar(6)), rel=1e-6)
    assert sum(config["expected_optimum"]["allocation"]) == 3
    assert document["policies"]["ofta-expected"]["expected_regret"] == 0.0
    assert document["policies"]["msync"]["regret"] is None


@pytest.mark.parametrize("arguments, needle", [
    (["--explore-samples", "0"], "--explore-samples"),
    (["--explore-samples", "2.5"], "--explore-samples"),
    (["--spread", "-1"], "--spread"),
    (["--spread", "nan"], "--spread"),
    (["--confidence", "early", "--policies", "ata,ata-empirical"],
     "ata-empirical has no such variant"),
    (["--confidence", "late"], "--confidence"),
    (["--time-model", "cifar-swap", "--policies", "ofta-expected"], "stationary model"),
])
def test_bad_allocator_settings_get_one_line(fails_with_one_line, arguments, needle):
    fails_with_one_line(["simulate", "--workers", "6", "--budget", "3", "--rounds", "5",
                         *arguments], needle)


@pytest.mark.parametrize("arguments, needle", [
    (["--time-model", "cifar-swap", "--policies", "ofta-expected"], "stationary model"),
    (["--policies", "msync", "--workers", "2", "--budget", "3"], None),
])
def test_train_checks_the_allocators_before_training(capsys, arguments, needle):
    """train refuses what simulate refuses, before its training run (no progress line)."""
    from ata_jax.cli import main

    code = main(["train", "--workers", "6", "--budget", "3", "--rounds", "5", "--seeds", "2",
                 *arguments])
    error = capsys.readouterr().err
    if needle is None:  # a budget msync serves (2 tasks each): it trains
        assert code == 0, error
        return
    assert code == 2 and error.count("\n") == 1 and needle in error, error
    assert "training" not in error


def test_the_eta_for_the_posters_ratio_is_interpolated_in_log_log():
    from ata_jax.figures.cifar import interpolated_crossing

    assert interpolated_crossing([1, 2, 4], [1.0, 2.0, 4.0], 3.0) == pytest.approx(3.0)
    assert interpolated_crossing([1, 2, 4], [1.0, 1.5, 2.0], 1.0) == pytest.approx(1.0)
    assert interpolated_crossing([1, 2, 4], [1.0, 2.0, 4.0], 5.0) is None
