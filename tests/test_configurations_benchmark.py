"""The configurations benchmark runs at its smoke size and prints one finite, positive rate
and ratio per policy."""

import os
import pathlib
import subprocess
import sys

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "configurations.py"


@pytest.mark.slow
def test_configurations_benchmark_smoke_run_prints_its_ratios():
    environment = {key: value for key, value in os.environ.items() if key != "XLA_FLAGS"}
    result = subprocess.run([sys.executable, str(SCRIPT), "--smoke"], capture_output=True,
                            text=True, env=environment, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert any(line.startswith("## Configurations against seeds") for line in lines)
    rows = {line.split()[0]: line.split()[1:] for line in lines
            if line.split() and line.split()[0] in ("ata-empirical", "gta")}
    assert set(rows) == {"ata-empirical", "gta"}
    for seeds_rate, cluster_rate, ratio in rows.values():
        seeds_rate, cluster_rate = (float(value.replace(",", ""))
                                    for value in (seeds_rate, cluster_rate))
        assert seeds_rate > 0 and cluster_rate > 0
        assert float(ratio) == pytest.approx(cluster_rate / seeds_rate, abs=0.006)
