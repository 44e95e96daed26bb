"""Trace replay: reading CSV/Parquet traces, the replayed model's draws, and the CLI on a trace."""

import math
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ata_jax import traces
from ata_jax.cli import main
from ata_jax.modelfile import resolve_time_model
from ata_jax.timemodels import ModelError, task_times

# worker 0 records 2 tasks in round 1, none in round 2, 1 in round 3; worker 1: 1, 2, 1
ROUNDS_CSV = """worker,time,round
0,1.5,1
1,10,1
0,2.5,1
1,20,2
1,21,2
0,3.5,3
1,30,3
"""


def write(tmp_path, text, name="trace.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def draw(model, key, worker, slot, num_slots, round_number=1):
    """task_times under jit for int arrays worker, slot."""
    fn = jax.jit(task_times, static_argnums=(4,))
    return np.asarray(fn(model, key, jnp.asarray(worker, jnp.int32),
                         jnp.asarray(slot, jnp.int32), num_slots, jnp.int32(round_number)))


def test_bootstrap_means_and_frequencies_match_the_trace(tmp_path):
    values = {0: [1.0, 2.0, 3.0, 10.0], 1: [5.0, 7.0, 7.0]}
    rows = [f"{worker},{time}" for worker, times in values.items() for time in times]
    model = traces.load_trace_model(write(tmp_path, "worker,time\n" + "\n".join(rows)))
    num_slots, num_rounds = 2000, 10
    slot = np.tile(np.arange(num_slots), 2)
    worker = np.repeat([0, 1], num_slots)
    draws = np.concatenate([draw(model, jax.random.key(k), worker, slot, num_slots, k)
                            .reshape(2, num_slots) for k in range(1, num_rounds + 1)], axis=1)
    count = draws.shape[1]
    for index, recorded in values.items():
        recorded = np.asarray(recorded)
        assert set(np.unique(draws[index])) <= set(recorded)
        tolerance = 5 * recorded.std() / math.sqrt(count)  # 5 sigma of the sample mean
        assert abs(draws[index].mean() - recorded.mean()) < tolerance
        for value in np.unique(recorded):
            probability = np.mean(recorded == value)
            frequency = np.mean(draws[index] == value)
            assert abs(frequency - probability) < 5 * math.sqrt(
                probability * (1 - probability) / count), (index, value)


def test_recorded_order_with_rounds_replays_each_round_exactly(tmp_path):
    model = traces.load_trace_model(write(tmp_path, ROUNDS_CSV), "recorded")
    key = jax.random.key(0)
    budget = 4
    # round k replays recorded round (k-1) mod 3: exact sequences, then onward into later rounds
    expected = {1: {0: [1.5, 2.5, 3.5, 1.5], 1: [10, 20, 21, 30]},
                2: {0: [3.5, 1.5, 2.5, 3.5], 1: [20, 21, 30, 10]},   # worker 0 idle in round 2
                3: {0: [3.5, 1.5, 2.5, 3.5], 1: [30, 10, 20, 21]}}
    for k in range(1, 7):
        for worker in (0, 1):
            got = draw(model, key, [worker] * budget, np.arange(budget), budget, k)
            np.testing.assert_array_equal(got, expected[(k - 1) % 3 + 1][worker])
    # a different key changes nothing in recorded order
    np.testing.assert_array_equal(draw(model, jax.random.key(9), [1, 1], [0, 1], budget, 2),
                                  [20, 21])


def test_recorded_order_without_rounds_reads_consecutive_blocks(tmp_path):
    sequence = [float(v) for v in range(1, 8)]  # 7 times for worker 0, 1 for worker 1
    text = "worker,time\n" + "\n".join(f"0,{v}" for v in sequence) + "\n1,4\n"
    model = traces.load_trace_model(write(tmp_path, text), "recorded")
    budget = 3
    replayed = np.concatenate([draw(model, jax.random.key(k), [0] * budget, np.arange(budget),
                                    budget, k) for k in range(1, 6)])
    np.testing.assert_array_equal(replayed, (sequence * 3)[:15])
    np.testing.assert_array_equal(draw(model, jax.random.key(1), [1, 1], [0, 2], budget, 4),
                                  [4, 4])


def direct_psi1(values):
    """‖X − μ‖_ψ1 of the empirical distribution by plain bisection on mean(exp(|x−μ|/t)) = 2."""
    distance = np.abs(values - values.mean())
    low, high = 1e-9, 10 * distance.max() + 1
    for _ in range(200):
        middle = 0.5 * (low + high)
        if np.mean(np.exp(np.minimum(distance / middle, 700))) > 2:
            low = middle
        else:
            high = middle
    return high


def test_means_and_psi1_of_the_shipped_trace_match_numpy():
    path = traces.shipped_trace()
    trace = traces.read_trace(path)
    model = traces.trace_model(trace)
    raw = np.genfromtxt(path, delimiter=",", names=True)
    assert trace.size == model.size == int(raw["worker"].max()) + 1
    for worker in range(model.size):
        values = raw["time"][raw["worker"] == worker]
        assert model.mean[worker] == pytest.approx(values.mean(), rel=1e-12)
        assert model.psi1[worker] == pytest.approx(direct_psi1(values), rel=1e-9)
        assert np.mean(np.exp(np.abs(values - values.mean()) / model.psi1[worker])) \
            == pytest.approx(2.0, rel=1e-9)
    assert model.alpha == pytest.approx(model.psi1.max())
    assert model.eta == pytest.approx(np.max(model.psi1 / model.mean))


def test_empirical_psi1_edge_cases():
    from ata_jax.psi1 import empirical_norm

    assert empirical_norm([4.0, 4.0, 4.0]) == 0.0
    # two values at ±d: mean exp(d/t) = 2 at t = d/ln 2
    assert empirical_norm([1.0, 3.0]) == pytest.approx(1.0 / math.log(2.0), rel=1e-12)
    values = np.array([0.5, 1.0, 1.0, 9.0])
    assert empirical_norm(values) == pytest.approx(direct_psi1(values), rel=1e-9)


def test_common_random_numbers_a_task_time_depends_on_key_worker_slot_only(tmp_path):
    model = traces.load_trace_model(traces.shipped_trace())
    key = jax.random.key(3)
    budget = 5
    workers = np.repeat(np.arange(8), budget)
    slots = np.tile(np.arange(budget), 8)
    everything = draw(model, key, workers, slots, budget, 7)
    np.testing.assert_array_equal(everything, draw(model, key, workers, slots, budget, 7))
    subset = np.array([39, 0, 17, 5])  # another subset, another order
    np.testing.assert_array_equal(draw(model, key, workers[subset], slots[subset], budget, 7),
                                  everything[subset])
    assert not np.array_equal(everything, draw(model, jax.random.key(4), workers, slots,
                                               budget, 7))


def test_worker_names_are_numbered_in_order_of_first_appearance(tmp_path):
    trace = traces.read_trace(write(tmp_path, "time,worker\n3,gpu-b\n1,gpu-a\n5,gpu-b\n"))
    assert trace.workers == ("gpu-b", "gpu-a") and trace.rounds is None
    np.testing.assert_array_equal(trace.times[0], [3, 5])
    np.testing.assert_array_equal(trace.times[1], [1])


BAD_TRACES = [
    ("", 0, "empty trace"),
    ("0,1.5\n1,2.5\n", 1, "missing header"),
    ("worker,duration\n0,1\n", 1, "missing column(s) time"),
    ("worker,time,host\n0,1,a\n", 1, "unknown column(s) 'host'"),
    ("worker,time\n0,1\n1,abc\n", 3, "time must be a number, got 'abc'"),
    ("worker,time\n0,1\n1,\n", 3, "time must be a number, got an empty field"),
    ("worker,time\n0,1\n1,-2\n", 3, "time must be >= 0"),
    ("worker,time\n0,1\n\n1,nan\n", 4, "time is NaN"),
    ("worker,time\n0,1\n1,inf\n", 3, "time must be finite"),
    ("worker,time\n0,1\n2,3\n2,4\n", 3, "worker(s) 1 have no rows"),
    ("worker,time\n0,1\n,3\n", 3, "empty worker"),
    ("worker,time\n0,1\nx,3\n", 3, "is not an integer id"),
    ("worker,time\na,1\n3,3\n", 3, "is an integer id but"),
    ("worker,time\n0,1\n-1,3\n", 3, "worker id must lie in [0, "),
    ("worker,time\n0,1\n--1,3\n", 3, "worker '--1' is not an integer id"),
    ("worker,time\n0,1\n99999999999,3\n", 3, "worker id must lie in [0, 8192)"),
    ("worker,time\n0,1\n999,3\n", 3, "worker(s) 1, 2, 3, 4, 5, ... have no rows"),
    ("worker,time\n0,1\n1,0\n1,0\n", 3, "has a mean time below 1e-20"),
    ("worker,time\n0,1\n1,2,3\n", 3, "expected 2 fields"),
    ("worker,time,round\n0,1,1\n1,2,1.5\n", 3, "round must be an integer >= 0, got '1.5'"),
    ("worker,time,round\n0,1,1\n1,2,-1\n", 3, "round must be an integer >= 0 (and below"),
    ("worker,time,round\n0,1,1\n1,2,4611686018427387904\n", 3, "got 4611686018427387904"),
    ("worker,time,round\n0,1,1\n1,2,\n", 3, "round must be an integer >= 0, got an empty"),
    ("worker,time\n", 0, "no task times after the header"),
    ('worker,time\n0,1\n1,"2\n', 3, "not valid CSV"),
]


@pytest.mark.parametrize("text, line, message", BAD_TRACES)
def test_a_bad_trace_is_an_error_naming_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(ModelError) as error:
        traces.read_trace(path)
    text = str(error.value)
    assert text.startswith(path) and message in text, text
    if line:
        assert f": line {line}:" in text, text


def test_unreadable_and_non_utf8_traces(tmp_path):
    with pytest.raises(ModelError, match="cannot read trace"):
        traces.read_trace(str(tmp_path / "absent.csv"))
    path = tmp_path / "latin1.csv"
    path.write_bytes("worker,time\nb\xe9,1\n".encode("latin-1"))
    with pytest.raises(ModelError, match="not UTF-8"):
        traces.read_trace(str(path))


def test_csv_and_parquet_give_the_same_model(tmp_path):
    pytest.importorskip("pyarrow")
    rows = [(int(w), float(t), int(r)) for w, t, r in
            (line.split(",") for line in ROUNDS_CSV.splitlines()[1:])]
    parquet_path = tmp_path / "trace.parquet"
    traces.write_parquet(rows, parquet_path)
    for order in traces.REPLAY_ORDERS:
        from_csv = traces.load_trace_model(write(tmp_path, ROUNDS_CSV), order)
        from_parquet = traces.load_trace_model(str(parquet_path), order)
        for a, b in zip(jax.tree.leaves(from_csv), jax.tree.leaves(from_parquet)):
            np.testing.assert_array_equal(a, b)
        assert jax.tree.structure(from_csv) == jax.tree.structure(from_parquet)


def test_a_bad_parquet_trace_names_the_row(tmp_path):
    pytest.importorskip("pyarrow")
    path = tmp_path / "bad.parquet"
    traces.write_parquet([(0, 1.0), (1, 2.0), (1, float("nan"))], path, ("worker", "time"))
    with pytest.raises(ModelError, match=r"bad.parquet: row 3: time is NaN"):
        traces.read_trace(str(path))
    traces.write_parquet([(0, 1.0), (0.5, 2.0)], path, ("worker", "time"))  # a float column
    with pytest.raises(ModelError, match=r"row 1: worker must be an integer id or a name, "
                                         r"got the number 0.0"):
        traces.read_trace(str(path))


def test_parquet_without_pyarrow_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)  # import now raises ImportError
    with pytest.raises(ModelError, match=r"x.parquet: reading Parquet traces needs pyarrow"):
        traces.read_trace(str(tmp_path / "x.parquet"))


def test_resolve_time_model_takes_traces_and_their_order(tmp_path):
    path = write(tmp_path, ROUNDS_CSV)
    assert resolve_time_model(path, None).replay.order == "bootstrap"
    assert resolve_time_model(path, 2, trace_order="recorded").replay.order == "recorded"
    with pytest.raises(ModelError, match="the trace has 2 workers but --workers 5"):
        resolve_time_model(path, 5)
    with pytest.raises(ModelError, match="applies only to a trace file"):
        resolve_time_model("cifar", 4, trace_order="recorded")


def test_cli_simulates_the_shipped_trace(tmp_path, capsys):
    out = tmp_path / "r.json"
    code = main(["simulate", "--time-model", str(traces.shipped_trace()), "--trace-order",
                 "recorded", "--rounds", "6", "--seeds", "2", "--budget", "4", "--policies",
                 "ofta,gta", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    import json
    document = json.loads(out.read_text())
    assert document["config"]["workers"] == 8 and document["config"]["trace_order"] == "recorded"
    assert document["policies"]["ofta"]["runtime"] > 0


@pytest.mark.parametrize("text, extra, message", [
    ("worker,time\n0,1\n1,-4\n", [], "line 3: time must be >= 0"),
    ("worker,time\n0,1\n1,4\n", ["--workers", "3"], "the trace has 2 workers"),
])
def test_cli_gives_one_line_errors_for_a_bad_trace(tmp_path, capsys, text, extra, message):
    path = write(tmp_path, text)
    code = main(["simulate", "--time-model", path, "--rounds", "2", *extra])
    error = capsys.readouterr().err
    assert code == 2 and message in error and path in error and error.count("\n") == 1, error


def test_recorded_order_end_to_end_matches_a_numpy_replay(tmp_path):
    """OFTA's and GTA's round times on a recorded-order trace, against a direct NumPy replay."""
    from ata_jax import allocate
    from ata_jax.simulate import simulate

    rng = np.random.default_rng(5)
    rows = [(worker, round(float(rng.uniform(1, 10) * (worker + 1)), 3), recorded_round)
            for recorded_round in (1, 2, 3) for worker in range(3)
            for _ in range(int(rng.integers(0 if worker else 1, 4)))]
    path = write(tmp_path, "worker,time,round\n" + "\n".join(",".join(map(str, r)) for r in rows))
    trace = traces.read_trace(path)
    model = traces.trace_model(trace, "recorded")
    budget, num_rounds = 5, 7
    results = simulate(model, ("ofta", "gta"), budget=budget, num_rounds=num_rounds,
                       num_seeds=2, record_rounds=True)
    allocation = np.asarray(allocate(np.asarray(model.mean, np.float32), budget))
    for k in range(1, num_rounds + 1):
        recorded_round = (k - 1) % 3 + 1
        sequences = []
        for values, rounds in zip(trace.times, trace.rounds):
            start = int(np.searchsorted(rounds, recorded_round))
            sequences.append(values[(start + np.arange(budget)) % values.size])
        busy = [sequence[:count].sum() for sequence, count in zip(sequences, allocation)]
        completions = np.sort(np.concatenate([np.cumsum(sequence) for sequence in sequences]))
        for name, expected in (("ofta", max(busy)), ("gta", completions[budget - 1])):
            np.testing.assert_allclose(results[name].per_round.round_time[:, k - 1], expected,
                                       rtol=1e-6, err_msg=f"{name} round {k}")
