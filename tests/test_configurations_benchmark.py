"""The configurations benchmark runs at its smoke size and prints, per policy, finite
positive rates and their two ratios (copies over seeds, clusters over clusters alone), then
the mixed-n batch's seconds against the separate runs'."""

import pytest

from conftest import run_benchmark_smoke


@pytest.mark.slow
def test_configurations_benchmark_smoke_run_prints_its_ratios():
    sections = run_benchmark_smoke("configurations.py").split("\n## ")
    assert sections[1].startswith("Configurations against seeds")
    assert sections[2].startswith("Mixed n in one batch")
    for section in sections[1:]:
        rows = {line.split()[0]: line.split()[1:] for line in section.splitlines()
                if line.split() and line.split()[0] in ("ata-empirical", "gta")}
        assert set(rows) == {"ata-empirical", "gta"}
        for values in rows.values():
            if section is sections[1]:  # rates: copies over seeds, clusters over alone
                numbers = [float(value.replace(",", "")) for value in values]
                assert len(numbers) == 6 and all(number > 0 for number in numbers)
                for first, second, ratio in (numbers[:3], numbers[3:]):
                    assert ratio == pytest.approx(second / first, abs=0.006)
                continue
            first, second, ratio, *compiles = values
            first, second = (float(value.replace(",", "")) for value in (first, second))
            assert first > 0 and second > 0
            # seconds: separately over together, and the compile seconds of each
            assert float(ratio) == pytest.approx(first / second, rel=0.02, abs=0.006)
            assert float(compiles[0]) > 0 and float(compiles[2]) > 0
