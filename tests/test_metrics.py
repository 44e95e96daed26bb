"""The metric record: every metric is reduced in the scan, reported by `simulate`'s JSON and
table, kept by the sweep store; the idle worker time and the workers used against a brute
force over each round's busy times."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ata_jax import allocate
from ata_jax.allocation import Assignment
from ata_jax.cli import main
from ata_jax.metrics import CURVE_NAMES, METRIC_NAMES, METRICS, PerRound, Totals, metric
from ata_jax.rounds import play_assignment
from ata_jax.simulate import simulate
from ata_jax.timemodels import cifar, from_workers


def test_the_record_is_the_only_list():
    assert len(set(METRIC_NAMES)) == len(METRICS)
    assert Totals._fields == METRIC_NAMES and PerRound._fields == CURVE_NAMES
    assert metric("idle_time").column is not None
    with pytest.raises(KeyError, match="unknown metric"):
        metric("idle")


@pytest.mark.parametrize("counts", [(3, 0, 1, 1, 0, 2), (0, 0, 0, 7, 0, 0), (1,) * 6 + (1,)])
def test_idle_time_and_workers_used_against_the_busy_times(counts):
    model = cifar(len(counts))
    worker = np.repeat(np.arange(len(counts)), counts).astype(np.int32)
    slot = np.concatenate([np.arange(c) for c in counts]).astype(np.int32)
    budget = int(sum(counts))
    for seed in range(5):
        played = play_assignment(model, jax.random.key(seed),
                                 Assignment(jnp.asarray(worker), jnp.asarray(slot)), budget,
                                 jnp.int32(1))
        busy = np.asarray(played.busy_time, np.float64)
        loaded = np.asarray(counts) > 0
        round_time = busy[loaded].max()
        assert int(played.outcome.workers_used) == loaded.sum()
        idle = metric("idle_time").of_round(played.outcome, None)
        np.testing.assert_allclose(float(idle), (round_time - busy[loaded]).sum(), rtol=1e-5,
                                   atol=1e-3)


def test_totals_are_the_sums_of_each_rounds_values():
    model = from_workers([dict(family="exponential", shift=10.0 * i, mean=10.0 * i)
                          for i in range(1, 7)])
    results = simulate(model, ["ata-empirical", "gta", "ofta"], budget=4, num_rounds=50,
                       num_seeds=3, record_rounds=True)
    for name, result in results.items():
        rounds = result.per_round
        np.testing.assert_allclose(result.runtime, rounds.round_time.sum(1), rtol=1e-5)
        assert (result.idle_time >= -1e-3).all()  # not a curve: its bounds
        # every worker that ran is held for the whole round: used·C ≥ work done
        assert (result.idle_time <= result.workers_used * rounds.round_time.max(1)).all()
    gta = results["gta"]
    np.testing.assert_allclose(gta.idle_time, 0.0, atol=1e-2)  # all race to the round's end
    np.testing.assert_array_equal(gta.workers_used, 6 * 50)
    ofta = results["ofta"]  # one fixed allocation: the same workers every round
    used = int((np.asarray(allocate(jnp.asarray(model.mean), 4)) > 0).sum())
    np.testing.assert_array_equal(ofta.workers_used, used * 50)


def test_simulate_reports_every_metric_in_json_and_table(tmp_path, capsys):
    out = tmp_path / "run.json"
    assert main(["simulate", "--workers", "6", "--budget", "4", "--rounds", "20", "--seeds",
                 "2", "--policies", "ofta,gta", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    document = json.loads(out.read_text())
    for name in ("ofta", "gta"):
        row = document["policies"][name]
        for metric_name in METRIC_NAMES:
            assert metric_name in row and f"{metric_name}_std" in row
    assert document["policies"]["gta"]["idle_time"] == pytest.approx(0.0, abs=1e-2)
    header = table.splitlines()[1]
    assert "idle time" in header and "workers" in header
    gta_row = next(line for line in table.splitlines() if line.startswith("gta"))
    assert gta_row.split()[-1] == "6"  # every worker races each round
