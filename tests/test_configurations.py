"""Worker configurations as a batch axis: stacked models give each configuration exactly its
run alone, one compile per policy serves a whole batch, random clusters are reproducible one
by one, and the command line's lists, JSON and errors."""

import dataclasses
import json

import numpy as np
import pytest

from ata_jax.cli import main
from ata_jax.compilation import TRACE_COUNTS
from ata_jax.configurations import (ConfigurationError, batch_signature, pad_model,
                                    random_cluster, random_clusters, stack_models)
from ata_jax.schedules import make_schedule
from ata_jax.simulate import simulate
from ata_jax.timemodels import cifar, cifar_swap, heterogeneous, sqrt

BUDGET, ROUNDS, SEEDS = 3, 25, 2
TRACE = "ata_jax/data/traces/mlp-2cpu.csv"


def failing(model, timeout):
    n = model.size
    return dataclasses.replace(model, schedule=make_schedule(
        n, fail_start=[0, 3] + [0] * (n - 2), fail_rounds=[0, 4] + [0] * (n - 2),
        timeout=timeout))


def assert_as_run_alone(together, models, policies, ulps=2, **settings):
    """Every total and every round of each configuration equals its run alone, to `ulps`
    float32 units in the last place: the batch is another XLA program, and XLA's CPU
    compiler contracts multiply-adds (ours and those inside log1p, ndtri) into FMAs
    differently in different programs (docs/performance.md). A time that is a difference
    (the idle time, used·C − worker time) is held to ulps of the worker time it cancels."""
    eps = np.finfo(np.float32).eps
    for index, model in enumerate(models):
        alone = simulate(model, policies, **settings)
        for name in policies:
            for record in ("totals", "per_round"):
                expected, got = getattr(alone[name], record), getattr(together[index][name],
                                                                       record)
                scale = ulps * eps * np.abs(np.asarray(expected.worker_time))
                for field in expected._fields:
                    atol = np.max(scale) if field == "idle_time" else 0.0
                    np.testing.assert_allclose(
                        getattr(got, field), getattr(expected, field), rtol=ulps * eps,
                        atol=atol, err_msg=f"{index} {name} {field} ({record})")


@pytest.mark.slow
@pytest.mark.parametrize("models, policies", [
    ([cifar(6), sqrt(6), random_cluster(6, 1.5, 2), cifar(5)],
     ["ata-empirical", "gta", "uta", "ata-window"]),
    ([failing(cifar(6), 400.0), failing(sqrt(6), 300.0)], ["ata", "gta", "ofta-moving"]),
    ([cifar_swap(6, ROUNDS), cifar_swap(6, ROUNDS)], ["ata", "uta", "ofta-moving"]),
], ids=["stationary", "failures", "schedules"])
def test_each_configuration_equals_its_run_alone(models, policies):
    settings = dict(budget=BUDGET, num_rounds=ROUNDS, num_seeds=SEEDS, record_rounds=True)
    together = simulate(models, policies, **settings)
    assert len(together) == len(models)
    assert_as_run_alone(together, models, policies, **settings)


def stragglers(model):
    return dataclasses.replace(model, schedule=make_schedule(
        model.size, straggle_probability=0.3, straggle_factor=4.0))


@pytest.mark.slow
@pytest.mark.parametrize("models, policies", [
    # across the solver's n = 128 switch, with GTA's race pruned when alone (n > 4B)
    ([cifar(5), random_cluster(131, 1.0, 0)], ["ata", "ata-empirical", "gta", "uta", "ofta"]),
    ([failing(cifar(6), 400.0), failing(sqrt(131), 300.0)], ["ata", "gta"]),
    ([stragglers(cifar(4)), stragglers(sqrt(131))], ["ata-empirical", "gta", "ofta-moving"]),
], ids=["stationary", "failures", "stragglers"])
def test_a_padded_configuration_equals_its_run_alone(models, policies):
    """Mixed n in one batch: the smaller configurations are padded with absent workers, and
    each one's every total and round is its run alone to float32 rounding (common random
    numbers: a task's time depends on (seed, round, worker, slot) only)."""
    settings = dict(budget=BUDGET, num_rounds=ROUNDS, num_seeds=SEEDS, record_rounds=True)
    before = TRACE_COUNTS.copy()
    together = simulate(models, policies, **settings)
    largest = max(model.size for model in models)
    for name in policies:  # one batch, at the largest n
        key = ("simulate", name, largest, BUDGET)
        assert TRACE_COUNTS[key] - before[key] == 1, name
    assert_as_run_alone(together, models, policies, **settings)


def test_padding_adds_workers_that_are_never_used():
    padded = pad_model(failing(cifar(3), 100.0), 5)
    np.testing.assert_array_equal(padded.present, [True] * 3 + [False] * 2)
    np.testing.assert_array_equal(padded.mean[3:], np.inf)
    np.testing.assert_array_equal(padded.schedule.fail_start[3:], 0)  # never down
    assert padded.alpha == cifar(3).alpha and padded.eta == cifar(3).eta
    stacked = stack_models([cifar(3), sqrt(5)])
    assert stacked.family.shape == (2, 5)
    np.testing.assert_array_equal(stacked.present, [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    with pytest.raises(ConfigurationError, match="cannot pad"):
        pad_model(cifar(5), 3)
    # UTA and OFTA never load an absent worker; GTA's worker time counts the present ones
    results = simulate([cifar(2), cifar(40)], ["uta", "ofta", "gta"], budget=7, num_rounds=5,
                       num_seeds=2, record_rounds=True)
    for name in ("uta", "ofta"):
        assert results[0][name].workers_used.max() <= 2 * 5
    np.testing.assert_allclose(results[0]["gta"].worker_time, 2 * results[0]["gta"].runtime,
                               rtol=1e-6)


def test_a_prior_for_configurations_of_different_n():
    """A prior of one number serves every n; one of n numbers only that n (a clear error)."""
    models = [cifar(3), cifar(5)]
    settings = dict(budget=BUDGET, num_rounds=8, num_seeds=SEEDS)
    together = simulate(models, ["ata"], prior_mean=50.0, prior_count=2.0, **settings)
    for model, result in zip(models, together):
        alone = simulate(model, ["ata"], prior_mean=50.0, prior_count=2.0, **settings)
        np.testing.assert_allclose(result["ata"].runtime, alone["ata"].runtime,
                                   rtol=2 * np.finfo(np.float32).eps)
    with pytest.raises(ValueError, match="5 numbers"):
        simulate(models, ["ata"], prior_mean=[50.0] * 3, **settings)


def test_a_batch_of_one_n_and_family_set_is_one_compile_per_policy():
    models = [cifar(7), sqrt(7)] + [model for _, model in random_clusters(7, [0.5, 2.0], 3)]
    assert len({batch_signature(model) for model in models}) == 1
    before = TRACE_COUNTS.copy()
    results = simulate(models, ["ata-empirical", "ofta"], budget=BUDGET, num_rounds=10,
                       num_seeds=SEEDS)
    for name in ("ata-empirical", "ofta"):
        assert TRACE_COUNTS[("simulate", name, 7, BUDGET)] - before[
            ("simulate", name, 7, BUDGET)] == 1
    # each configuration's own true η and α (traced): identical presets differ only by them
    runtimes = [result["ofta"].runtime.mean() for result in results]
    assert len(set(runtimes)) == len(models)


def test_random_clusters_are_reproducible_one_by_one():
    few = random_clusters(9, [0.0, 1.0], 2, seed=4)
    many = random_clusters(9, [1.0], 5, seed=4)
    alone = random_cluster(9, 1.0, 1, seed=4)
    np.testing.assert_array_equal(few[3][1].mean, many[1][1].mean)
    np.testing.assert_array_equal(alone.mean, many[1][1].mean)
    assert few[3][0] == {"cluster": 1, "heterogeneity": 1.0, "cluster_seed": 4}
    np.testing.assert_allclose(few[0][1].mean, 58.0)  # σ = 0: identical workers
    # the cifar shape: X = μ/2 + Exp(mean μ/2), so the ψ1-based η is the cifar model's
    assert alone.eta == pytest.approx(cifar(9).eta)
    other_seed = random_cluster(9, 1.0, 1, seed=5)
    assert not np.array_equal(other_seed.mean, alone.mean)
    with pytest.raises(ConfigurationError, match="heterogeneity"):
        random_cluster(9, -0.5, 0)
    with pytest.raises(ConfigurationError, match=">= 1"):
        random_clusters(9, [1.0], 0)


def test_configurations_that_cannot_share_a_batch_are_named():
    from ata_jax.modelfile import resolve_time_model

    trace = resolve_time_model(TRACE, None)
    with pytest.raises(ConfigurationError, match="replayed trace"):
        stack_models([trace, trace])
    with pytest.raises(ConfigurationError, match="schedules of different kinds"):
        stack_models([cifar(6), failing(cifar(6), 100.0)])
    with pytest.raises(ConfigurationError, match="no configurations"):
        stack_models([])
    # a different family set is its own batch (exact results), not an error
    assert batch_signature(heterogeneous(6)) != batch_signature(cifar(6))


def run(capsys, *arguments):
    code = main(["simulate", "--budget", str(BUDGET), "--rounds", "8", "--seeds", "2",
                 *arguments])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_command_line_runs_the_cross_product(tmp_path, capsys):
    out = tmp_path / "configurations.json"
    code, stdout, stderr = run(capsys, "--time-model", "cifar,sqrt", "--workers", "5,6",
                               "--random-clusters", "2", "--heterogeneity", "0.5,1",
                               "--policies", "ofta,gta", "--out", str(out))
    assert code == 0, stderr
    document = json.loads(out.read_text())
    labels = [(entry["config"]["time_model"], entry["config"]["workers"])
              for entry in document["configurations"]]
    assert labels == [("cifar", 5), ("cifar", 6), ("sqrt", 5), ("sqrt", 6)] + [
        ("random-cluster", n) for n in (5, 6) for _ in range(4)]
    assert document["config"]["configurations"] == 12 and document["complete"]
    assert document["timing"]["compiles"] == 2  # two policies, one padded batch each
    entry = document["configurations"][2]
    alone = simulate(sqrt(5), ["ofta", "gta"], budget=BUDGET, num_rounds=8, num_seeds=2)
    assert entry["policies"]["gta"]["runtime"] == alone["gta"].summary()["runtime"]
    assert entry["config"]["true_alpha"] == pytest.approx(sqrt(5).alpha)
    cluster = document["configurations"][-1]["config"]
    assert (cluster["cluster"], cluster["heterogeneity"]) == (1, 1.0)
    assert stdout.count("time model") == 8 and "4 more configurations" in stdout


def test_one_configuration_keeps_the_single_run_json(tmp_path, capsys):
    out = tmp_path / "one.json"
    code, _, stderr = run(capsys, "--policies", "ofta", "--workers", "5", "--out", str(out))
    assert code == 0, stderr
    document = json.loads(out.read_text())
    assert "configurations" not in document and document["config"]["workers"] == 5
    assert document["timing"]["compiles"] in (0, 1)  # 0 when an earlier test compiled it


@pytest.mark.parametrize("arguments, words", [
    (["--heterogeneity", "1"], "--heterogeneity needs --random-clusters"),
    (["--random-clusters", "2", "--heterogeneity", "-1"], "must lie in [0, 20]"),
    (["--random-clusters", "0"], "--random-clusters: expected an integer >= 1"),
    (["--time-model", "cifar,,sqrt"], "expected a comma list"),
    (["--workers", "5,x"], "expected a comma list of integers"),
    (["--time-model", f"cifar,{TRACE}", "--workers", "5,6"], "not in --workers 5,6"),
])
def test_bad_configuration_lists_are_one_line(capsys, arguments, words):
    code, _, stderr = run(capsys, "--policies", "gta", *arguments)
    assert code == 2 and words in stderr and len(stderr.strip().splitlines()) == 1


def test_a_duplicate_configuration_is_warned_about(capsys):
    code, _, stderr = run(capsys, "--policies", "gta", "--time-model", "cifar,cifar",
                          "--workers", "5")
    assert code == 0 and "listed twice" in stderr


def test_chunks_that_fit_the_memory_budget_change_no_result():
    from ata_jax.memory import bytes_per_run

    models = [cifar(6), sqrt(6), random_cluster(6, 1.0, 0)]
    settings = dict(budget=BUDGET, num_rounds=12, num_seeds=5, record_rounds=True)
    run_bytes = bytes_per_run("ata-empirical", models[0], budget=BUDGET, num_rounds=12,
                              record_rounds=True, per_run_model=True)
    lines = []
    chunked = simulate(models, ["ata-empirical"], memory_mb=4 * run_bytes / 2**20,
                       progress=lines.append, **settings)
    assert len(lines) >= 3 and "chunk 1/" in lines[0]  # 15 runs, 4 per chunk
    whole = simulate(models, ["ata-empirical"], **settings)
    for one, other in zip(chunked, whole):
        for field in one["ata-empirical"].totals._fields:
            np.testing.assert_array_equal(getattr(one["ata-empirical"].totals, field),
                                          getattr(other["ata-empirical"].totals, field))
        np.testing.assert_array_equal(one["ata-empirical"].per_round.round_time,
                                      other["ata-empirical"].per_round.round_time)
    alone = simulate(cifar(6), ["ata-empirical"], memory_mb=2 * run_bytes / 2**20, **settings)
    np.testing.assert_array_equal(alone["ata-empirical"].runtime,
                                  whole[0]["ata-empirical"].runtime)
    with pytest.raises(ValueError, match="memory budget"):
        simulate(cifar(6), ["ata-empirical"], memory_mb=1e-6, **settings)


def test_a_run_that_cannot_fit_is_one_line_before_any_work(capsys):
    code, _, stderr = run(capsys, "--policies", "gta", "--memory-mb", "0.000001")
    assert code == 2 and "memory budget" in stderr and len(stderr.strip().splitlines()) == 1
    # both sizes are shown with their digits, not rounded to 0.0 MB
    assert "budget of 1e-06 MB" in stderr and " 0.0 MB" not in stderr, stderr


@pytest.mark.parametrize("workers", ["5", "5,7"])
def test_a_later_policy_that_cannot_fit_stops_the_run_before_the_first(capsys, workers):
    """ata-window's window makes its runs the largest: the run stops before gta is compiled
    or run (no progress line, no table), for one model and for a batch of configurations."""
    code, out, stderr = run(capsys, "--policies", "gta,ata-window", "--memory-mb", "0.01",
                            "--rounds", "1000", "--workers", workers)
    assert code == 2 and "one run of ata-window" in stderr, stderr
    assert "gta" not in stderr and out == ""
