"""A recorded loss curve joined to the allocators' time axes: reading, errors, the join, the
time to a target, and the shipped curve."""

import json
import pathlib

import numpy as np
import pytest

from ata_jax.cli import main
from ata_jax.modelfile import resolve_time_model
from ata_jax.simulate import simulate
from ata_jax.training import (LossCurveError, read_loss_curve, shipped_loss_curve,
                              train_on_loss_curve)

WORKERS, BUDGET, ROUNDS, SEEDS = 3, 3, 20, 2
POLICIES = ["uta"]


def write(tmp_path, text, name="curve.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def gapped_curve(tmp_path):
    """Rounds 0, 2, 4, ..., 24 (beyond K = 20), loss 10 / (1 + round)."""
    return write(tmp_path, "loss,round\n" + "".join(f"{10 / (1 + r)!r},{r}\n"
                                                  for r in range(0, 25, 2)))


def test_the_shipped_curve_is_a_full_recorded_run():
    curve = read_loss_curve(shipped_loss_curve())
    assert np.array_equal(curve.rounds, np.arange(1501)) and curve.lines[0] == 2
    assert np.isfinite(curve.loss).all() and curve.loss[-1] < curve.loss[0] / 10
    # the documented path inside the package, whether installed editable or not, and the
    # installed copy is the repository's file
    documented = pathlib.Path("ata_jax/data/loss_curves/digits-mlp.csv")
    assert shipped_loss_curve().parts[-4:] == documented.parts
    assert shipped_loss_curve().read_bytes() == \
        (pathlib.Path(__file__).parents[1] / documented).read_bytes()
    by_name = read_loss_curve("digits-mlp")  # what an installed package can use
    assert by_name.path == "digits-mlp" and np.array_equal(by_name.loss, curve.loss)


def test_reading_keeps_columns_in_any_order_and_skips_blank_lines(tmp_path):
    curve = read_loss_curve(write(tmp_path, "Loss , ROUND\n0.5,1\n\n0.25,3\n"))
    assert curve.rounds.tolist() == [1, 3] and curve.loss.tolist() == [0.5, 0.25]
    assert curve.lines.tolist() == [2, 4]
    with pytest.raises(LossCurveError, match="line 3: round 1 appears twice"):
        read_loss_curve(write(tmp_path, "round,loss\n1,2\n1,3\n"))


TRAIN = ["train", "--workers", str(WORKERS), "--budget", str(BUDGET), "--seeds", str(SEEDS),
         "--policies", ",".join(POLICIES)]


@pytest.mark.parametrize("text,needles", [
    ("1,0.5\n2,0.4\n", ["line 1", "missing header", "round,loss"]),
    ("round,value\n1,0.5\n", ["line 1", "round,loss"]),
    ("round,loss\n1,0.5\n2,abc\n", ["line 3", "loss must be a number", "abc"]),
    ("round,loss\n1,0.5\nx,0.4\n", ["line 3", "round must be an integer"]),
    ("round,loss\n1,0.5\n2.5,0.4\n", ["line 3", "round must be an integer"]),
    ("round,loss\n0,1\n5,0.5\n3,0.4\n", ["line 4", "comes after round 5", "increase"]),
    ("round,loss\n0,1\n5,0.5\n5,0.4\n", ["line 4", "round 5 appears twice"]),
    ("round,loss\n0,1\n1,nan\n", ["line 3", "loss is nan", "finite"]),
    ("round,loss\n0,1\n1,0.5\n2,inf\n", ["line 4", "loss is inf"]),
    ("round,loss\n0,1\n1,0.5,7\n", ["line 3", "expected 2 fields"]),
    ("round,loss\n0,1\n99999999999999999999,0.5\n", ["line 3", "is above 268435456"]),
    ("round,loss\n0,1\n\n30,0.5\n40,0.2\n", ["line 5", "ends at round 40", "--rounds 50"]),
    ("round,loss\n", ["no data rows"]),
    ("", ["empty loss curve"]),
])
def test_a_bad_curve_is_one_line_naming_the_file_and_line(tmp_path, fails_with_one_line, text,
                                                          needles):
    path = write(tmp_path, text)
    fails_with_one_line([*TRAIN, "--loss-curve", path, "--rounds", "50"], path, *needles)


def test_other_mistakes_are_one_line_before_any_simulation(tmp_path, fails_with_one_line):
    missing = str(tmp_path / "nowhere.csv")
    fails_with_one_line([*TRAIN, "--loss-curve", missing], missing, "cannot read loss curve")
    curve = gapped_curve(tmp_path)
    fails_with_one_line([*TRAIN, "--target", "0.5"], "--target needs --loss-curve")
    fails_with_one_line([*TRAIN, "--loss-curve", curve, "--problem", "mlp"], "drop --problem")
    fails_with_one_line([*TRAIN, "--loss-curve", curve, "--target", "nan"], "--target")
    fails_with_one_line([*TRAIN, "--time-model", "cifar,sqrt"], "needs --loss-curve")


def test_the_join_and_the_time_to_target_match_the_simulation(tmp_path, capsys):
    path = gapped_curve(tmp_path)
    model = resolve_time_model("cifar", WORKERS, ROUNDS)
    curve = read_loss_curve(path)
    run = train_on_loss_curve(curve, model, POLICIES, budget=BUDGET, num_rounds=ROUNDS,
                              num_seeds=SEEDS, seed=3, max_points=4)
    # rows with round <= K = 20 are 0, 2, ..., 20 (11 rows); 4 kept, evenly, both ends kept
    assert run.rounds.tolist() == [0, 6, 14, 20]
    assert np.array_equal(run.suboptimality, np.tile(10 / (1 + run.rounds), (SEEDS, 1)))
    records = simulate(model, POLICIES, budget=BUDGET, num_rounds=ROUNDS, num_seeds=SEEDS,
                       seed=3, record_rounds=True)
    for name in POLICIES:
        per_round = records[name].per_round
        for position, k in enumerate(run.rounds):
            np.testing.assert_allclose(run.runtime[name][:, position],
                                       per_round.round_time[:, :k].sum(axis=1), rtol=1e-12)
            np.testing.assert_allclose(run.worker_time[name][:, position],
                                       per_round.worker_time[:, :k].sum(axis=1), rtol=1e-12)

    out = tmp_path / "train.json"
    # 10 / (1 + r) <= 1.2 first at r = 8 (the recorded rounds are even: 7 is not one)
    assert main([*TRAIN, "--loss-curve", path, "--rounds", str(ROUNDS), "--seed", "3",
                 "--target", "1.2", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["config"]["target_round"] == 8
    assert document["config"]["problem"] == "loss-curve"
    for name in POLICIES:
        row, per_round = document["policies"][name], records[name].per_round
        expected = per_round.round_time[:, :8].sum(axis=1)
        assert row["time_to_target"] == pytest.approx(expected.mean(), rel=1e-12)
        assert row["time_to_target_std"] == pytest.approx(expected.std(), rel=1e-9)
        assert row["worker_time_to_target"] == pytest.approx(
            per_round.worker_time[:, :8].sum(axis=1).mean(), rel=1e-12)
        assert row["round"][-1] == ROUNDS and len(row["round"]) == 11
    assert "first reached at round 8" in capsys.readouterr().out

    # the curve goes below 0.1 only after round 20: never reached, null, not an error
    assert main([*TRAIN, "--loss-curve", path, "--rounds", str(ROUNDS), "--target", "0.1",
                 "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["config"]["target_round"] is None
    for name in POLICIES:
        assert document["policies"][name]["time_to_target"] is None
        assert document["policies"][name]["worker_time_to_target"] is None
    printed = capsys.readouterr().out
    assert "never reached within 20 rounds" in printed
    assert all("never" in line for line in printed.splitlines()
               if line.split()[:1] == ["uta"])


@pytest.mark.slow
def test_a_list_of_configurations_joins_each_to_its_own_time_axes(tmp_path, capsys):
    path, out = gapped_curve(tmp_path), tmp_path / "several.json"
    assert main([*TRAIN, "--loss-curve", path, "--rounds", str(ROUNDS), "--target", "1.2",
                 "--seed", "3", "--time-model", "cifar,sqrt", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["config"]["configurations"] == 2
    entries = document["configurations"]
    assert [entry["config"]["time_model"] for entry in entries] == ["cifar", "sqrt"]
    for entry, name in zip(entries, ["cifar", "sqrt"]):
        model = resolve_time_model(name, WORKERS, ROUNDS)
        alone = simulate(model, POLICIES, budget=BUDGET, num_rounds=ROUNDS, num_seeds=SEEDS,
                         seed=3, record_rounds=True)["uta"].per_round
        row = entry["policies"]["uta"]
        assert entry["config"]["target_round"] == 8 and entry["config"]["workers"] == WORKERS
        # a configuration of a batch equals its run alone to float32 rounding
        expected = np.cumsum(alone.round_time, axis=1).mean(axis=0)
        np.testing.assert_allclose(row["runtime"][1:], expected[np.array(row["round"][1:]) - 1],
                                   rtol=1e-5)
        assert row["time_to_target"] == pytest.approx(expected[7], rel=1e-5)
    assert capsys.readouterr().out.count("first reached at round 8") == 2


@pytest.mark.slow
def test_the_recording_script_reproduces_the_shipped_curve():
    import importlib.util

    script = pathlib.Path(__file__).parents[1] / "experiments" / "record_loss_curve.py"
    spec = importlib.util.spec_from_file_location("record_loss_curve", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    loss = module.record(budget=23, rounds=20, seed=0, learning_rate=1e-3)
    shipped = read_loss_curve(shipped_loss_curve()).loss[:21]
    np.testing.assert_allclose(loss, shipped, rtol=1e-5)  # the CSV keeps 6 digits
