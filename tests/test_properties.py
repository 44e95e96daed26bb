"""Property-based tests (hypothesis): random allocation problems against brute force for
both solvers, random and mutated model files and traces, and the command line's numeric
flags at and beyond their bounds. Every input outcome is a valid model or one line and exit
2, never a traceback or a hang. Profiles: HYPOTHESIS_PROFILE=ci (default) or dev."""

import contextlib
import io
import json
import math
import time
from unittest import mock

import jax
import numpy as np
import pytest

pytest.importorskip("hypothesis", reason="pip install '.[test]' (hypothesis)")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st

from ata_jax import allocation, portable
from ata_jax.cli import main
from ata_jax.cli.common import UsageError, load_time_model
from ata_jax.limits import MAX_BUDGET, MAX_ROUNDS, MAX_WORKERS
from ata_jax.simulate import MAX_EXPLORE_SAMPLES
from ata_jax.timemodels import FAMILY_FIELDS, MAX_TIME, MIN_TIME, TimeModel
from test_allocation import brute_force_minimum

# fixed shapes, so that each solver compiles once per shape whatever hypothesis draws
SHAPES = ((4, 5), (6, 3))
TINY, HUGE = float(np.finfo(np.float32).tiny), float(np.finfo(np.float32).max) / 2**11


@pytest.fixture(scope="module")
def solvers():
    """{(n, B): (cpu solver, portable solver)} jitted once, each taking (scores, key)."""
    build = lambda module, budget: jax.jit(lambda s, k: module.assign(s, budget, k))
    return {(n, budget): (build(allocation, budget), build(portable, budget))
            for n, budget in SHAPES}


def scores_of(n):
    """n scores in the documented range: zeros, small integers (ties), any float32 normal
    number in [1.2e-38, 1.6e34], or a few ulps around one value (near ties)."""
    value = st.one_of(st.just(0.0), st.integers(1, 3).map(float),
                      st.floats(TINY, HUGE, width=32),
                      st.floats(1.0, float(np.float32(1 + 2**-20)), width=32))
    return st.lists(value, min_size=n, max_size=n)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_both_solvers_are_optimal_and_agree(solvers, data):
    n, budget = data.draw(st.sampled_from(SHAPES))
    scores = np.asarray(data.draw(scores_of(n)), np.float32)
    key = jax.random.key(data.draw(st.integers(0, 2**31 - 1)))
    cpu, ours = (solve(scores, key) for solve in solvers[n, budget])
    np.testing.assert_array_equal(np.asarray(ours.worker), np.asarray(cpu.worker))
    np.testing.assert_array_equal(np.asarray(ours.slot), np.asarray(cpu.slot))
    counts = np.bincount(np.asarray(cpu.worker), minlength=n)
    assert counts.sum() == budget and (counts >= 0).all()
    values = scores.astype(np.float64)
    zeros = values == 0
    if zeros.any():  # the zero rule: only zero-score workers, as evenly as possible
        assert (counts[~zeros] == 0).all()
        assert set(counts[zeros]) <= {budget // zeros.sum(), budget // zeros.sum() + 1}
    else:
        best = brute_force_minimum(values.tolist(), budget)
        assert (counts * values).max() == pytest.approx(best, rel=1e-6, abs=0.0)


# ----------------------------------------------------------------------------- model files

def time_value():
    return st.one_of(st.floats(MIN_TIME, MAX_TIME), st.integers(1, 1000), st.just(0.0))


def group():
    """A well-formed worker group (its values may still fall outside a family's range)."""
    def fields(family):
        names = [name for name in FAMILY_FIELDS[family] if name not in ("shift", "upper")]
        values = {name: (st.floats(-46, 46) if name == "log_mean" else
                         st.floats(1e-3, 3) if name == "log_std" else
                         st.floats(0.1, 1e4) if name == "shape" else time_value())
                  for name in names}
        if "shift" in FAMILY_FIELDS[family]:
            values["shift"] = time_value()
        return st.fixed_dictionaries(dict(values, family=st.just(family)),
                                     optional={"count": st.integers(1, 4)})
    return st.sampled_from(sorted(FAMILY_FIELDS)).flatmap(fields)


BAD_VALUES = st.one_of(st.text(max_size=4), st.booleans(), st.none(), st.just(math.nan),
                       st.just(math.inf), st.just(-math.inf), st.just(1e300), st.just(-1.0),
                       st.just(10**40), st.just([1.0]), st.just({}), st.just(2**64),
                       st.just(100_000_000))


@st.composite
def model_document(draw):
    """A model file's document, well formed or with one mutation."""
    groups = draw(st.lists(group(), min_size=1, max_size=3))
    document = {"workers": groups}
    mutation = draw(st.sampled_from(["none", "value", "missing", "unknown", "duplicate",
                                     "empty", "type", "family", "top"]))
    target = draw(st.integers(0, len(groups) - 1))
    chosen = groups[target]
    names = sorted(chosen)
    if mutation == "value":
        chosen[draw(st.sampled_from(names))] = draw(BAD_VALUES)
    elif mutation == "missing":
        del chosen[draw(st.sampled_from(names))]
    elif mutation == "unknown":
        chosen[draw(st.text(min_size=1, max_size=5))] = 1.0
    elif mutation == "duplicate":
        groups.append(dict(chosen))
    elif mutation == "empty":
        document["workers"] = draw(st.sampled_from([[], [{}], {}, None]))
    elif mutation == "type":
        document["workers"][target] = draw(BAD_VALUES)
    elif mutation == "family":
        chosen["family"] = draw(st.text(max_size=8))
    elif mutation == "top":
        document[draw(st.text(max_size=6))] = draw(BAD_VALUES)
    return document


def assert_model_or_one_line(path):
    """Loading `path` gives a valid model or a one-line UsageError, in bounded time."""
    start = time.perf_counter()
    try:
        model = load_time_model("ata-jax simulate", path, None, 100, [4])
    except UsageError as error:
        assert "\n" not in str(error) and str(error), str(error)
    else:
        assert isinstance(model, TimeModel) and 1 <= model.size <= MAX_WORKERS
        mean, norm = np.asarray(model.mean), np.asarray(model.psi1)
        assert np.isfinite(mean).all() and (mean >= 0).all() and (mean <= MAX_TIME).all()
        assert not np.isnan(norm).any() and (norm >= 0).all()
    assert time.perf_counter() - start < 10


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=model_document(), truncate=st.one_of(st.none(), st.floats(0, 1)))
def test_model_files_load_or_fail_in_one_line(tmp_path, document, truncate):
    text = json.dumps(document, allow_nan=True)
    if truncate is not None:
        text = text[:int(len(text) * truncate)]
    path = tmp_path / "model.json"
    path.write_text(text, encoding="utf-8")
    assert_model_or_one_line(str(path))


TOML = ('[[workers]]\nfamily = "gamma"\nshape = 2.0\nscale = 3.0\ncount = 2\n\n'
        '[[workers]]\nfamily = "exponential"\nmean = 5.0\n\n[schedule]\nchange_round = 3\n'
        'change_factor = 2.0\n')


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len(TOML)), insert=st.text(max_size=3),
       raw=st.binary(max_size=4))
def test_mutated_toml_loads_or_fails_in_one_line(tmp_path, cut, insert, raw):
    path = tmp_path / "model.toml"
    path.write_bytes(TOML[:cut].encode() + insert.encode() + raw + TOML[cut:].encode()[:1])
    assert_model_or_one_line(str(path))


# ----------------------------------------------------------------------------- traces

CELL = st.one_of(st.integers(-2, 5).map(str), st.floats(allow_nan=True).map(repr),
                 st.text(alphabet=st.characters(blacklist_characters=",\r\n\x00"), max_size=3),
                 st.just(""), st.just("1e300"), st.just("inf"))


@st.composite
def trace_text(draw):
    header = draw(st.sampled_from(["worker,time", "time,worker", "worker,time,round",
                                   "worker,time,worker", "worker", "", "wörker,time"]))
    width = len(header.split(","))
    good = st.tuples(st.integers(0, 3).map(str), st.floats(0, 1e3).map(repr),
                     st.integers(0, 9).map(str)).map(lambda row: ",".join(row[:width]))
    bad = st.lists(CELL, min_size=1, max_size=4).map(",".join)
    rows = draw(st.lists(st.one_of(good, good, bad), max_size=8))
    text = "\n".join([header, *rows]) + "\n"
    if draw(st.booleans()):
        text = text[:draw(st.integers(0, len(text)))]
    return text


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=trace_text())
def test_traces_load_or_fail_in_one_line(tmp_path, text):
    path = tmp_path / "trace.csv"
    path.write_text(text, encoding="utf-8")
    assert_model_or_one_line(str(path))


# ----------------------------------------------------------------------------- flags

INTEGER_FLAGS = {"--budget": MAX_BUDGET, "--rounds": MAX_ROUNDS, "--seeds": 2**31 - 1,
                 "--window": None, "--seed": 2**32 - 1, "--random-clusters": None,
                 "--explore-samples": MAX_EXPLORE_SAMPLES}
NUMBER_FLAGS = ("--alpha", "--eta", "--discount", "--memory-mb", "--heterogeneity", "--spread")
"""simulate's numeric flags (with --workers) and, below, sweep's and train's."""
COMMAND_FLAGS = {
    "simulate": (INTEGER_FLAGS, NUMBER_FLAGS),
    "sweep": ({**INTEGER_FLAGS, "--curves": None, "--process-count": None,
               "--process-index": None},
              (*NUMBER_FLAGS, "--alpha-scale", "--eta-scale")),
    "train": ({name: INTEGER_FLAGS[name] for name in ("--budget", "--rounds", "--seeds",
                                                       "--seed", "--explore-samples")}
              | {"--points": None},
              ("--alpha", "--eta", "--learning-rate", "--target", "--spread")),
}
"""Each command's integer flags (with their bound, if any) and number flags."""
WORK = {"simulate": "ata_jax.simulate.simulate", "sweep": "ata_jax.sweep.run_sweep",
        "train": "ata_jax.training.train"}
"""What each command calls once its inputs are accepted: stubbed, so a run only starts."""


class Started(Exception):
    """Raised by the stubbed work: the command accepted its inputs."""


def flag_value(limit):
    edges = [0, -1, 1, 2**31, 2**63, 10**30] + ([limit, limit + 1] if limit else [])
    return st.one_of(st.sampled_from(edges), st.integers(-10, 10**12)).map(str) | st.sampled_from(
        ["1.5", "nan", "inf", "-inf", "1e999", "", "x", "1,2"])


@st.composite
def flag_and_value(draw, command="simulate"):
    integers, numbers = COMMAND_FLAGS[command]
    flag = draw(st.sampled_from([*integers, *numbers, "--workers"]))
    if flag == "--workers":  # a valid large n would build a model of that size
        return flag, draw(st.sampled_from(["0", "-1", str(MAX_WORKERS + 1), "10**9", "3",
                                           "1.5", "", "3,,4", "2,99999999"]))
    if flag in numbers:
        return flag, draw(st.one_of(st.floats(allow_nan=True).map(repr), st.sampled_from(
            ["0", "-1", "1", "1.0000001", "20", "20.5", "1e-300", "1e300", "x", "", "1,2",
             "1/4..4", "1..1e300"])))
    return flag, draw(flag_value(integers[flag]))


def run_with_stubbed_work(command, arguments):
    """(exit code, stderr) of `ata-jax COMMAND ARGUMENTS` with its work stubbed out (None
    for the code when the work started); it must end within seconds."""
    stderr, stdout = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    with mock.patch(WORK[command], side_effect=Started), \
            contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        try:
            code = main([command, *arguments])
        except Started:
            code = None
    assert time.perf_counter() - start < 20, arguments
    return code, stderr.getvalue()


@pytest.mark.parametrize("command", list(COMMAND_FLAGS))
@given(data=st.data())
@settings(deadline=None)
def test_numeric_flags_at_and_beyond_their_bounds(command, data):
    """Each run either starts (its work stubbed out) or is one line and exit 2, within
    seconds; nothing is a traceback."""
    flags = data.draw(st.lists(flag_and_value(command), min_size=1, max_size=3))
    arguments = ["--policies", "gta,ata,thompson"]
    for flag, value in flags:
        arguments += [f"{flag}={value}"]
    if not any(flag == "--seeds" for flag, _ in flags):
        arguments += ["--seeds", "2"]
    code, message = run_with_stubbed_work(command, arguments)
    assert "Traceback" not in message
    assert code in (None, 0, 2), (command, arguments, code, message)
    if code == 2:
        assert message.count("\n") == 1, (command, arguments, message)


@pytest.mark.parametrize("command", list(COMMAND_FLAGS))
def test_the_stubbed_work_is_reached_by_valid_flags(command):
    """The property above can tell a started run from a refused one: valid flags reach the
    stub, and a value out of range is one line."""
    assert run_with_stubbed_work(command, ["--seeds", "2", "--spread", "0.5"]) == (None, "")
    code, message = run_with_stubbed_work(command, ["--spread", "1e300"])
    assert code == 2 and message.count("\n") == 1 and "spread" in message, message
