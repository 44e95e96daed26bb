"""The benchmark script runs every section (tiny sizes) and prints a full table for each:
every expected row, with finite, positive measurements that agree with each other."""

import math
import pathlib
import re

import pytest

from conftest import run_benchmark_smoke

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "benchmark.py"

NUMBER = r"(-?[\d,]+(?:\.\d+)?)"  # as printed: 12,345 or 0.123 (nan and inf do not match)

# What --smoke runs (benchmarks/benchmark.py, SIZES["smoke"] and the sections' smoke settings)
THROUGHPUT_ROWS = {(9, "ata-empirical"), (9, "gta")}
MEMORY_ROWS = {("gta", 10), ("gta", 100)}
SCALING_ROWS = {("K", 5, 4, 50), ("S", 5, 40, 5), ("n", 49, 4, 5)}
PROFILE_PARTS = 6
BREAKDOWN_REMOVED = ["", "allocation", "scores", "observation"]


def number(text):
    value = float(text.replace(",", ""))
    assert math.isfinite(value), text
    return value


HEADINGS = ("Throughput", "Memory", "Scaling", "Where a round's time goes",
            "Inside a simulated round")


def sections(stdout):
    """{heading: [row lines]}: each '## ' section's lines after its column header, named by
    the one of HEADINGS its heading starts with."""
    found = {}
    for block in stdout.split("\n## ")[1:]:
        heading, _columns, *rows = block.strip("\n").splitlines()
        names = [name for name in HEADINGS if heading.startswith(name)]
        assert len(names) == 1 and names[0] not in found, heading
        found[names[0]] = [row for row in rows if row.strip()]
    return found


def matched_rows(rows, pattern):
    """The groups of each row, all of which must match `pattern` in full."""
    groups = []
    for row in rows:
        match = re.fullmatch(pattern, row.strip())
        assert match, (pattern, row)
        groups.append(match.groups())
    return groups


@pytest.mark.slow
def test_benchmark_smoke_run_prints_every_section():
    stdout = run_benchmark_smoke("benchmark.py")
    assert stdout.startswith("machine: ")
    tables = sections(stdout)
    assert set(tables) == set(HEADINGS), tables

    throughput = {}
    for n, policy, jax_rate, numpy_rate, ratio, rival, rival_ratio, compile_s in matched_rows(
            tables["Throughput"], rf"(\d+) ([a-z-]+) +{NUMBER} +{NUMBER} +{NUMBER}x"
                                  rf" +{NUMBER} +{NUMBER}x +{NUMBER} +\(8, 8\)"):
        jax_rate, numpy_rate, ratio = number(jax_rate), number(numpy_rate), number(ratio)
        assert jax_rate > 0 and numpy_rate > 0 and number(compile_s) >= 0
        assert ratio == pytest.approx(jax_rate / numpy_rate, abs=0.051, rel=0.01)
        assert number(rival_ratio) == pytest.approx(jax_rate / number(rival), abs=0.006,
                                                    rel=0.01)  # numba: a test dependency
        throughput[int(n), policy] = ratio
    assert set(throughput) == THROUGHPUT_ROWS

    memory = matched_rows(tables["Memory"],
                          rf"([a-z-]+) +{NUMBER} +{NUMBER} +{NUMBER} +{NUMBER}")
    assert {(policy, int(number(rounds))) for policy, rounds, *_ in memory} == MEMORY_ROWS
    assert all(number(megabytes) >= 0 for row in memory for megabytes in row[2:])
    assert len(memory) == len(MEMORY_ROWS)

    scaling = matched_rows(tables["Scaling"], rf"([KSn]) +(\d+) +(\d+) +(\d+) +{NUMBER}")
    assert {(label, int(n), int(s), int(k)) for label, n, s, k, _ in scaling} == SCALING_ROWS
    assert len(scaling) == len(SCALING_ROWS) and all(number(row[-1]) > 0 for row in scaling)

    profile = matched_rows(tables["Where a round's time goes"], rf"9 (.+?) +{NUMBER}")
    assert len({part for part, _ in profile}) == len(profile) == PROFILE_PARTS
    assert all(number(microseconds) > 0 for _, microseconds in profile)

    breakdown = matched_rows(tables["Inside a simulated round"],
                             rf"9 (.+?) +{NUMBER}(?: +([a-z]+) {NUMBER})?")
    assert [removed or "" for _, _, removed, _ in breakdown] == BREAKDOWN_REMOVED
    costs = [number(cost) for _, cost, _, _ in breakdown]
    assert all(cost > 0 for cost in costs)
    for previous, (_, cost, removed, difference) in zip(costs, breakdown[1:]):
        # each row's "the part left out costs" is the previous row's time minus its own
        assert number(difference) == pytest.approx(previous - number(cost), abs=0.0015)
