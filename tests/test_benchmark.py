"""The benchmark script runs every section (tiny sizes) and prints its tables."""

import os
import pathlib
import subprocess
import sys

SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "benchmarks" / "benchmark.py"


def test_benchmark_smoke_run_prints_every_section():
    environment = {key: value for key, value in os.environ.items() if key != "XLA_FLAGS"}
    result = subprocess.run([sys.executable, str(SCRIPT), "--smoke"], capture_output=True,
                            text=True, env=environment, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    for heading in ("## Throughput", "## Memory", "## Scaling", "## Where a round's time goes",
                    "## Inside a simulated round"):
        assert heading in result.stdout
    assert "ata-empirical" in result.stdout and "x" in result.stdout
