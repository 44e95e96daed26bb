"""Every size has a limit checked before any work, and no accepted parameter makes a model
slow to build: beyond a limit, one line and exit 2 (docs/formats.md#limits)."""

import json
import time

import numpy as np
import pytest

from ata_jax import limits, psi1
from ata_jax.timemodels import GAMMA_SHAPES, LOG_STDS, ModelError, from_workers


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("arguments, needle", [
    (["--rounds", "3000000000"], "above 268435456"),
    (["--seeds", "100000000"], "MB on the host"),
    (["--seeds", str(2**31)], "seed indices are 32-bit"),
    (["--workers", "100000000"], "above 8192"),
    (["--workers", "8192", "--budget", "1025"], "above 1024"),
    (["--workers", "8193"], "above 8192"),
    (["--budget", "1025"], "above 1024"),
    (["--rounds", "10000", "--seeds", "100000", "--per-round", "--policies", "gta"],
     "drop --per-round"),
    (["--workers", ",".join(["1"] * 100_001)], "100001 configurations"),
    (["--workers", "4096", "--budget", "1024", "--policies", "ofta-expected"],
     "16400 MB at n = 4096, B = 1024"),
    (["--workers", "600", "--budget", "128", "--policies", "gta", "--expected-regret"],
     "a budget of at most 127"),
    (["--alpha", "1e300"], "[1e-20, 1e+20]"),
    (["--eta", "1e-300"], "[1e-20, 1e+20]"),
    (["--spread", "1000", "--policies", "thompson"], "[0, 100]"),
    (["--memory-mb", "1e308"], "a petabyte"),
])
def test_simulate_sizes_beyond_their_limits_fail_at_once(fails_with_one_line, arguments,
                                                         needle):
    start = time.perf_counter()
    fails_with_one_line(["simulate", *arguments], needle)
    assert time.perf_counter() - start < 10


def test_sample_counts_stay_exact_past_2_to_the_24():
    """The learners' float32 counts are compensated: a worker given one task a round past
    2^24 samples keeps counting (a plain float32 count would stall at 2^24), so long runs
    need no limit on K·B."""
    import jax.numpy as jnp

    from ata_jax.allocators.confidence import SampleStatistics, observe_busy_times

    start = float(2**24)
    statistics = SampleStatistics(jnp.array([5.0]), jnp.array([start]), jnp.zeros(1))
    plain = SampleStatistics(jnp.array([5.0]), jnp.array([start]))
    for _ in range(7):
        statistics = observe_busy_times(statistics, jnp.array([1]), jnp.array([5.0]), "task")
        plain = observe_busy_times(plain, jnp.array([1]), jnp.array([5.0]), "task")
    exact = float(statistics.count[0]) + float(statistics.count_compensation[0])
    assert exact == start + 7
    assert float(plain.count[0]) == start  # what the compensation is for
    limits.check_run_sizes(budget=23, num_rounds=10**6, num_seeds=1)


@pytest.mark.parametrize("arguments, needle", [
    (["--learning-rate", "1e300"], "[1e-20, 1e+20]"),
    (["--seeds", "100000000"], "MB on the host"),  # every run's per-round records
    (["--alpha", "1e-300"], "[1e-20, 1e+20]"),
    (["--spread", "nan"], "--spread"),
])
def test_train_settings_beyond_their_range_fail_at_once(fails_with_one_line, arguments, needle):
    fails_with_one_line(["train", "--rounds", "5", "--seeds", "2", *arguments], needle)


@pytest.mark.parametrize("arguments, needle", [
    (["--seeds", "100000000"], "MB on the host"),
    (["--rounds", "3000000000"], "above 268435456"),
    (["--alpha-scale", "1/16..16:1001", "--eta-scale", "1/16..16:1000"], "grid points"),
])
def test_sweep_sizes_beyond_their_limits_fail_at_once(fails_with_one_line, arguments, needle):
    fails_with_one_line(["sweep", *arguments], needle)


def test_the_expected_time_search_is_refused_where_its_table_cannot_fit():
    """a*_E's table is MIN_SAMPLES x min(n, 4B) x (B + 1) float32; the limit is at its bound,
    and the library refuses before building anything."""
    from ata_jax.expected import MIN_SAMPLES, expected_optimum, search_table_bytes
    from ata_jax.timemodels import cifar

    assert search_table_bytes(600, 127) == MIN_SAMPLES * 508 * 128 * 4
    limits.check_expected_search(600, 127)  # 254 MB: accepted
    with pytest.raises(limits.LimitError, match="at most 127"):
        limits.check_expected_search(600, 128)
    limits.check_expected_search(51, 1024)  # cifar's 51 workers hold every budget
    with pytest.raises(limits.LimitError, match="n = 4096, B = 1024"):
        expected_optimum(cifar(4096), 1024)


@pytest.mark.parametrize("group, needle", [
    ({"family": "gamma", "shape": 1e-30, "scale": 1e30}, "rescale the time unit"),
    ({"family": "gamma", "shape": 1e-30, "scale": 1.0}, "shape must lie in [0.1, 10000]"),
    ({"family": "gamma", "shape": 1e5, "scale": 1.0}, "shape must lie in"),
    ({"family": "gamma", "shape": 1e4, "scale": 1e20}, "is above 1e+20"),
    ({"family": "exponential", "mean": 5.0, "count": 100_000_000}, "above 8192 workers"),
    ({"family": "exponential", "mean": 1e-30}, "outside [1e-20, 1e+20]"),
    ({"family": "lognormal", "log_mean": 0.0, "log_std": 40.0}, "log_std must lie in"),
    ({"family": "lognormal", "log_mean": 100.0, "log_std": 1.0}, "log_mean must lie in"),
    ({"family": "lognormal", "log_mean": 0.0, "log_std": 1.0, "upper": 1e-20}, "upper = "),
    ({"family": "lognormal", "log_mean": 0.0, "log_std": 3.0, "upper": 1e6}, "omit it"),
])
def test_model_file_values_beyond_their_range_fail_at_once(tmp_path, fails_with_one_line,
                                                           group, needle):
    path = write(tmp_path, "model.json", json.dumps({"workers": [group]}))
    start = time.perf_counter()
    fails_with_one_line(["simulate", "--time-model", path], needle)
    assert time.perf_counter() - start < 10


def test_a_trace_beyond_its_limits_fails(tmp_path, fails_with_one_line, monkeypatch):
    from ata_jax import traces

    fails_with_one_line(["simulate", "--time-model",
                         write(tmp_path, "huge.csv", "worker,time\n0,1e21\n")],
                        "at most 1e+20")
    monkeypatch.setattr(traces, "MAX_TRACE_ROWS", 3)
    fails_with_one_line(["simulate", "--time-model",
                         write(tmp_path, "long.csv", "worker,time\n" + "0,1\n" * 4)],
                        "4 rows is more than 3")  # counted before any row is parsed
    # blank lines are not rows: three rows among them are within the limit of 3
    assert traces.read_trace(write(tmp_path, "blank.csv",
                                   "worker,time\n\n0,1\n\n0,2\n\n1,3\n\n")).workers
    monkeypatch.setattr(traces, "MAX_TRACE_ROWS", 100)
    monkeypatch.setattr(traces, "MAX_TABLE_ENTRIES", 5)
    fails_with_one_line(["simulate", "--time-model",
                         write(tmp_path, "wide.csv", "worker,time\n" + "0,1\n1,2\n" * 3)],
                        "busiest worker")


def corners(low, high):
    return [low, np.sqrt(low * high), high]


@pytest.mark.parametrize("shape", corners(*GAMMA_SHAPES) + [0.1001, 0.5, 1.0])
def test_gamma_norms_are_fast_over_the_accepted_shapes(shape):
    psi1.gamma_unit.cache_clear()
    start = time.perf_counter()
    norm = psi1.gamma_unit(shape)
    assert np.isfinite(norm) and norm > 0
    assert time.perf_counter() - start < 2


@pytest.mark.parametrize("log_std", corners(*LOG_STDS) + [1.0])
def test_lognormal_norms_are_fast_over_the_accepted_truncations(log_std):
    """Every accepted upper, from 5σ below the log-mean to the top of the range."""
    top = min(8 * log_std, 10.0)
    for upper in np.exp(np.array([-5 * log_std, 0.0, top / 2, top]) * (1 - 1e-9)):
        start = time.perf_counter()
        model = from_workers([{"family": "lognormal", "log_mean": 0.0,
                               "log_std": float(log_std), "upper": float(upper)}])
        assert np.isfinite(model.psi1).all() and (model.psi1 > 0).all()
        assert np.isfinite(model.mean).all() and (model.mean > 0).all()
        assert time.perf_counter() - start < 2, (log_std, upper)


def test_a_norm_that_cannot_converge_is_a_model_error_not_a_hang(monkeypatch):
    """The bracket searches are capped: a density whose norm never brackets stops."""
    start = time.perf_counter()
    with pytest.raises(ArithmeticError):
        psi1.psi1_norm(lambda x: 0.0 if 0 <= x <= 1 else -np.inf, 0.0, 1.0, 0.5,
                       tail_scale=1e300)
    assert time.perf_counter() - start < 10
    monkeypatch.setattr(psi1, "gamma_unit", lambda shape: psi1.psi1_norm(
        lambda x: 0.0, 0.0, 1.0, 0.5, tail_scale=1e300))
    with pytest.raises(ModelError, match="ψ1 norm cannot be computed"):
        from_workers([{"family": "gamma", "shape": 2.0, "scale": 1.0}])


@pytest.mark.parametrize("group", [
    {"family": "exponential", "mean": 1e-3, "shift": 1e16},
    {"family": "lognormal", "log_mean": 20, "log_std": 3, "upper": 10686473512877},
])
@pytest.mark.parametrize("command", ["simulate", "sweep"])
def test_an_uncentred_norm_that_cannot_be_computed_is_one_line(tmp_path, fails_with_one_line,
                                                                group, command):
    """Accepted workers at the edge of the ranges whose uncentred ψ1 norm (the early
    confidence's α) leaves float64: one line asking for --alpha, no quadrature warnings."""
    path = write(tmp_path, "edge.json", json.dumps({"workers": [group]}))
    fails_with_one_line([command, "--time-model", path, "--confidence", "early", "--policies",
                         "ata", "--budget", "1", "--rounds", "5", "--seeds", "2"],
                        "uncentred psi1 norm", "pass --alpha")
