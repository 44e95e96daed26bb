"""Failing workers: the round's timeout-and-reassign rule against a brute-force replay, GTA's
race among the live workers, the wasted time, learners steering away, and bad schedules."""

import dataclasses
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ata_jax.allocation import Assignment
from ata_jax.cli import main
from ata_jax.rounds import greedy_round_time, play_assignment
from ata_jax.schedules import ScheduleError, is_down, make_schedule
from ata_jax.simulate import simulate
from ata_jax.timemodels import cifar, round_key_words, task_times

N, BUDGET, TIMEOUT = 5, 6, 120.0


def failing_model(fail_start=(0, 3, 0, 3, 0), fail_rounds=(0, 4, 0, 2, 0), timeout=TIMEOUT):
    schedule = make_schedule(N, fail_start=list(fail_start), fail_rounds=list(fail_rounds),
                             timeout=timeout)
    return dataclasses.replace(cifar(N), schedule=schedule)


def replay(model, key, counts, round_number):
    """The rule of `ata_jax.rounds`, task by task in plain Python."""
    down = [bool(is_down(model.schedule, round_number, i)) for i in range(N)]
    draw = lambda k, worker, slot: float(task_times(model, k, jnp.int32(worker),
                                                    jnp.int32(slot), BUDGET, round_number))
    own = [sum(draw(key, i, u) for u in range(counts[i])) if not down[i] else 0.0
           for i in range(N)]
    lost = sum(counts[i] for i in range(N) if down[i])
    free = [np.inf if down[i] else max(TIMEOUT, own[i]) for i in range(N)]
    extra = [0] * N
    extra_time = [0.0] * N
    reassign_key = jax.random.fold_in(key, 2)
    for _ in range(lost):
        j = int(np.argmin(free))  # ties: lowest index, as jnp.argmin
        duration = float(task_times(model, reassign_key, jnp.int32(j), jnp.int32(extra[j]),
                                    BUDGET, round_number,
                                    straggle_words=round_key_words(key)))
        free[j] += duration
        extra_time[j] += duration
        extra[j] += 1
    finish = [free[i] if extra[i] else own[i] for i in range(N)]
    held = [down[i] and counts[i] > 0 for i in range(N)]
    used = [(counts[i] > 0 and not down[i]) or extra[i] > 0 for i in range(N)]
    return dict(round_time=max(f for f, d in zip(finish, down) if not d),
                worker_time=sum(own) + sum(extra_time), wasted_time=TIMEOUT * sum(held),
                workers_used=sum(used),
                busy_time=[TIMEOUT * counts[i] if held[i] else own[i] for i in range(N)])


@pytest.mark.parametrize("round_number", [1, 3, 4, 6])
@pytest.mark.parametrize("counts", [(2, 2, 1, 1, 0), (0, 3, 0, 3, 0), (6, 0, 0, 0, 0),
                                    (1, 1, 1, 1, 2)])
def test_timeout_and_reassignment_match_a_task_by_task_replay(counts, round_number):
    model = failing_model()
    key = jax.random.key(round_number * 7 + sum(i * c for i, c in enumerate(counts)))
    worker = np.repeat(np.arange(N), counts).astype(np.int32)
    slot = np.concatenate([np.arange(c) for c in counts]).astype(np.int32)
    result = play_assignment(model, key, Assignment(jnp.asarray(worker), jnp.asarray(slot)),
                             BUDGET, jnp.int32(round_number))
    expected = replay(model, key, counts, round_number)
    for name in ("round_time", "worker_time", "wasted_time", "workers_used"):
        np.testing.assert_allclose(float(getattr(result.outcome, name)), expected[name],
                                   rtol=1e-5, err_msg=name)
    np.testing.assert_allclose(np.asarray(result.busy_time), expected["busy_time"], rtol=1e-5)


def test_without_down_workers_a_failing_model_plays_like_the_plain_one():
    model, plain = failing_model(), cifar(N)
    key = jax.random.key(3)
    assignment = Assignment(jnp.array([0, 0, 1, 2, 3, 4], jnp.int32),
                            jnp.array([0, 1, 0, 0, 0, 0], jnp.int32))
    a = play_assignment(model, key, assignment, BUDGET, jnp.int32(1))   # nobody down yet
    b = play_assignment(plain, key, assignment, BUDGET, jnp.int32(1))
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.slow
def test_gta_races_among_the_live_workers_only():
    model = failing_model()
    live = np.array([0, 2, 4])  # workers 1 and 3 are down in round 4
    for seed in range(20):
        key = jax.random.key(seed)
        got = float(greedy_round_time(model, key, BUDGET, jnp.int32(4)))
        # brute force: every live worker's first BUDGET completion times, the B-th smallest
        completions = np.concatenate([np.cumsum([float(task_times(model, key, jnp.int32(i),
                                                                  jnp.int32(u), BUDGET, 4))
                                                 for u in range(BUDGET)]) for i in live])
        np.testing.assert_allclose(got, np.sort(completions)[BUDGET - 1], rtol=1e-5)


@pytest.mark.slow
def test_wasted_time_and_learners_steer_away_from_a_down_worker():
    # worker 0, the fastest (mean 58), is down for rounds 300..499 with a timeout of 3000
    n, rounds, timeout = 5, 600, 3000.0
    schedule = make_schedule(n, num_rounds=rounds, fail_start=[300] + [0] * (n - 1),
                             fail_rounds=[200] + [0] * (n - 1), timeout=timeout)
    model = dataclasses.replace(cifar(n), schedule=schedule)
    results = simulate(model, ("ata-empirical", "ata-discounted", "uta", "ofta", "gta"),
                       budget=4, num_rounds=rounds, num_seeds=4, discount=0.99)
    loaded_down_rounds = {name: result.wasted_time / timeout
                          for name, result in results.items() if name != "gta"}
    # OFTA does not know about failures: it loads worker 0 in every one of the 200 rounds
    np.testing.assert_allclose(loaded_down_rounds["ofta"], 200)
    # UTA spreads 4 tasks over 5 workers: worker 0 is loaded in about 4/5 of the rounds
    assert (loaded_down_rounds["uta"] > 120).all()
    # the learners are charged the timeout per held task and move their tasks elsewhere
    for name in ("ata-empirical", "ata-discounted"):
        assert (loaded_down_rounds[name] < 50).all(), (name, loaded_down_rounds[name])
    # GTA: the down worker's whole round is wasted, Σ over its down rounds of C_k
    assert (results["gta"].wasted_time > 0).all()
    assert (results["gta"].wasted_time < results["gta"].runtime).all()
    assert results["ofta"].summary()["wasted_time"] == pytest.approx(200 * timeout)


def test_a_model_without_failures_wastes_nothing_and_shows_no_wasted_column():
    from ata_jax.cli.simulate import format_table

    results = simulate(cifar(4), ("ata",), budget=3, num_rounds=10, num_seeds=2)
    np.testing.assert_array_equal(results["ata"].wasted_time, 0.0)
    summary = results["ata"].summary()
    assert summary["wasted_time"] == 0.0
    config = dict(time_model="cifar", workers=4, budget=3, rounds=10, seeds=2, alpha=1.0,
                  eta=1.0, failures=False)
    assert "wasted" not in format_table(config, {"ata": summary})
    assert "wasted" in format_table(dict(config, failures=True), {"ata": summary})


@pytest.mark.parametrize("fields, message", [
    (dict(fail_start=[0, 5, 0]), "both > 0"),
    (dict(fail_start=[0, 5, 0], fail_rounds=[0, 2, 0]), "timeout > 0"),
    (dict(fail_start=[0, 5, 0], fail_rounds=[0, 2, 0], timeout=-1.0), "timeout > 0"),
    (dict(fail_start=2, fail_rounds=3, timeout=10.0), "every worker is down in round 2"),
    (dict(timeout=10.0), "no worker fails"),
    (dict(fail_start=[0, 1.5, 0], fail_rounds=1, timeout=1.0), "integers"),
    (dict(fail_start=[0, 1], fail_rounds=1, timeout=1.0), "3 numbers"),
])
def test_bad_failure_schedules_name_the_problem(fields, message):
    with pytest.raises(ScheduleError, match=message):
        make_schedule(3, **fields)


def test_model_file_with_failures_runs_from_the_command_line(tmp_path, capsys):
    path = tmp_path / "failing.json"
    path.write_text(json.dumps({
        "workers": [{"family": "exponential", "shift": 29 * i, "mean": 29 * i}
                    for i in range(1, 6)],
        "schedule": {"fail_start": [10, 0, 0, 0, 0], "fail_rounds": [20, 0, 0, 0, 0],
                     "timeout": 150}}))
    out = tmp_path / "out.json"
    assert main(["simulate", "--time-model", str(path), "--rounds", "40", "--seeds", "2",
                 "--budget", "3", "--policies", "ofta,gta", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["policies"]["ofta"]["wasted_time"] == pytest.approx(20 * 150.0)
    assert "wasted" in capsys.readouterr().out
    path.write_text(json.dumps({"workers": [{"family": "constant", "value": 1}] * 2,
                                "schedule": {"fail_start": [1, 0], "fail_rounds": [3, 0]}}))
    assert main(["simulate", "--time-model", str(path), "--rounds", "5"]) == 2
    assert "timeout" in capsys.readouterr().err


@pytest.mark.slow
def test_a_reassigned_task_straggles_with_its_worker():
    """One straggler draw per (round, worker): reassigned tasks share the live worker's."""
    schedule = make_schedule(2, fail_start=[1, 0], fail_rounds=[5, 0], timeout=10.0,
                             straggle_probability=[0.0, 0.5], straggle_factor=[1.0, 1000.0])
    model = dataclasses.replace(cifar(2), schedule=schedule)
    assignment = Assignment(jnp.array([0, 1], jnp.int32), jnp.array([0, 0], jnp.int32))
    for seed in range(12):
        key = jax.random.key(seed)
        result = play_assignment(model, key, assignment, 2, jnp.int32(2))
        own = float(task_times(model, key, jnp.int32(1), jnp.int32(0), 2, 2))
        extra = float(result.outcome.worker_time) - own
        # worker 1 (shift 58 + Exp(58)) straggling takes ≥ 58 000 per task; not straggling,
        # far less: its own task and the reassigned one agree
        assert (own > 50_000) == (extra > 50_000), (seed, own, extra)
