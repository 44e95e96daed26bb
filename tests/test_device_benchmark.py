"""`benchmarks/device.py --smoke` runs on the CPU and prints its header and one line per
(policy, n, solver, seeds) with positive timings."""

import pytest

from conftest import run_benchmark_smoke


@pytest.mark.slow
def test_device_benchmark_smoke_run():
    lines = run_benchmark_smoke("device.py").splitlines()
    assert lines[0].startswith("jax ") and "jaxlib" in lines[0]
    assert lines[1].startswith("device: ") and lines[2].startswith("XLA_FLAGS=")
    rows = [line.split() for line in lines if line.split()[:1] in (["ata-empirical"], ["gta"])]
    assert len(rows) == 2 * 2  # policies x solvers, one n and one seed count
    for policy, workers, solver, seeds, compile_s, run_s, rate, peak in rows:
        assert solver in ("cpu", "portable") and int(workers) == 9
        assert float(compile_s) > 0 and float(run_s) > 0 and float(rate.replace(",", "")) > 0
